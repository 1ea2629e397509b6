"""Synthetic plan headers for the plan-file tests, laid out as plan-header.md describes real ones.

Only the header and section structure are real; the payload is filler. Runs on Python 3.8 (the suite's
tests are also run there). `fixture_dir()` finds ../shared/fixtures/engines, or returns None.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Sequence
from pathlib import Path

from matrix.suite.planfile import FTRT_END, PTRT_END, RECORD_CURRENT, RECORD_LEGACY

REPO = Path(__file__).resolve().parents[3]


def fixture_dir() -> Path | None:
    """The shared engine fixtures: $TRT_MATRIX_FIXTURES if set (only it), else ../shared/fixtures or
    /work/shared/fixtures."""
    candidates = [REPO.parent / "shared" / "fixtures", Path("/work/shared/fixtures")]
    if "TRT_MATRIX_FIXTURES" in os.environ:
        candidates = [Path(os.environ["TRT_MATRIX_FIXTURES"])]
    for base in candidates:
        if (base / "engines" / "EXPECTED.tsv").is_file():
            return base / "engines"
    return None


def expected_rows() -> list[dict[str, str]]:
    """EXPECTED.tsv as dicts (file, magic, serialization_tag, builder_version, platform)."""
    base = fixture_dir()
    if base is None:
        return []
    lines = (base / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    return [{name: row[i] for i, name in enumerate(header)} for row in rows]


def records(version: Sequence[int], kind: int = RECORD_CURRENT) -> bytes:
    return b"".join(struct.pack("<HHB", kind, 1, part) for part in version)


def ptrt_legacy(version: Sequence[int], tag: int, filler: int = 64, size_at: int = 0x0C) -> bytes:
    """A 6.0-8.0 plan: tag at 0x04, payload size as u64 at 0x0C (7.x) or 0x10 (8.0)."""
    payload = records(version, RECORD_LEGACY) + b"\x07" * filler
    if size_at == 0x0C:
        header = b"ptrt" + struct.pack("<IIQI", tag, 194, len(payload), 0xFBD41E91)
    else:
        header = b"ptrt" + struct.pack("<IIIQ", tag, 256, 0xA8A8561E, len(payload))
    return header + payload


def ptrt_current(version: Sequence[int], tag: int, safety: int = 0, filler: int = 64, marker: bool = True) -> bytes:
    """An 8.2+ plan (and the 24-byte ENGN plan of 8.6-10.3): safety tag at 0x04, tag at 0x08."""
    payload = records(version) + b"\x12" * filler + (struct.pack("<I", PTRT_END) if marker else b"")
    return b"ptrt" + struct.pack("<IIIQ", safety, tag, 0, len(payload)) + payload


def ptrt_compact(version: Sequence[int], tag: int, filler: int = 64) -> bytes:
    """The 20-byte-header ENGN plan seen on 10.6 and 10.15: tag at 0x04, size at 0x08."""
    payload = records(version) + b"\x12" * filler + struct.pack("<I", PTRT_END)
    return b"ptrt" + struct.pack("<IQ", tag, len(payload)) + b"\0\0\0\0" + payload


def ftrt(
    version: Sequence[int], sections: Sequence[tuple[str, bytes]], platform: bytes = b"rtrt", pad: int = 8
) -> bytes:
    """An ftrt container: header, section table (fourcc byte-reversed), sections, end marker."""
    table_end = 0x20 + 24 * len(sections)
    offsets, body, at = [], b"", table_end
    for _, data in sections:
        offsets.append(at)
        chunk = data + b"\0" * ((-len(data)) % pad)
        body += chunk
        at += len(chunk)
    total = at + 4
    header = b"ftrt" + struct.pack("<IIIQ", 0, len(sections), 0, total) + bytes(version) + platform
    table = b"".join(
        name.encode("ascii")[::-1] + struct.pack("<IQQ", 0, offsets[i], len(data))
        for i, (name, data) in enumerate(sections)
    )
    return header + table + body + struct.pack("<I", FTRT_END)


def wrapped(metadata: dict[str, object], plan: bytes) -> bytes:
    """Ultralytics' export: u32 length + JSON metadata + plan."""
    text = json.dumps(metadata).encode("utf-8")
    return struct.pack("<I", len(text)) + text + plan


def lfs_pointer(oid: str = "ab" * 32, size: int = 123456) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize {size}\n".encode()
