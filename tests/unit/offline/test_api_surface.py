"""The API-surface table: change arithmetic offline, then the real bindings against the research.

The research comparison reads ../shared/research/tensorrt-api-surface.json (skipped, saying so, when
absent) and the real wheels (cached; skipped when the package index is unreachable and nothing is
cached). It compares every name the research lists, in every release both introspected.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest

from matrix import catalogue
from matrix.errors import UserError
from matrix.offline import api_surface, wheels
from matrix.offline.api_surface import ApiTable, ReleaseSurface
from tests.unit.index_access import index_or_skip

RESEARCH = next(
    (
        p
        for p in (
            Path(__file__).resolve().parents[3].parent / "shared" / "research" / "tensorrt-api-surface.json",
            Path("/work/shared/research/tensorrt-api-surface.json"),
        )
        if p.is_file()
    ),
    None,
)


def _surface(release: str, names: dict[str, str], deprecated: tuple[str, ...] = ()) -> ReleaseSurface:
    return ReleaseSurface(
        release=release,
        introspected=True,
        package="tensorrt-cu12-bindings",
        kinds=tuple(sorted(names.items())),
        notes=tuple((n, "[DEPRECATED] x", "doc") for n in sorted(deprecated)),
    )


def test_changes_between_consecutive_introspected_releases() -> None:
    table = ApiTable(
        interpreter="cp311-x86_64",
        releases=(
            _surface(
                "8.6.1",
                {"Builder": "class", "Builder.build_engine": "method", "BuilderFlag.INT8": "enum-member"},
            ),
            ReleaseSurface(release="8.7.0", introspected=False, reason="no wheel"),
            _surface(
                "10.0.1",
                {"Builder": "class", "BuilderFlag.INT8": "enum-member", "IPluginV3": "class"},
                deprecated=("BuilderFlag.INT8",),
            ),
            _surface("11.0.0.114", {"Builder": "class", "IPluginV3": "class"}),
        ),
    )
    first, second = table.changes()
    assert (first.release, first.previous) == ("10.0.1", "8.6.1")
    assert first.added == ("IPluginV3",) and first.removed == ("Builder.build_engine",)
    assert first.newly_deprecated == ("BuilderFlag.INT8",)
    assert second.removed == ("BuilderFlag.INT8",) and second.no_longer_deprecated == ()
    assert table.cell("10.0.1", "BuilderFlag.INT8") == "D"
    assert table.cell("11.0.0.114", "BuilderFlag.INT8") == "-"
    assert table.cell("8.7.0", "Builder") is None
    report = api_surface.report_data(table)
    assert [r["release"] for r in report["releases"]] == ["8.6.1", "8.7.0", "10.0.1", "11.0.0.114"]
    assert report["releases"][1]["names"] is None and report["changes"][0]["added"] == ["IPluginV3"]
    json.dumps(report)
    data = table.to_json()
    assert list(data) == ["8.6.1", "10.0.1", "11.0.0.114"], "releases not introspected are left out"
    assert data["10.0.1"] == {
        "present": ["Builder", "BuilderFlag.INT8", "IPluginV3"],
        "deprecated": ["BuilderFlag.INT8"],
    }
    assert table.details()["8.7.0"] == {
        "introspected": False,
        "reason": "no wheel",
        "present": None,
        "deprecated": None,
    }
    by_id = table.to_json(catalogue.load().releases)
    assert list(by_id) == ["trt86", "trt100"], "trt10/trt11 name releases this table lacks"


def test_release_selection_by_id_version_prefix_and_series() -> None:
    index = [
        wheels.Release(version=v, package="p", candidates=(v,))
        for v in ("8.6.1", "10.0.1", "10.4.0", "10.8.0.43", "10.9.0.34", "11.4.0.106")
    ]
    releases = catalogue.load().releases
    chosen, missing = api_surface.select([], index, releases)
    assert [w.version for w in chosen] == [w.version for w in index] and missing == ["8.4.1", "8.5.1", "8.5.3"]
    chosen, missing = api_surface.select(["trt10,trt84", "11"], index, releases)
    assert [w.version for w in chosen] == ["10.8.0.43", "11.4.0.106"] and missing == ["8.4.1"]
    chosen, missing = api_surface.select(["10"], index, releases)
    assert [w.version for w in chosen] == ["10.0.1", "10.4.0", "10.8.0.43", "10.9.0.34"] and missing == []
    assert api_surface.select(["8.5"], index, releases) == ([], ["8.5.1", "8.5.3"])
    with pytest.raises(UserError, match=r"'12\.1' matches no release"):
        api_surface.select(["12.1"], index, releases)


@functools.cache
def _full_table() -> ApiTable:
    return api_surface.surface_table()


@pytest.fixture(scope="module")
def table() -> ApiTable:
    index_or_skip()
    return _full_table()


def test_real_bindings_cover_8_6_and_at_least_six_10_or_11_releases(table: ApiTable) -> None:
    done = [s for s in table.releases if s.introspected]
    assert "8.6.1" in {s.release for s in done}
    assert len([s for s in done if s.release.split(".")[0] in ("10", "11")]) >= 6
    for s in done:
        assert s.tensorrt_version.startswith(s.release.split(".post")[0][:4]), (s.release, s.tensorrt_version)
        assert len(s.present) > 1500
    for version in ("8.4.1", "8.5.1"):
        row = table.get(version)
        assert not row.introspected and "no compiled bindings" in row.reason
        assert table.details()[version]["present"] is None and version not in table.to_json()
    assert not [s.release for s in table.releases if s.failed]


def test_known_milestones_show_in_the_changes(table: ApiTable) -> None:
    by_release = {c.release: c for c in table.changes()}
    assert "Builder.build_engine" in by_release["10.0.1"].removed
    assert "IExecutionContext.execute_async_v2" in by_release["10.0.1"].removed
    assert "BuilderFlag.INT8" in by_release["11.0.0.114"].removed
    assert "Builder.build_engine_with_config" in by_release["10.6.0"].added
    for s in table.releases:
        if s.introspected:
            assert "IExecutionContext.execute_async_v3" in s.present
            assert "Builder.destroy" not in s.present


def _research_name(name: str) -> str:
    return name.replace(" (no-op, warns)", "").replace(" (python pkg)", "")


@pytest.mark.skipif(RESEARCH is None, reason="no ../shared/research/tensorrt-api-surface.json here")
def test_agrees_with_the_research_on_every_name_it_lists(table: ApiTable) -> None:
    assert RESEARCH is not None
    research: dict[str, Any] = json.loads(RESEARCH.read_text(encoding="utf-8"))
    ours = table.details()
    compared, releases = 0, 0
    for version, column in research["versions"].items():
        cells = column["names"]
        if not all(c["method"] == "introspection" for c in cells.values()) or version not in ours:
            continue
        mine = ours[version]
        assert mine["introspected"], version
        releases += 1
        present, deprecated = set(mine["present"]), set(mine["deprecated"])
        for name, cell in cells.items():
            ours_name = _research_name(name)
            compared += 1
            assert (ours_name in present) == cell["present"], (version, name)
            if cell.get("deprecation_doc"):
                assert ours_name in deprecated, (
                    version,
                    name,
                    "research read a deprecation in its docstring",
                )
            elif ours_name in deprecated:
                # We also read the `:ivar name:` lines of class docstrings; the research did not.
                assert mine["deprecation_notes"][ours_name]["source"] == "ivar", (version, name)
    assert releases >= 20 and compared >= 20 * 100
