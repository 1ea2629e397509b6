"""tests/double/selftest.toml and matrix/run/selftest.py: the double's activation, the scenarios,
the marker, and the refusal to mix self-test records with real ones."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from matrix import catalogue
from matrix.errors import UserError
from matrix.report import expectations
from matrix.run import selftest
from matrix.suite import cells
from matrix.suite.classify import PATTERNS_FILE
from matrix.suite.schema import CellResult, LogLine

ROOT = Path(__file__).resolve().parents[3]
# The fault names the double implements (the contract with tests/double, issue 13).
DOUBLE_FAULTS = {
    "retinaface-destroy-order",
    "scrfd-v3-zeros",
    "yolov5-builder-destroy",
    "retinaface-int8-scales",
    "trtexec-python-mismatch",
    "thread-no-context",
    "crash",
    "hang",
    "oom",
}
SEEDS = ("retinaface-destroy-order", "scrfd-v3-zeros", "yolov5-builder-destroy", "retinaface-int8-scales",
         "trtexec-python-mismatch")  # fmt: skip


@pytest.fixture(scope="module")
def data() -> selftest.SelfTest:
    return selftest.load()


def test_scenarios_are_the_doubles_faults(data: selftest.SelfTest) -> None:
    assert set(data.names) == DOUBLE_FAULTS
    assert {f for s in data.scenarios for f in s.faults} <= DOUBLE_FAULTS
    assert set(SEEDS) <= set(data.names)


def test_every_seed_scenario_cites_and_fixes(data: selftest.SelfTest) -> None:
    known = {e.id for e in expectations.load(None)}
    patterns = {p["id"] for p in json.loads(PATTERNS_FILE.read_text(encoding="utf-8"))["patterns"]}
    for s in data.scenarios:
        assert s.fix.strip(), s.name
        if s.name in SEEDS:
            assert s.citation.startswith("https://"), s.name
            assert all(c.log for c in s.cells if c.check != ("toolchain",) or c.variant != ("version",)), s.name
        if s.expectation:
            assert s.expectation in known, f"{s.name}: {s.expectation} is not in matrix/expectations.toml"
        for rule in s.cells:
            assert set(rule.classification) <= patterns, s.name
            assert rule.status in ("fail", "crash", "timeout", "infra_error")


def test_every_scenario_selects_planned_cells_of_the_catalogue(data: selftest.SelfTest) -> None:
    ids = catalogue.load(None).ids
    planned = cells.plan(list(ids), models=list(cells.MODELS), api_releases=[])
    for s in data.scenarios:
        for rule in s.cells:
            hits = [c for c in planned if rule.selects(_result(c, "fail"))]
            assert hits, f"{s.name}: {rule} selects no planned cell"


def test_environment_puts_the_double_first(data: selftest.SelfTest) -> None:
    env = data.environment(
        tensorrt="10.8.0", repo_root="/opt/trt-matrix", base_path="/usr/bin:/bin", base_pythonpath="/x"
    )
    assert env["PYTHONPATH"] == "/opt/trt-matrix/tests/double:/x"
    assert env["PATH"] == "/opt/trt-matrix/tests/double/bin:/usr/bin:/bin"
    assert "10.8.0" in env.values()
    assert data.faults_variable not in env
    faulty = data.environment(
        tensorrt="8.6.1", repo_root="/r", base_path="", base_pythonpath="", faults=["crash", "oom", "crash"]
    )
    assert faulty[data.faults_variable] == "crash,oom"
    assert faulty["PYTHONPATH"] == "/r/tests/double"


def test_unknown_scenario_lists_the_valid_ones(data: selftest.SelfTest) -> None:
    with pytest.raises(UserError, match="no such scenario; valid: retinaface-destroy-order, "):
        data.select(["scrfd-v3-zeros", "nope"])
    assert [s.name for s in data.select(["oom", "oom"])] == ["oom"]


def test_scenario_releases(data: selftest.SelfTest) -> None:
    ids = ("trt84", "trt85", "trt86", "trt100", "trt10", "trt11")
    assert data.scenario("retinaface-int8-scales").releases(ids) == ("trt86",)
    assert data.scenario("scrfd-v3-zeros").releases(ids) == ("trt100", "trt10")
    assert data.scenario("crash").releases(ids) == ids


def _result(cell: cells.Cell, status: str, log: tuple[str, ...] = (), double: str = "") -> CellResult:
    return CellResult(
        **cell.record_fields(),
        run_id="r",
        tier=2,
        status=status,
        log=tuple(LogLine("error", t) for t in log),
        bom={selftest.MARKER: double} if double else {},
    )


def test_explains_needs_cell_status_and_log(data: selftest.SelfTest) -> None:
    scenario = data.scenario("retinaface-int8-scales")
    cell = cells.Cell.from_id("int8:trt86>trt86:retinaface-mnet:int8:decode-plugin")
    line = (
        "[pluginV2Runner.cpp::getInputHostScale::88] Error Code 2: Internal Error (Assertion scales.size() == 1 failed."
    )
    assert scenario.explains(_result(cell, "fail", (line,)))
    assert not scenario.explains(_result(cell, "fail", ("something else",)))
    assert not scenario.explains(_result(cell, "crash", (line,)))
    other = cells.Cell.from_id("int8:trt10>trt10:retinaface-mnet:int8:entropy2")
    assert not scenario.explains(_result(other, "fail", (line,)))
    # an expectation applied at report time keeps what was observed
    xfail = dataclasses.replace(
        _result(cell, "xfail", (line,)), expectation={"id": "x", "citation": "https://x", "observed": "fail"}
    )
    assert scenario.explains(xfail)


def test_marker_and_mix_refusal() -> None:
    cell = cells.Cell.from_id("deserialize:trt86>trt10:yolov5s:fp32:onnx")
    host = cells.Cell.from_id("model:host>host:yolov5s:fp32:onnx")
    double = [_result(cell, "fail", double="10.8.0"), _result(host, "pass")]
    real = [_result(cell, "fail")]
    assert selftest.double_versions(double) == ("10.8.0",)
    assert selftest.double_versions(real) == ()
    selftest.refuse_mixed(double, "x")  # host cells belong to either kind of run
    selftest.refuse_mixed(real, "x")
    with pytest.raises(UserError, match=r"^trt-matrix report refuses to mix 1 record"):
        selftest.refuse_mixed(double + real, "trt-matrix report")


def test_bad_files_name_the_field(tmp_path: Path) -> None:
    text = (ROOT / "tests" / "double" / "selftest.toml").read_text(encoding="utf-8")
    for old, new, problem in (
        ('citation = "https://github.com/NVIDIA/TensorRT/issues/4427"', 'citation = "http://x"', "not an https"),
        ('status = "fail"', "", "field 'status'"),
        ('name = "oom"', 'name = "crash"', "defined twice"),
        ("\n[activation]\n", "\n[activation_]\n", "activation.pythonpath"),
    ):
        path = tmp_path / "selftest.toml"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
        with pytest.raises(UserError, match=re.escape(problem)):
            selftest.load(path)


def test_no_product_module_spells_the_doubles_variables() -> None:
    """The activation lives in tests/double/selftest.toml (the pre-stop hook greps matrix/ the same way)."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "matrix").rglob("*")
        if p.is_file() and p.suffix in (".py", ".toml", ".json", ".j2") and "TRT_MATRIX_DOUBLE" in p.read_text("utf-8")
    ]
    assert offenders == []
