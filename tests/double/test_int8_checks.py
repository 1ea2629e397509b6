"""The int8 and int8-cache checks on the doubles of 8.6.1, 10.8 and 11.4 with exported registry models
(synthetic weights), isolated through the worker: statuses, calibration counts, layer precisions read
back through the engine inspector, and the decode-plugin cells (the double's nvcc and plugin registry)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.double.conftest import artifacts_with, needs_make, run_cell

M = "retinaface-mnet"
CELLS = (  # in run order: phase 2 (int8-cache) reads the entropy2 cache trt86 left
    ("8.6.1", f"int8:trt86>trt86:{M}:int8:entropy2"),
    ("8.6.1", f"int8:trt86>trt86:{M}:int8:minmax"),
    ("8.6.1", f"int8:trt86>trt86:{M}:int8:cache-reuse"),
    ("8.6.1", f"int8:trt86>trt86:{M}:int8:qdq"),
    ("8.6.1", f"int8:trt86>trt86:{M}:int8:decode-plugin"),
    ("8.6.1", f"int8:trt86>trt86:{M}:int8:decode-plugin-fp32"),
    ("10.8.0.43", f"int8:trt10>trt10:{M}:int8:minmax"),
    ("10.8.0.43", f"int8:trt10>trt10:{M}:int8:decode-plugin"),
    ("11.4.0.106", f"int8:trt11>trt11:{M}:int8:decode-plugin"),
    ("10.8.0.43", f"int8-cache:trt86>trt10:{M}:int8:entropy2"),
    ("11.4.0.106", f"int8:trt11>trt11:{M}:int8:entropy2"),
    ("11.4.0.106", f"int8:trt11>trt11:{M}:int8:qdq"),
    ("11.4.0.106", f"int8-cache:trt86>trt11:{M}:int8:entropy2"),
)


@pytest.fixture(scope="module")
def outcomes(exported: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    artifacts = artifacts_with(exported, tmp_path_factory.mktemp("int8") / "artifacts")
    return {cell: run_cell(cell, version, artifacts) for version, cell in CELLS}


def _get(outcomes: dict[str, Any], cell: str) -> Any:
    outcome = outcomes[cell]
    assert outcome.status != "infra_error", outcome.reason
    return outcome


@pytest.mark.parametrize("variant", ["entropy2", "minmax"])
def test_calibrated_builds_pass_with_int8_layers(outcomes: dict[str, Any], variant: str) -> None:
    outcome = _get(outcomes, f"int8:trt86>trt86:{M}:int8:{variant}")
    assert outcome.status == "pass", outcome.reason
    m = outcome.measurements
    assert m["calibration"]["batches_served"] > 0 and m["calibration"]["cache_writes"] == 1
    assert m["cache"]["header_as_expected"] and m["cache"]["round_trips"], m["cache"]
    layers = m["layers"]
    assert layers["detailed"] and layers["by_precision"].get("int8", 0) > 0, layers
    assert "(recorded, not judged: synthetic weights" in outcome.reason


def test_cache_reuse_asks_for_no_batch(outcomes: dict[str, Any]) -> None:
    outcome = _get(outcomes, f"int8:trt86>trt86:{M}:int8:cache-reuse")
    assert outcome.status == "pass", outcome.reason
    assert outcome.measurements["second"]["get_batch_calls"] == 0
    assert outcome.measurements["second"]["cache_hits"] == 1


@pytest.mark.parametrize("cell_id", [f"int8:trt86>trt86:{M}:int8:qdq", f"int8:trt11>trt11:{M}:int8:qdq"])
def test_qdq_runs_its_own_quantization(outcomes: dict[str, Any], cell_id: str) -> None:
    outcome = _get(outcomes, cell_id)
    assert outcome.status == "pass", outcome.reason
    assert outcome.measurements["layers"]["by_precision"].get("int8", 0) > 0


@pytest.mark.parametrize(
    "cell_id",
    [
        f"int8:trt86>trt86:{M}:int8:decode-plugin",
        f"int8:trt86>trt86:{M}:int8:decode-plugin-fp32",
        f"int8:trt10>trt10:{M}:int8:decode-plugin",
    ],
)
def test_decode_plugin_cells_build_and_run_the_plugin(outcomes: dict[str, Any], cell_id: str) -> None:
    """The plugin 'compiled' by the double's nvcc, registered once loaded, run in the calibrated engine;
    pinned to FP32, the inspector shows the plugin layer in FP32 (judge checks the pin)."""
    needs_make()
    outcome = _get(outcomes, cell_id)
    assert outcome.status == "pass", (outcome.reason, [x.text for x in outcome.log][-6:])
    m = outcome.measurements
    assert m["calibration"]["batches_served"] > 0
    assert m["layers"]["by_precision"].get("int8", 0) > 0, m["layers"]
    assert m["detection"]["images"] > 0
    assert m["pinned_fp32"] == (["decode_plugin"] if cell_id.endswith("-fp32") else [])


def test_without_make_the_plugin_cells_skip_saying_why(exported: Path, tmp_path: Path) -> None:
    """A machine without make (PATH holding only the double's bin/): the cell is skipped and says what is
    missing; never a pass, never an infrastructure error."""
    bare = tmp_path / "bin"
    bare.mkdir()
    artifacts = artifacts_with(exported, tmp_path / "artifacts")
    outcome = run_cell(f"int8:trt86>trt86:{M}:int8:decode-plugin", "8.6.1", artifacts, path=str(bare))
    assert outcome.status == "skip", (outcome.status, outcome.reason)
    assert "make not found" in outcome.reason and "decode plugin" in outcome.reason, outcome.reason


def test_another_release_accepts_the_8_6_cache(outcomes: dict[str, Any]) -> None:
    assert _get(outcomes, f"int8:trt10>trt10:{M}:int8:minmax").status == "pass"
    outcome = _get(outcomes, f"int8-cache:trt86>trt10:{M}:int8:entropy2")
    assert outcome.measurements["cache_use"] == "accepted", outcome.measurements
    assert outcome.measurements["missing_scale_warnings"] == 0
    assert outcome.status == "pass", outcome.reason


@pytest.mark.parametrize(
    "cell_id",
    [
        f"int8:trt11>trt11:{M}:int8:entropy2",
        f"int8-cache:trt86>trt11:{M}:int8:entropy2",
        f"int8:trt11>trt11:{M}:int8:decode-plugin",
    ],
)
def test_implicit_int8_is_na_on_11(outcomes: dict[str, Any], cell_id: str) -> None:
    outcome = _get(outcomes, cell_id)
    assert outcome.status == "na"
    assert "BuilderFlag.INT8 absent in tensorrt 11.4.0.106" in outcome.reason
