"""serialize cells: build and save a plan by each path (ONNX, legacy, VC, HC, network definition).

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "serialize"


def test_serialize(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
