"""The int8 and int8-cache checks, run as the matrix runs them (an isolated worker process) against the REAL
bindings of 11.4 and 8.6.1 over the stand-in library: on 11.x every implicit-INT8 cell is `na` with the
reason, before any GPU is needed; the explicit Q/DQ cell is not (it needs a GPU, which this machine lacks,
and says so); on 8.6.1 the implicit cells get past the API and stop at the missing GPU.

What the cells do on a GPU (build, calibrate, judge) only a GPU image can show.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from matrix.suite import isolate
from matrix.suite.cells import Cell
from matrix.suite.checks import TARGETS
from matrix.suite.outcome import CheckContext, Outcome
from tests.unit.suite import real_bindings


def run_cell(cell_id: str, version: str, tmp_path: Path) -> Outcome:
    env = real_bindings.env_for(version)
    cell = Cell.from_id(cell_id)
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    ctx = CheckContext(cell, cell.consumer, tmp_path / "artifacts", scratch)
    return isolate.run_isolated(TARGETS[cell.check], ctx, 120, env=env)


@pytest.mark.parametrize(
    "cell_id",
    [
        "int8:trt11>trt11:retinaface-mnet:int8:entropy2",
        "int8:trt11>trt11:retinaface-mnet:int8:minmax",
        "int8:trt11>trt11:scrfd-500m:int8:cache-reuse",
        "int8:trt11>trt11:retinaface-mnet:int8:decode-plugin",
        "int8:trt11>trt11:retinaface-mnet:int8:decode-plugin-fp32",
        "int8-cache:trt86>trt11:retinaface-mnet:int8:entropy2",
    ],
)
def test_implicit_int8_is_not_applicable_on_11(cell_id: str, tmp_path: Path) -> None:
    outcome = run_cell(cell_id, "11.4.0.106", tmp_path)
    assert outcome.status == "na", outcome.reason
    assert outcome.reason == (
        "BuilderFlag.INT8 absent in tensorrt 11.4.0.106 (implicit INT8 removed in 11.0: only explicit Q/DQ remains)"
    )


def test_explicit_qdq_is_not_na_on_11_it_needs_a_gpu(tmp_path: Path) -> None:
    outcome = run_cell("int8:trt11>trt11:retinaface-mnet:int8:qdq", "11.4.0.106", tmp_path)
    assert outcome.status == "skip" and outcome.reason.startswith("no CUDA device"), outcome.reason


def test_on_8_6_the_implicit_cells_pass_the_api_and_stop_at_the_gpu(tmp_path: Path) -> None:
    outcome = run_cell("int8:trt86>trt86:retinaface-mnet:int8:entropy2", "8.6.1", tmp_path)
    assert outcome.status == "skip" and outcome.reason.startswith("no CUDA device"), outcome.reason
