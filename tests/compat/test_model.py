"""model cells: tier 0 on the host: each model's ONNX builds, passes onnx.checker, runs in ONNX Runtime.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "model"


def test_model(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
