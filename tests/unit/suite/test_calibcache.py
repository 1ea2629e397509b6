"""Calibration caches in TensorRT's text format: version codes, parse, write, round trip, refusals (3.8)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matrix.suite import calibcache

# A cache as TensorRT 8.6.1 writes one for an ONNX model (tensor names from the ONNX graph); the
# scales are this test's own numbers: 1/127 for an input in [-1, 1], and a few activations.
CACHE_8601 = (
    b"TRT-8601-EntropyCalibration2\n"
    b"input0: 3c010204\n"
    b"body.stage1.0.conv: 3d2f1b5e\n"
    b"(Unnamed Layer* 12) [Shuffle]_output: 3e4ccccd\n"
    b"loc: 3f800000\n"
)


@pytest.mark.parametrize(
    ("version", "code"),
    [
        ("8.4.3", 8403),
        ("8.5.10.4", 8510),
        ("8.6.1.6", 8601),
        ("10.0.1", 100001),
        ("10.3.0.26", 100300),
        ("10.16.1.11", 101601),
    ],
)
def test_version_code_is_nv_tensorrt_version(version: str, code: int) -> None:
    # major*1000 + minor*100 + patch through 8.x; major*10000 + ... from 10.0 (NvInferVersion.h)
    assert calibcache.version_code(version) == code


def test_header_names_release_and_algorithm() -> None:
    assert calibcache.header_for("8.6.1", "entropy2") == "TRT-8601-EntropyCalibration2"
    assert calibcache.header_for("10.3.0", "minmax") == "TRT-100300-MinMaxCalibration"
    with pytest.raises(ValueError, match="not a TensorRT version"):
        calibcache.version_code("ten")


def test_parse_reads_header_names_and_float32_scales() -> None:
    cache = calibcache.parse(CACHE_8601)
    assert cache.header == "TRT-8601-EntropyCalibration2"
    assert cache.version_code == 8601 and cache.algorithm == "EntropyCalibration2"
    assert cache.tensors == ["input0", "body.stage1.0.conv", "(Unnamed Layer* 12) [Shuffle]_output", "loc"]
    scales = cache.scales()
    assert scales["input0"] == pytest.approx(1 / 127, rel=1e-6)  # 0x3c010204 is 1/127 in float32
    assert scales["loc"] == 1.0
    assert cache.dynamic_ranges()["input0"] == pytest.approx(1.0, rel=1e-6)
    summary = cache.summary()
    assert summary["tensors"] == 4 and summary["scale_max"] == 1.0


def test_write_of_a_tensorrt_cache_gives_back_the_same_bytes(tmp_path: Path) -> None:
    cache = calibcache.parse(CACHE_8601)
    assert calibcache.dumps(cache) == CACHE_8601
    path = tmp_path / "m.calib"
    calibcache.write(path, cache)
    assert path.read_bytes() == CACHE_8601
    assert calibcache.read(path) == cache
    assert not list(tmp_path.glob("*.tmp*"))  # written through a temporary file, renamed


def test_made_cache_round_trips_exact_float32_bits() -> None:
    values = {"a": 0.1, "b": 1e-30, "c": 3.4e38, "d": 0.0, "e": -2.5}
    cache = calibcache.make("TRT-100300-MinMaxCalibration", values)
    again = calibcache.parse(calibcache.dumps(cache))
    assert again == cache
    for name, value in values.items():
        assert again.scales()[name] == struct.unpack("<f", struct.pack("<f", value))[0]
    assert b"d: 00000000\n" in calibcache.dumps(cache)  # eight hex digits, as TensorRT writes them


def test_short_hex_and_crlf_are_read() -> None:
    cache = calibcache.parse("TRT-8601-EntropyCalibration2\r\nx: 0\r\ny: 3f800000\r\n")
    assert cache.scales() == {"x": 0.0, "y": 1.0}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"calibration\nx: 3f800000\n", "line 1 is 'calibration', not a header"),
        (b"TRT-8601-EntropyCalibration2\nx 3f800000\n", "line 2 is 'x 3f800000'"),
        (b"TRT-8601-EntropyCalibration2\nx: 3f8000001\n", "line 2"),
        (b"TRT-8601-EntropyCalibration2\nx: 3f800000\nx: 3f800000\n", "line 3: tensor 'x' appears twice"),
        (b"\xff\xfe", "not text"),
    ],
)
def test_anything_else_is_refused_with_the_line(data: bytes, message: str) -> None:
    with pytest.raises(calibcache.CacheFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        calibcache.parse(data, "m.calib")


def test_write_refuses_bytes_that_are_not_a_cache(tmp_path: Path) -> None:
    with pytest.raises(calibcache.CacheFormatError):
        calibcache.write(tmp_path / "bad.calib", b"not a cache\n")
    assert not (tmp_path / "bad.calib").exists()
    with pytest.raises(calibcache.CacheFormatError, match="cannot be written"):
        calibcache.make("TRT-8601-EntropyCalibration2", {"two\nlines": 1.0})


def test_compare_reports_header_coverage_and_scale_drift() -> None:
    a = calibcache.make("TRT-8601-EntropyCalibration2", {"x": 1.0, "y": 2.0, "only_a": 1.0})
    b = calibcache.make("TRT-100300-EntropyCalibration2", {"x": 1.0, "y": 3.0, "only_b": 1.0})
    diff = calibcache.compare(a, b)
    assert diff["same_header"] is False
    assert diff["only_producer"] == ["only_a"] and diff["only_consumer"] == ["only_b"]
    assert diff["common"] == 2 and diff["identical"] == 1
    assert diff["scale_ratio_min"] == 1.0 and diff["scale_ratio_max"] == 1.5


NAMES = st.text(alphabet=st.characters(codec="utf-8", blacklist_characters="\n\r"), min_size=1, max_size=40).filter(
    lambda s: s.strip() == s
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(NAMES, st.floats(width=32, allow_nan=False), max_size=20))
def test_any_names_and_scales_round_trip(scales: dict[str, float]) -> None:
    cache = calibcache.make("TRT-8601-EntropyCalibration2", scales)
    again = calibcache.parse(calibcache.dumps(cache))
    assert again == cache
    assert again.scales() == {k: float(v) for k, v in scales.items()}
