"""destroy-order cells: right and wrong destruction orders in Python and C++.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "destroy-order"


def test_destroy_order(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
