"""Each fault of the double (TRT_MATRIX_DOUBLE_FAULTS) through the real checks, run isolated by the worker:
the cell's status, reason, log-pattern id and citation, and the selftest.toml scenario that predicts it."""

from __future__ import annotations

import dataclasses
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from matrix.models import tomlload
from matrix.run import selftest
from matrix.suite import classify

from tests.double import faults
from tests.double.conftest import DOUBLE, artifacts_with, needs_make, run_cell


@dataclasses.dataclass(frozen=True)
class Row:
    fault: str
    cell: str
    version: str
    status: str
    reason: str  # a substring of the cell's reason
    pattern: str | None = None  # the log_patterns.json id the cell's log is classified as
    timeout: float = 300


ROWS = (
    Row("retinaface-destroy-order", "destroy-order:trt86>trt86:retinaface-mnet:fp32:py-builder-first", "8.6.1",
        "fail", "TensorRT logged an API usage error", "destroy-order-builder"),
    Row("yolov5-builder-destroy", "destroy-order:trt85>trt85:retinaface-mnet:fp32:py-builder-first", "8.5.1",
        "fail", "Destroying a builder object before destroying objects it created", "destroy-order-builder"),
    Row("scrfd-v3-zeros", "execute:trt10>trt10:scrfd-500m:fp32:execute_async_v3", "10.8.0.43",
        "fail", "cutensor-permutate", "cutensor-permutate"),
    Row("thread-no-context", "execute:trt10>trt10:retinaface-mnet:fp32:thread-no-context", "10.8.0.43",
        "fail", "without the engine's context", "invalid-resource-handle"),
    Row("retinaface-int8-scales", "int8:trt86>trt86:retinaface-mnet:int8:decode-plugin", "8.6.1",
        "fail", "returned None for the calibrated plugin network: int8-plugin-scales", "int8-plugin-scales"),
    Row("oom", "serialize:trt86>trt86:retinaface-mnet:fp32:onnx", "8.6.1",
        "fail", "build_serialized_network returned None", "out-of-memory"),
    Row("crash", "execute:trt86>trt86:retinaface-mnet:fp32:execute_v2", "8.6.1", "crash", "SIGSEGV"),
    Row("hang", "execute:trt86>trt86:retinaface-mnet:fp32:execute_v2", "8.6.1", "timeout", "was killed", timeout=20),
)  # fmt: skip


def _scenarios() -> selftest.SelfTest:
    return selftest.parse(tomlload.load(DOUBLE / "selftest.toml"))


def _record(cell_id: str, outcome: Any) -> Any:
    """What Scenario.explains reads of a record (check, model, variant, consumer, status, log)."""
    check, pair, model, _precision, variant = cell_id.split(":")
    return types.SimpleNamespace(
        check=check, model=model, variant=variant, consumer=pair.split(">")[1],
        status=outcome.status, log=outcome.log, expectation=None,
    )  # fmt: skip


def test_every_scenario_has_a_fault_of_the_double() -> None:
    names = set(_scenarios().names)
    assert names == set(faults.KNOWN)
    tested = {r.fault for r in ROWS} | {"trtexec-python-mismatch"}
    assert tested == names  # the other: test_trtexec_mismatch_* below


@pytest.mark.parametrize("row", ROWS, ids=[r.fault for r in ROWS])
def test_fault_shows_its_documented_symptom(row: Row, exported: Path, tmp_path: Path) -> None:
    if ":decode-plugin" in row.cell:
        needs_make()
    artifacts = artifacts_with(exported, tmp_path / "artifacts")
    outcome = run_cell(row.cell, row.version, artifacts, (row.fault,), row.timeout)
    assert outcome.status == row.status, (outcome.status, outcome.reason, [x.text for x in outcome.log][-6:])
    assert row.reason in outcome.reason or row.reason == outcome.signal, outcome.reason
    scenario = _scenarios().scenario(row.fault)
    record = _record(row.cell, outcome)
    rule = scenario.rule_for(record)
    assert rule is not None, f"selftest.toml's {row.fault} does not name {row.cell}"
    assert scenario.explains(record), (rule, [x.text for x in outcome.log])
    if row.pattern is not None:
        found = classify.classify(x.text for x in outcome.log)
        assert found is not None and found.pattern.id == row.pattern, found
        assert row.pattern in rule.classification
        assert found.pattern.citation.startswith("https://")
    if row.fault not in ("crash", "hang"):
        assert scenario.citation.startswith("https://")


