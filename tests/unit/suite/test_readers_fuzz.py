"""Fuzzing the in-image readers: log_patterns.json (`classify.load`: PatternsError) and calibration
caches (`calibcache.parse`: CacheFormatError). Each yields its value or its documented error, one line
naming the file, nothing else. The patterns are the real file damaged at any level; the cache is a
TensorRT-written one, cut at every byte and damaged by random bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from matrix.suite import calibcache, classify
from tests.unit.fuzzing import FUZZ, damaged, mutated
from tests.unit.suite.test_calibcache import CACHE_8601

PATTERNS = json.loads(classify.PATTERNS_FILE.read_text(encoding="utf-8"))
PATTERNS["patterns"] = PATTERNS["patterns"][:3]


def _one_line_naming(exc: Exception, name: str) -> None:
    assert name in str(exc) and "\n" not in str(exc), str(exc)


@FUZZ
@given(doc=mutated(PATTERNS))
def test_log_patterns_json(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "log_patterns.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    try:
        loaded = classify.load(path)
    except classify.PatternsError as exc:
        assert type(exc) is classify.PatternsError
        _one_line_naming(exc, str(path))
    else:
        assert all(p.id and p.meaning and p.citation for p in loaded)
        for pattern in loaded:  # each compiled and usable by classify()
            pattern.regex.search("Version tag does not match")


@FUZZ
@given(data=damaged(json.dumps(PATTERNS).encode("utf-8")))
def test_log_patterns_bytes(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "log_patterns.json"
    path.write_bytes(data)
    try:
        classify.load(path)
    except classify.PatternsError as exc:
        assert type(exc) is classify.PatternsError
        _one_line_naming(exc, str(path))


def test_calibration_cache_cut_at_every_byte() -> None:
    refused = 0
    for end in range(len(CACHE_8601)):
        try:
            cache = calibcache.parse(CACHE_8601[:end], "m.calib")
        except calibcache.CacheFormatError as exc:
            assert type(exc) is calibcache.CacheFormatError
            _one_line_naming(exc, "m.calib")
            refused += 1
        else:
            assert calibcache.parse(calibcache.dumps(cache)).header == cache.header
    assert refused > 0


_lines = st.sampled_from(CACHE_8601.decode().splitlines())


@FUZZ
@given(
    data=st.one_of(
        damaged(CACHE_8601),
        st.lists(st.one_of(_lines, st.text(max_size=40)), max_size=6).map(lambda ls: "\n".join(ls).encode()),
    )
)
def test_calibration_cache_bytes(data: bytes) -> None:
    """Damaged bytes, and real lines shuffled with random text (duplicates, headers out of place)."""
    try:
        cache = calibcache.parse(data, "m.calib")
    except calibcache.CacheFormatError as exc:
        assert type(exc) is calibcache.CacheFormatError
        _one_line_naming(exc, "m.calib")
    else:
        cache.summary()
        assert calibcache.parse(calibcache.dumps(cache)) == cache
