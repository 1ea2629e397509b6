"""int8 cells: implicit calibration, cache reuse, explicit Q/DQ, the decode-plugin case.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "int8"


def test_int8(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
