"""exchange cells: phase 2: the producers' artifacts arrived intact and read-only.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "exchange"


def test_exchange(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
