"""The exit status of `run --self-test`: the clean double does not show TensorRT's seed bugs (their XPASS
is not a broken harness), an injected scenario's cells must show it, and anything else broken counts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from matrix.commands.run import _broken
from matrix.suite.resultfile import ResultWriter
from matrix.suite.schema import CellResult
from tests.unit.records import cell_record

PLUGIN = "int8:trt86>trt86:retinaface-mnet:int8:decode-plugin"
SCALES = (
    "2: [pluginV2Runner.cpp::getInputHostScale::88] Error Code 2: Internal Error "
    "(Assertion scales.size() == 1 failed. )"
)


def record(cell_id: str, status: str, log: tuple[str, ...] = ()) -> CellResult:
    reason = "" if status == "pass" else "as the double showed it"
    return cell_record(cell_id, status, reason=reason, log=log, run_id="st", bom={"tensorrt_double": "8.6.1"})


def summary(tmp: Path, *records: CellResult) -> SimpleNamespace:
    writer = ResultWriter(tmp / "trt86.p1.jsonl")
    for r in records:
        writer.write(r)
    return SimpleNamespace(broken=1, results_dir=tmp)


def test_a_known_bug_the_clean_double_does_not_show_is_not_a_broken_self_test(tmp_path: Path) -> None:
    s = summary(tmp_path, record(PLUGIN, "pass"))
    assert _broken(s) == 1  # a real run: an XPASS is loud and breaks the run
    assert _broken(s, (), self_test=True) == 0


def test_an_injected_scenario_must_show(tmp_path: Path) -> None:
    clean = summary(tmp_path / "a", record(PLUGIN, "pass"))
    assert _broken(clean, ("retinaface-int8-scales",), self_test=True) == 1  # asked for, not shown
    shown = summary(tmp_path / "b", record(PLUGIN, "fail", (SCALES,)))
    assert _broken(shown, ("retinaface-int8-scales",), self_test=True) == 0


def test_other_failures_still_break_a_self_test(tmp_path: Path) -> None:
    s = summary(tmp_path, record("serialize:trt86>trt86:yolov5s:fp32:onnx", "fail", ("something else",)))
    assert _broken(s, ("retinaface-int8-scales",), self_test=True) == 1
