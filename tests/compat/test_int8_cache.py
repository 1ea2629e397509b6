"""int8-cache cells: phase 2: offer every producer's calibration cache.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "int8-cache"


def test_int8_cache(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
