"""`trt-matrix api`: summary, grid and JSON output, exit codes; one run against the real wheels."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from matrix.cli import main
from matrix.errors import UserError
from matrix.offline import api_surface
from matrix.offline.api_surface import ApiTable, ReleaseSurface
from tests.unit.index_access import index_or_skip


def _surface(release: str, names: dict[str, str], deprecated: Sequence[str] = (), **extra: Any) -> ReleaseSurface:
    return ReleaseSurface(
        release=release,
        introspected=True,
        package="tensorrt-cu12-bindings",
        kinds=tuple(sorted(names.items())),
        notes=tuple((n, "[DEPRECATED] Deprecated in TensorRT 10.1.", "doc") for n in sorted(deprecated)),
        **extra,
    )


TABLE = ApiTable(
    interpreter="cp311-x86_64",
    releases=(
        ReleaseSurface(release="8.5.1", introspected=False, reason="not introspected: no wheel"),
        _surface(
            "8.6.1",
            {
                "ILayer": "class",
                "ILayer.precision": "property",
                "IConvolutionLayer": "class",
                "IConvolutionLayer.precision": "property",
                "Builder.build_engine": "method",
            },
            inherited=(("IConvolutionLayer.precision", "ILayer"),),
        ),
        _surface(
            "10.0.1",
            {
                "ILayer": "class",
                "IConvolutionLayer": "class",
                "IPluginV3": "class",
                "IPluginV3.destroy": "method",
                "BuilderFlag.INT8": "enum-member",
            },
            deprecated=["BuilderFlag.INT8"],
        ),
    ),
)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> list[Sequence[str]]:
    asked: list[Sequence[str]] = []

    def table(selection: Sequence[str] = (), **_: Any) -> ApiTable:
        asked.append(selection)
        return TABLE

    monkeypatch.setattr(api_surface, "surface_table", table)
    return asked


def test_summary_lists_releases_and_folded_changes(
    fake: list[Sequence[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api", "--releases", "trt85,trt86", "--releases", "10.0"]) == 0
    assert fake == [["trt85,trt86", "10.0"]]
    out = capsys.readouterr().out
    assert "8.5.1" in out and "not introspected: no wheel" in out
    assert "(first introspected)" in out
    assert "+ BuilderFlag.INT8, IPluginV3 (class, 1 member)" in out
    assert "- Builder.build_engine, ILayer.precision (+1 subclass)" in out
    assert "deprecated: BuilderFlag.INT8" in out


def test_json_maps_each_release_to_sorted_present_and_deprecated(
    fake: list[Sequence[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["api", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert list(data) == ["8.6.1", "10.0.1"]
    assert all(set(entry) == {"present", "deprecated"} for entry in data.values())
    assert data["10.0.1"]["present"] == sorted(data["10.0.1"]["present"])
    assert data["10.0.1"]["deprecated"] == ["BuilderFlag.INT8"]
    assert "not introspected, so not in the JSON: 8.5.1" in captured.err
    assert main(["api", "--json", "--details"]) == 0
    details = json.loads(capsys.readouterr().out)
    assert details["8.5.1"] == {
        "introspected": False,
        "reason": "not introspected: no wheel",
        "present": None,
        "deprecated": None,
    }
    assert main(["api", "--json", "--ids"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == ["trt86", "trt100"]
    assert main(["api", "--ids"]) == 2
    assert "--ids and --details go with --json" in capsys.readouterr().err


def test_names_grid_and_filter(fake: list[Sequence[str]], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["api", "--names", "BuilderFlag.*", "--names", "Builder.build_*"]) == 0
    out = capsys.readouterr().out
    assert "not introspected (no wheel): 8.5.1" in out
    assert [line.split() for line in out.splitlines() if line.startswith("Builder")] == [
        ["Builder.build_engine", "Y", "-"],
        ["BuilderFlag.INT8", "-", "D"],
    ]
    assert main(["api", "--json", "--names", "BuilderFlag.*"]) == 0
    assert json.loads(capsys.readouterr().out)["10.0.1"]["present"] == ["BuilderFlag.INT8"]
    assert main(["api", "--names", "Nothing*"]) == 2
    assert "no name in any release matches Nothing*" in capsys.readouterr().err


def test_a_failed_introspection_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    broken = ApiTable(
        interpreter="cp311-x86_64",
        releases=(ReleaseSurface(release="10.3.0", introspected=False, failed=True, reason="introspection failed: x"),),
    )
    monkeypatch.setattr(api_surface, "surface_table", lambda *a, **k: broken)
    assert main(["api"]) == 1
    assert "introspection failed for 10.3.0" in capsys.readouterr().err


def test_network_trouble_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def offline(*_: Any, **__: Any) -> ApiTable:
        raise UserError(
            "release 10.3.0: cannot download tensorrt-cu12-bindings==10.3.0 from the package index "
            "(Max retries exceeded); check the network or pip's proxy settings"
        )

    monkeypatch.setattr(api_surface, "surface_table", offline)
    assert main(["api"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "trt-matrix: error: release 10.3.0: cannot download tensorrt-cu12-bindings==10.3.0 from the package "
        "index (Max retries exceeded); check the network or pip's proxy settings"
    ]
    assert main(["api", "--jobs", "0"]) == 2


def test_real_run_for_catalogue_releases(capsys: pytest.CaptureFixture[str]) -> None:
    index_or_skip()
    assert main(["api", "--json", "--releases", "trt84,trt86,trt10,trt11"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert list(data) == ["8.6.1", "10.8.0.43", "11.4.0.106"]
    assert "not introspected, so not in the JSON: 8.4.1" in captured.err
    assert "IExecutionContext.execute_async_v2" in data["8.6.1"]["present"]
    assert "IExecutionContext.execute_async_v2" not in data["10.8.0.43"]["present"]
    assert (
        "BuilderFlag.INT8" in data["10.8.0.43"]["present"] and "BuilderFlag.INT8" not in data["11.4.0.106"]["present"]
    )
    assert "trt-matrix: api:" in captured.err  # progress goes to stderr
    assert main(["api", "--json", "--ids", "--releases", "trt84,trt86,trt10,trt11"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == ["trt86", "trt10", "trt11"]


def test_write_snapshot_stores_the_introspected_releases(
    fake: list[Sequence[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from matrix.offline import api_snapshot

    monkeypatch.setattr(api_snapshot, "SNAPSHOT_PATH", tmp_path / "snap.json")
    assert main(["api", "--write-snapshot"]) == 0
    snap = api_snapshot.load(tmp_path / "snap.json")
    assert snap.releases == tuple(s.release for s in TABLE.releases if s.introspected)
    assert "wrote" in capsys.readouterr().err
    assert main(["api", "--write-snapshot", "--releases", "10.8"]) == 2
    assert "--write-snapshot takes every release" in capsys.readouterr().err
