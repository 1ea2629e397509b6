"""execute cells: execute_v2 against execute_async_v3 (and v2), from threads, timed.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "execute"


def test_execute(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
