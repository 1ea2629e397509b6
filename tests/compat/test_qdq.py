"""qdq cells: tier 0 on the host: the Q/DQ model from ONNX Runtime's quantizer against FP32.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "qdq"


def test_qdq(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
