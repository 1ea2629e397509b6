"""Reading, validating and merging result directories on the host.

Contract: `load(dirs)` reads every `*.jsonl` below the given directories, validates each record
against `matrix/suite/cell.schema.json` (jsonschema) and returns them; a bad file is a `UserError`
naming file and line. Lines are read by `matrix.suite.resultfile.read` (the one reader, also in the
images): a last line without its newline that is not a whole record (a run killed mid-write) is a
warning naming file and line, passed to `warn` (stderr by default), and that cell is missing, so
`--resume` runs it again; any other bad line, torn ones in the middle too, is a `UserError`.
`merge(groups)` combines results from several machines: the same record twice
is kept once (merging is idempotent); two different outcomes for one cell are returned as
conflicts, never silently resolved.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from matrix.errors import UserError
from matrix.suite import resultfile
from matrix.suite.schema import CellResult, load_schema

# Fields that differ between two runs of the same cell without the outcome differing.
VOLATILE = frozenset(
    {
        "run_id",
        "duration_s",
        "started_at",
        "finished_at",
        "measurements",
        "bom",
        "where",
        "log",
        "input_key",
        "reused_from",
    }
)


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def schema_errors(record: dict[str, Any]) -> list[str]:
    """Every way a record departs from the schema, as readable strings."""
    return [
        f"{'/'.join(str(p) for p in err.absolute_path) or '(record)'}: {err.message}"
        for err in sorted(_validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    ]


def result_files(dirs: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for d in dirs:
        if d.is_file() and d.suffix == ".jsonl":
            files.append(d)
        elif d.is_dir():
            files.extend(sorted(d.rglob("*.jsonl")))
        else:
            raise UserError(
                f"{d}: no such results directory (expected a folder of *.jsonl files from 'trt-matrix run')"
            )
    return files


def warn_stderr(message: str) -> None:
    sys.stderr.write(f"trt-matrix: warning: {message}\n")


def read_file(path: Path, warn: Callable[[str], None] = warn_stderr) -> list[CellResult]:
    """The records of one JSONL results file, schema-checked with jsonschema, in file order (the torn-line
    rule of matrix.suite.resultfile, the one reader); a bad file is a UserError naming file and line."""
    try:
        return resultfile.read(path, schema_errors, warn)
    except resultfile.ResultFileError as exc:
        raise UserError(str(exc)) from None


def load(dirs: Sequence[Path], warn: Callable[[str], None] = warn_stderr) -> list[CellResult]:
    """All records below `dirs`, schema-checked, in file order."""
    out: list[CellResult] = []
    for path in result_files(dirs):
        out.extend(read_file(path, warn))
    return out


def outcome_key(result: CellResult) -> tuple[Any, ...]:
    """What must agree for two records of one cell to be the same result."""
    data = result.to_json()
    return tuple((k, repr(data[k])) for k in sorted(data) if k not in VOLATILE)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Conflict:
    cell_id: str
    records: tuple[CellResult, ...]

    def describe(self) -> str:
        parts = [f"{r.status} ({r.where or r.run_id}: {r.reason[:80]})" for r in self.records]
        return f"{self.cell_id}: " + " vs ".join(parts)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Merged:
    results: tuple[CellResult, ...]
    conflicts: tuple[Conflict, ...]
    duplicates: int


def merge(records: Iterable[CellResult]) -> Merged:
    """One record per cell. Identical outcomes collapse; different outcomes are conflicts."""
    by_cell: dict[str, list[CellResult]] = {}
    order: list[str] = []
    for record in records:
        if record.cell_id not in by_cell:
            by_cell[record.cell_id] = []
            order.append(record.cell_id)
        by_cell[record.cell_id].append(record)
    kept: list[CellResult] = []
    conflicts: list[Conflict] = []
    duplicates = 0
    for cell_id in order:
        group = by_cell[cell_id]
        distinct: dict[tuple[Any, ...], CellResult] = {}
        for record in group:
            distinct.setdefault(outcome_key(record), record)
        duplicates += len(group) - len(distinct)
        if len(distinct) == 1:
            kept.append(group[0])
        else:
            conflicts.append(Conflict(cell_id=cell_id, records=tuple(distinct.values())))
    return Merged(results=tuple(kept), conflicts=tuple(conflicts), duplicates=duplicates)
