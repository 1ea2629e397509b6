"""Cell records for tests: `cell_record(cell_id, status, ...)` fills the fields a cell id implies (check,
producer, consumer, model, precision, variant; phase 2 across releases, else 1) and takes the rest by
name. Log entries given as text are error lines. Python 3.8 (tests/unit/suite runs in the py38 session)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from matrix.suite.schema import CellResult, LogLine


def cell_record(
    cell_id: str,
    status: str = "pass",
    *,
    log: Iterable[str | LogLine] = (),
    run_id: str = "r1",
    **fields: Any,
) -> CellResult:
    check, pair, model, precision, variant = cell_id.split(":")
    producer, consumer = pair.split(">")
    values: dict[str, Any] = {
        "phase": 2 if producer != consumer else 1,
        "tier": 2,
        "reason": "",
    }
    values.update(fields)
    return CellResult(
        run_id=run_id,
        cell_id=cell_id,
        check=check,
        producer=producer,
        consumer=consumer,
        model=model,
        precision=precision,
        variant=variant,
        status=status,
        log=tuple(x if isinstance(x, LogLine) else LogLine("error", x) for x in log),
        **values,
    )
