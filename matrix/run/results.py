"""Reading, validating and merging result directories on the host.

Contract: `load(dirs)` reads every `*.jsonl` below the given directories, validates each record
against `matrix/suite/cell.schema.json` (jsonschema) and returns them; a bad file is a `UserError`
naming file and line. The torn-line rule: a last line without its newline that is not a whole record
(a run killed mid-write) is a warning naming file and line, passed to `warn` (stderr by default), and
that cell is missing, so `--resume` runs it again; any other bad line, torn ones in the middle too, is
a `UserError`. `merge(groups)` combines results from several machines: the same record twice
is kept once (merging is idempotent); two different outcomes for one cell are returned as
conflicts, never silently resolved.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from matrix.errors import UserError
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
    """The records of one JSONL results file, schema-checked, in file order (the torn-line rule above)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc}); expected a results file") from None
    lines = data.split(b"\n")
    torn_tail = not data.endswith(b"\n")
    out: list[CellResult] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        problem = _line_problem(raw)
        if isinstance(problem, CellResult):
            out.append(problem)
            continue
        if torn_tail and number == len(lines) and problem[1]:
            warn(
                f"{path}:{number}: the last line is torn ({problem[0]}), as a run killed while writing leaves it; "
                "that cell is left out, and 'trt-matrix run --resume' runs it again"
            )
            continue
        hint = (
            "only the last line may be torn (a killed run); this file was damaged or edited: restore it, "
            "or delete the line and run 'trt-matrix run --resume'"
            if problem[1]
            else "the file is not a trt-matrix results file, or it was edited by hand"
        )
        raise UserError(f"{path}:{number}: {problem[0]}; {hint}")
    return out


def _line_problem(raw: bytes) -> CellResult | tuple[str, bool]:
    """The record on one line, or (what is wrong, whether a torn write explains it).

    A torn write leaves the start of a record: `{` and then text cut anywhere, even inside a UTF-8
    character; a line that does not start so was not torn but damaged.
    """
    starts = raw.startswith(b"{")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = exc.end == len(raw) and "unexpected end" in exc.reason
        return f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", starts and cut
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not a JSON record ({exc.msg} at column {exc.colno})", starts
    except RecursionError:
        return "not a JSON record (nested too deeply)", False
    if not isinstance(record, dict):
        return f"a record must be a JSON object, this is a {type(record).__name__}", False
    problems = schema_errors(record)
    if problems:
        cell = record.get("cell_id")
        named = f"record {cell!r}: " if isinstance(cell, str) else ""
        return f"{named}{problems[0]}", False
    return CellResult.from_json(record)


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
