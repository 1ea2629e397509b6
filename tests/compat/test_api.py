"""api cells: tier 0 on the host: the adapter's paths against each release's real bindings.

The check itself is matrix/suite/checks (or matrix/hostchecks for tier 0); each cell runs in its own
process and its record is written before this test reports.
"""

from __future__ import annotations

from typing import Any

CHECK = "api"


def test_api(cell: Any, run_cell: Any) -> None:
    run_cell(cell)