CONTROLS = (
    ("destroy-order:trt86>trt86:retinaface-mnet:fp32:py-builder-first", "8.6.1", ()),
    ("destroy-order:trt10>trt10:retinaface-mnet:fp32:py-builder-first", "10.8.0.43", ("retinaface-destroy-order",)),
    ("execute:trt10>trt10:scrfd-500m:fp32:execute_async_v3", "10.8.0.43", ()),
    ("execute:trt86>trt86:scrfd-500m:fp32:execute_async_v3", "8.6.1", ("scrfd-v3-zeros",)),
    ("execute:trt10>trt10:retinaface-mnet:fp32:thread-no-context", "10.8.0.43", ()),
    ("execute:trt10>trt10:retinaface-mnet:fp32:thread-context", "10.8.0.43", ("thread-no-context",)),
    # the remedy of NVIDIA/TensorRT#2621 (plugin pinned to FP32, OBEY_PRECISION_CONSTRAINTS), and 10.x
    ("int8:trt86>trt86:retinaface-mnet:int8:decode-plugin-fp32", "8.6.1", ("retinaface-int8-scales",)),
    ("int8:trt10>trt10:retinaface-mnet:int8:decode-plugin", "10.8.0.43", ("retinaface-int8-scales",)),
)


@pytest.mark.parametrize(("cell_id", "version", "injected"), CONTROLS, ids=[f"{c[0]}@{c[1]}" for c in CONTROLS])
def test_without_the_fault_or_off_its_release_the_cell_passes(
    cell_id: str, version: str, injected: tuple[str, ...], exported: Path, tmp_path: Path
) -> None:
    """No fault, or a fault on a release its seed was not reported on, or the remedy (context pushed)."""
    if ":decode-plugin" in cell_id:
        needs_make()
    outcome = run_cell(cell_id, version, artifacts_with(exported, tmp_path / "artifacts"), injected)
    assert outcome.status == "pass", (outcome.reason, [x.text for x in outcome.log][-6:])


@pytest.mark.parametrize(
    ("cell_id", "version", "call"),
    [
        ("destroy-order:trt86>trt86:retinaface-mnet:fp32:py-right", "8.6.1", "build_serialized_network"),
        ("destroy-order:trt10>trt10:retinaface-mnet:fp32:py-build-engine-with-config", "10.8.0.43",
         "build_engine_with_config"),
    ],
)  # fmt: skip
def test_a_destroy_order_cell_whose_build_fails_says_which_call_returned_none(
    cell_id: str, version: str, call: str, exported: Path, tmp_path: Path
) -> None:
    """Out of memory during the build: the cell fails at the build (never judged on destroy order), naming
    the call and keeping TensorRT's line."""
    outcome = run_cell(cell_id, version, artifacts_with(exported, tmp_path / "artifacts"), ("oom",))
    assert outcome.status == "fail" and f"{call} returned None" in outcome.reason, outcome.reason
    found = classify.classify(x.text for x in outcome.log)
    assert found is not None and found.pattern.id == "out-of-memory", [x.text for x in outcome.log]


def test_an_unknown_fault_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        faults.active({faults.VARIABLE: "scrfd-v3-zeroes"})


def test_trtexec_claims_another_release_only_under_the_mismatch() -> None:
    env = {faults.VARIABLE: "trtexec-python-mismatch"}
    assert faults.trtexec_release("8.6.1", {}) == "8.6.1"
    assert faults.trtexec_release("8.6.1", env) == "10.0.1"
    assert faults.trtexec_release("10.8.0.43", env) == "8.6.1"
    assert faults.trtexec_release("11.4.0.106", env) == "8.6.1"


@pytest.mark.parametrize("variant", ["trtexec-to-python", "version"])
def test_trtexec_mismatch_through_the_toolchain_check(
    variant: str, exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trtexec = DOUBLE / "bin" / "trtexec"
    cell = {
        "trtexec-to-python": "toolchain:trt10>trt10:retinaface-mnet:fp32:trtexec-to-python",
        "version": "toolchain:trt10>trt10:-:-:version",
    }[variant]
    import os

    # the trtexec double runs on `python3` from PATH: this interpreter's (it has onnx), as --local sets it up
    here = Path(sys.executable).parent
    monkeypatch.setenv("PATH", f"{trtexec.parent}{os.pathsep}{here}{os.pathsep}{os.environ.get('PATH', '')}")
    assert shutil.which("trtexec") == str(trtexec)
    outcome = run_cell(
        cell, "10.8.0.43", artifacts_with(exported, tmp_path / "artifacts"), ("trtexec-python-mismatch",)
    )
    scenario = _scenarios().scenario("trtexec-python-mismatch")
    assert outcome.status == "fail", outcome.reason
    assert scenario.explains(_record(cell, outcome)), [x.text for x in outcome.log]
