"""TensorRT INT8 calibration cache files: parse, write, compare. Python 3.8, standard library only.

Contract: the format is TensorRT's own text format, as NVIDIA's calibrators write it and as ONNX
Runtime's TensorRT provider reads it (microsoft/onnxruntime,
onnxruntime/core/providers/tensorrt/tensorrt_execution_provider_utils.h, `ReadDynamicRange`: "tensor
name : scale in 32-bit single precision IEEE754 format", e.g. `TRT-7103-EntropyCalibration2` then
`data_0: 4000889d`). A header line `TRT-<version code>-<algorithm>` (the code is NV_TENSORRT_VERSION:
major*1000 + minor*100 + patch up to 8.x, major*10000 + minor*100 + patch from 10.0, so 8.6.1 ->
8601 and 10.3.0 -> 100300), then one `tensor name: hex` line per tensor, the hex being the big-endian
bits of the float32 scale (8 digits as TensorRT writes them; fewer are read). `parse` refuses anything
else with `CacheFormatError` naming the line; `dumps(parse(x)) == x` for TensorRT-written files.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import struct
from pathlib import Path
from typing import Mapping

# calibrator -> the algorithm word in the header (IInt8*Calibrator.get_algorithm() in the cache)
ALGORITHMS = {
    "entropy2": "EntropyCalibration2",
    "entropy": "EntropyCalibration",
    "minmax": "MinMaxCalibration",
    "legacy": "LegacyCalibration",
}
_HEADER = re.compile(r"^TRT-(\d+)-([A-Za-z0-9]+)$")
_LINE = re.compile(r"^(.+): ([0-9A-Fa-f]{1,8})$")


class CacheFormatError(ValueError):
    """Not a TensorRT calibration cache; the message names the line and what is wrong with it."""


@dataclasses.dataclass(frozen=True)
class CalibrationCache:
    """A parsed cache: the header and each tensor's scale as the exact float32 bits, in file order."""

    header: str
    bits: tuple[tuple[str, int], ...]

    @property
    def version_code(self) -> int | None:
        m = _HEADER.match(self.header)
        return int(m.group(1)) if m else None

    @property
    def algorithm(self) -> str | None:
        m = _HEADER.match(self.header)
        return m.group(2) if m else None

    @property
    def tensors(self) -> list[str]:
        return [name for name, _ in self.bits]

    def scales(self) -> dict[str, float]:
        return {name: bits_to_float(b) for name, b in self.bits}

    def dynamic_ranges(self) -> dict[str, float]:
        """scale x 127: the |max| each tensor maps to (what set_dynamic_range takes)."""
        return {name: s * 127.0 for name, s in self.scales().items()}

    def summary(self) -> dict[str, object]:
        scales = [s for s in self.scales().values() if math.isfinite(s)]
        return {
            "header": self.header,
            "version_code": self.version_code,
            "algorithm": self.algorithm,
            "tensors": len(self.bits),
            "scale_min": min(scales) if scales else None,
            "scale_max": max(scales) if scales else None,
        }


def float_to_bits(value: float) -> int:
    bits: int = struct.unpack(">I", struct.pack(">f", value))[0]
    return bits


def bits_to_float(bits: int) -> float:
    value: float = struct.unpack(">f", struct.pack(">I", bits & 0xFFFFFFFF))[0]
    return value


def version_code(version: str) -> int:
    """NV_TENSORRT_VERSION for a release string: '8.6.1.6' -> 8601, '10.3.0' -> 100300."""
    parts = re.findall(r"\d+", version)
    if len(parts) < 3:
        raise ValueError(f"not a TensorRT version: {version!r} (expected major.minor.patch)")
    major, minor, patch = (int(p) for p in parts[:3])
    return major * (10000 if major >= 10 else 1000) + minor * 100 + patch


def header_for(version: str, algorithm: str) -> str:
    """'TRT-8601-EntropyCalibration2' for ('8.6.1', 'entropy2')."""
    word = ALGORITHMS.get(algorithm, algorithm)
    return f"TRT-{version_code(version)}-{word}"


def make(header: str, scales: Mapping[str, float]) -> CalibrationCache:
    for name in scales:
        _check_name(name, 0)
    return CalibrationCache(header, tuple((name, float_to_bits(float(s))) for name, s in scales.items()))


def _check_name(name: str, lineno: int) -> None:
    if not name or "\n" in name or name != name.strip("\r"):
        where = f"line {lineno}: " if lineno else ""
        raise CacheFormatError(f"{where}tensor name {name!r} cannot be written in a calibration cache")


def parse(data: bytes | str, source: str = "calibration cache") -> CalibrationCache:
    """A cache from its bytes; CacheFormatError names the first line that is not TensorRT's format."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CacheFormatError(f"{source}: not text ({exc})") from None
    else:
        text = data
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise CacheFormatError(f"{source}: empty (a cache starts with a header such as TRT-8601-EntropyCalibration2)")
    header = lines[0].rstrip("\r")
    if not _HEADER.match(header):
        raise CacheFormatError(
            f"{source}: line 1 is {header[:80]!r}, not a header TRT-<version>-<algorithm> "
            "(e.g. TRT-8601-EntropyCalibration2)"
        )
    seen = set()
    entries = []
    for lineno, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r")
        m = _LINE.match(line)
        if m is None:
            raise CacheFormatError(f"{source}: line {lineno} is {line[:80]!r}, not 'tensor name: hex float32'")
        name, digits = m.group(1), m.group(2)
        if name in seen:
            raise CacheFormatError(f"{source}: line {lineno}: tensor {name!r} appears twice")
        seen.add(name)
        entries.append((name, int(digits, 16)))
    return CalibrationCache(header, tuple(entries))


def dumps(cache: CalibrationCache) -> bytes:
    lines = [cache.header] + [f"{name}: {bits:08x}" for name, bits in cache.bits]
    return ("\n".join(lines) + "\n").encode("utf-8")


def read(path: str | Path) -> CalibrationCache:
    p = Path(path)
    return parse(p.read_bytes(), str(p))


def write(path: str | Path, cache: CalibrationCache | bytes) -> None:
    """Atomically (a temporary file, then a rename); bytes are checked to be a cache first."""
    data = cache if isinstance(cache, bytes) else dumps(cache)
    if isinstance(cache, bytes):
        parse(data, str(path))
    p = Path(path)
    tmp = p.with_name(p.name + f".tmp{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, p)


def compare(producer: CalibrationCache, consumer: CalibrationCache) -> dict[str, object]:
    """How two caches of the same model differ: header, tensors only in one, scales that moved."""
    a, b = producer.scales(), consumer.scales()
    common = [n for n in a if n in b]
    ratios = [b[n] / a[n] for n in common if a[n] not in (0.0,) and math.isfinite(a[n]) and math.isfinite(b[n])]
    return {
        "same_header": producer.header == consumer.header,
        "only_producer": sorted(n for n in a if n not in b),
        "only_consumer": sorted(n for n in b if n not in a),
        "common": len(common),
        "identical": sum(1 for n in common if dict(producer.bits)[n] == dict(consumer.bits)[n]),
        "scale_ratio_min": min(ratios) if ratios else None,
        "scale_ratio_max": max(ratios) if ratios else None,
    }
