"""`trt-matrix diff`: exactly the planted regressions and fixes, and the exit codes CI relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matrix.cli import main
from matrix.report import diff, expectations
from matrix.suite import cells
from matrix.suite.expect import apply_all
from matrix.suite.schema import CellResult, LogLine
from tests.unit.report.sample_runs import record, three_release_run, write_run

FAILING = "serialize:trt86>trt86:yolov5s:fp16:onnx"
CRASHING = "execute:trt10>trt10:scrfd-500m:fp32:execute_v2"
TIMING_OUT = "int8:trt86>trt86:scrfd-500m:int8:minmax"
FIXED = "execute:trt10>trt10:retinaface-mnet:fp16:execute_async_v3"
CRASH_FIXED = "execute:trt86>trt86:scrfd-500m:fp16:thread-no-context"
XFAIL_PASSES = "int8:trt86>trt86:retinaface-mnet:int8:decode-plugin"
XFAIL_CHANGED = "destroy-order:trt86>trt86:-:fp32:cpp-builder-first"
INFRA = "exchange:trt10>trt86:-:-:artifacts"
GONE = "toolchain:trt11>trt11:-:-:version"
NEW_PASS = "serialize:trt86>trt86:retinaface-r50:fp32:onnx"
NEW_FAIL = "serialize:trt86>trt86:retinaface-r50:fp32:netdef"


def planted() -> tuple[list[CellResult], list[CellResult]]:
    old = three_release_run()
    by_id = {r.cell_id: r for r in old}
    new = []
    for r in old:
        if r.cell_id == GONE or (r.check == "int8-cache" and r.consumer == "trt10"):
            continue
        change: dict[str, object] = {"run_id": "nightly-2026-11-21"}
        if r.cell_id == FAILING:
            change.update(status="fail", reason="build_serialized_network returned None")
        elif r.cell_id == CRASHING:
            change.update(status="crash", signal="SIGABRT", reason="abort()")
        elif r.cell_id == TIMING_OUT:
            change.update(status="timeout", reason="killed after 600 s")
        elif r.cell_id in (FIXED, CRASH_FIXED, XFAIL_PASSES):
            change.update(status="pass", reason="", log=(), signal=None)
        elif r.cell_id == XFAIL_CHANGED:
            change.update(log=(LogLine("error", "free(): invalid pointer"),))
        elif r.cell_id == INFRA:
            change.update(status="infra_error", reason="docker: no space left on device")
        new.append(r.replace(**change))
    for cell_id, status in ((NEW_PASS, "pass"), (NEW_FAIL, "fail")):
        new.append(record(cells.Cell.from_id(cell_id), status, run_id="nightly-2026-11-21"))
    assert by_id[XFAIL_PASSES].status == "fail" and by_id[CRASH_FIXED].status == "crash"
    return old, new


def applied(records: list[CellResult]) -> list[CellResult]:
    return apply_all(records, expectations.load())


def test_diff_lists_exactly_the_planted_changes() -> None:
    old, new = planted()
    d = diff.compare(applied(old), applied(new))
    assert {c.cell_id for c in d.newly_failing} == {FAILING, XFAIL_CHANGED, NEW_FAIL}
    assert {c.cell_id for c in d.newly_crashing} == {CRASHING}
    assert {c.cell_id for c in d.newly_timing_out} == {TIMING_OUT}
    assert {c.cell_id for c in d.newly_passing} == {FIXED, CRASH_FIXED, XFAIL_PASSES}
    assert {c.cell_id for c in d.new_infra_errors} == {INFRA}
    stale = {GONE} | {r.cell_id for r in old if r.check == "int8-cache" and r.consumer == "trt10"}
    assert set(d.stale) == stale and len(stale) == 7
    assert set(d.new_cells) == {NEW_PASS, NEW_FAIL}
    assert {(b.id, b.why, b.cells) for b in d.expectations_broken} == {
        ("retinaface-int8-decode-plugin-scales", "its cells pass now", (XFAIL_PASSES,)),
        ("builder-destroyed-first", "it matched no record of the new run", (XFAIL_CHANGED,)),
    }
    changes = {c.cell_id: (c.old, c.new) for c in (*d.newly_failing, *d.newly_passing)}
    assert changes[XFAIL_CHANGED] == ("xfail", "fail")
    assert changes[NEW_FAIL] == ("absent", "fail")
    assert changes[XFAIL_PASSES] == ("xfail", "xpass")
    assert d.regressed


def test_the_same_run_twice_has_no_changes() -> None:
    old = applied(three_release_run())
    d = diff.compare(old, old)
    assert d.to_json() | {"old_cells": 0, "new_cells_total": 0} == diff.compare([], []).to_json()
    assert not d.regressed


def test_cli_exit_codes_and_outputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = planted()
    old_dir, new_dir = write_run(old, tmp_path / "old"), write_run(new, tmp_path / "new")
    assert main(["diff", str(old_dir), str(new_dir)]) == 1
    out = capsys.readouterr().out
    assert f"NEWLY-CRASHING {CRASHING} (pass -> crash)" in out
    assert "EXPECTATION-NO-LONGER-HOLDS retinaface-int8-decode-plugin-scales" in out
    assert out.strip().splitlines()[-1].startswith("diff: REGRESSED: 3 newly failing, 1 newly crashing")

    assert main(["diff", str(old_dir), str(new_dir), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["regressed"] is True and {c["cell_id"] for c in data["newly_timing_out"]} == {TIMING_OUT}

    # only fixes, stale cells and an infrastructure error: no regression, exit 0
    fixes_only = [r for r in new if r.cell_id not in (FAILING, CRASHING, TIMING_OUT, XFAIL_CHANGED, NEW_FAIL)]
    assert main(["diff", str(old_dir), str(write_run(fixes_only, tmp_path / "fixes"))]) == 0
    assert "diff: no new regressions" in capsys.readouterr().out

    # a report's results.json is accepted as either side
    assert main(["report", str(old_dir), "--out", str(tmp_path / "rep")]) == 0
    capsys.readouterr()
    assert main(["diff", str(tmp_path / "rep" / "results.json"), str(old_dir)]) == 0
    assert "0 newly failing" in capsys.readouterr().out


def test_cli_bad_input_is_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old_dir = write_run(three_release_run(), tmp_path / "old")
    assert main(["diff", str(old_dir), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trt-matrix: error: ") and "missing" in err and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    assert main(["diff", str(old_dir), str(tmp_path / "empty")]) == 2
    assert "no result records" in capsys.readouterr().err
    (tmp_path / "x.json").write_text('{"schema": "something-else"}', encoding="utf-8")
    assert main(["diff", str(tmp_path / "x.json"), str(old_dir)]) == 2
    assert "expected 'trt-matrix.results/1'" in capsys.readouterr().err
