"""The checked-in API snapshot: round trips, says how to regenerate itself, and matches the cached table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matrix.errors import UserError
from matrix.offline import api_snapshot, api_surface, wheels
from matrix.offline.api_surface import ApiTable, ReleaseSurface


@given(st.sets(st.integers(min_value=0, max_value=40)))
def test_spans_round_trip(indices: set[int]) -> None:
    assert api_snapshot._indices(api_snapshot._spans(indices)) == frozenset(indices)


def test_from_table_write_load_round_trip(tmp_path: Path) -> None:
    table = ApiTable(
        interpreter="cp311-x86_64",
        releases=(
            ReleaseSurface(release="8.5.1", introspected=False, reason="no wheel"),
            ReleaseSurface(
                release="8.6.1",
                introspected=True,
                kinds=(("Builder", "class"), ("Builder.build_engine", "method")),
                notes=(("Builder.build_engine", "[DEPRECATED] Deprecated in TensorRT 8.6", "doc"),),
            ),
            ReleaseSurface(release="10.0.1", introspected=True, kinds=(("Builder", "class"),)),
        ),
    )
    path = tmp_path / "snap.json"
    api_snapshot.write(api_snapshot.from_table(table), path)
    snap = api_snapshot.load(path)
    assert snap.releases == ("8.6.1", "10.0.1")
    assert snap.has("8.6.1", "Builder.build_engine") and not snap.has("10.0.1", "Builder.build_engine")
    assert snap.is_deprecated("8.6.1", "Builder.build_engine")
    assert snap.notes["Builder.build_engine"].startswith("[DEPRECATED]")
    assert "trt-matrix api --write-snapshot" in json.loads(path.read_text())["_generated"]


def test_a_broken_snapshot_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "snap.json"
    path.write_text('{"format": 99}')
    with pytest.raises(UserError, match="regenerate it with `trt-matrix api --write-snapshot`"):
        api_snapshot.load(path)


def test_checked_in_snapshot_covers_8_6_to_11() -> None:
    snap = api_snapshot.load()
    assert snap.releases[0] == "8.6.1" and snap.releases[-1].startswith("11.")
    assert snap.has("8.6.1", "IExecutionContext.execute_async_v2")
    assert not snap.has("10.0.1", "IExecutionContext.execute_async_v2")
    assert not any(snap.has(r, "BuilderFlag.INT8") for r in snap.releases if r.startswith("11."))


def test_checked_in_snapshot_matches_the_cached_introspection() -> None:
    """Every release the cache holds (same introspection script) has exactly the snapshot's names."""
    snap = api_snapshot.load()
    folder = wheels.cache_dir() / "surface"
    compared = 0
    for release in snap.releases:
        pattern = f"{release}-{wheels.interpreter_tag()}-*-{api_surface._script_key()}.json"
        cached = sorted(folder.glob(pattern))
        if not cached:
            continue
        names = json.loads(cached[-1].read_text(encoding="utf-8"))["names"]
        index = snap.releases.index(release)
        assert {n for n, idx in snap.present.items() if index in idx} == set(names), release
        compared += 1
    if not compared:
        pytest.skip(f"no cached introspection in {folder} (run `trt-matrix api` once to compare)")
