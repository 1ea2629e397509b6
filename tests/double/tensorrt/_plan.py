"""Plan bytes as the double writes and reads them: the release's real header, the double's own payload.

Header layouts follow ../shared/research/plan-header.md and matrix/offline/plan_facts.toml (magic,
serialization tag, builder-version records, ftrt container from 8.6). The payload after the header is
the double's (a marker, JSON metadata and the ONNX model): a plan real TensorRT built lacks the marker,
and the double refuses it rather than pretending to run it.
"""

from __future__ import annotations

import json
import struct
from typing import Any

MARKER = b"TRT-MATRIX-DOUBLE-PLAN\0"
FTRT_END = 0x8B8D8B99
PTRT_END = 0x8B8D8B8F
RECORD = 0x8002  # builder-version record type from 8.2 (plan-header.md)

# Serialization tag per series: plan_facts.toml [[tag]] rows. 10.2 and 10.10 have no row (their
# neighbours' tags are used, marked here as assumptions); 11.x plans have never been examined: 244 is
# one of the two tags third-party notes give for 11.x (plan-header.md), an assumption too.
TAGS = {"8.4": 213, "8.5": 232, "8.6": 236, "10.0": 237, "10.1": 237, "10.2": 237}
for _minor in range(3, 10):
    TAGS[f"10.{_minor}"] = 239
for _minor in range(10, 17):
    TAGS[f"10.{_minor}"] = 240
ASSUMED_TAGS = ("10.2", "10.10", "11")


def version_tuple(version: str) -> tuple[int, int, int, int]:
    parts = [int(p) for p in version.split(".")[:4] if p.isdigit()] + [0, 0, 0, 0]
    return (parts[0], parts[1], parts[2], parts[3])


def tag_of(version: str) -> int:
    major, minor = version.split(".")[:2]
    return TAGS.get(f"{major}.{minor}", 244 if major == "11" else 0)


def _records(version: str) -> bytes:
    return b"".join(struct.pack("<HHB", RECORD, 1, v) for v in version_tuple(version))


def _ptrt(version: str, body: bytes, inner: bool) -> bytes:
    major, minor = version_tuple(version)[:2]
    tail = struct.pack("<I", PTRT_END) if inner else b""
    payload = _records(version) + body + tail
    if (major, minor) >= (10, 6):  # compact-20: seen on 10.6 and 10.15 ENGN sections
        return b"ptrt" + struct.pack("<IQI", tag_of(version), len(payload), 0) + payload
    # safety-24 (8.2 on): safety tag 0 at 0x04, tag at 0x08, payload size at 0x10
    return b"ptrt" + struct.pack("<IIIQ", 0, tag_of(version), 0, len(payload)) + payload


def write(version: str, meta: dict[str, Any], onnx_bytes: bytes) -> bytes:
    meta_raw = json.dumps(meta, sort_keys=True).encode()
    body = MARKER + struct.pack("<II", len(meta_raw), len(onnx_bytes)) + meta_raw + onnx_bytes
    major, minor = version_tuple(version)[:2]
    if (major, minor) < (8, 6):
        return _ptrt(version, body, inner=False)
    engn = _ptrt(version, body, inner=True)
    platform = b"\0\0\0\0" if major == 8 else b"rtrt"  # plan-header.md PLATFORM_IDS evidence
    table_end = 0x20 + 24
    total = table_end + len(engn) + 4
    header = b"ftrt" + struct.pack("<IIIQ", 0, 1, 0, total) + bytes(version_tuple(version)) + platform
    table = b"NGNE" + struct.pack("<IQQ", 0, table_end, len(engn))
    return header + table + engn + struct.pack("<I", FTRT_END)


def read_payload(data: bytes) -> tuple[dict[str, Any], bytes] | None:
    """(metadata, onnx bytes) of a plan the double wrote, or None for any other bytes."""
    at = data.find(MARKER)
    if at < 0:
        return None
    at += len(MARKER)
    meta_len, onnx_len = struct.unpack("<II", data[at : at + 8])
    meta = json.loads(data[at + 8 : at + 8 + meta_len].decode())
    return meta, bytes(data[at + 8 + meta_len : at + 8 + meta_len + onnx_len])
