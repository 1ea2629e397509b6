"""Reading results for reports and diffs: result directories, JSONL files, or a report's results.json.

Contract: `load(paths)` accepts folders of `*.jsonl` (what `trt-matrix run` writes), single
`.jsonl` files and the canonical `results.json` a report writes (schema `RESULTS_SCHEMA`), validates
every record against the cell schema and returns them in input order; a torn last line of a
`.jsonl` file is a warning passed to `warn` (see `matrix.run.results`). Anything else is a
`UserError` naming the path and what was expected. Nothing is re-run: reports come from JSON only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from matrix.errors import UserError, read_text
from matrix.run import results
from matrix.suite.schema import CellResult

RESULTS_SCHEMA = "trt-matrix.results/1"


def read_results_json(path: Path) -> tuple[list[CellResult], dict[str, Any]]:
    """Records and the summary object of a results.json written by `trt-matrix report`."""
    text = read_text(path, "a report's results.json")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(
            f"{path}:{exc.lineno}: not JSON ({exc.msg} at column {exc.colno}); expected a report's results.json"
        ) from None
    except RecursionError:
        raise UserError(f"{path}: JSON nested too deeply; expected a report's results.json") from None
    if not isinstance(data, dict) or data.get("schema") != RESULTS_SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise UserError(
            f"{path}: schema is {found!r}, expected {RESULTS_SCHEMA!r} (the results.json that "
            "'trt-matrix report' writes), or pass a results folder of *.jsonl files"
        )
    records = data.get("results")
    if not isinstance(records, list):
        raise UserError(f"{path}: field 'results' must be a list of cell records")
    out: list[CellResult] = []
    for number, record in enumerate(records, start=1):
        problems = results.schema_errors(record) if isinstance(record, dict) else ["not an object"]
        if problems:
            raise UserError(f"{path}: results[{number - 1}]: {problems[0]}")
        out.append(CellResult.from_json(record))
    summary = data.get("summary", {})
    return out, summary if isinstance(summary, dict) else {}


def load(paths: Sequence[Path], warn: Callable[[str], None] = results.warn_stderr) -> list[CellResult]:
    """All records below `paths` (folders, .jsonl files, results.json files)."""
    if not paths:
        raise UserError("no results given: name one or more results folders (or results.json files)")
    out: list[CellResult] = []
    for path in paths:
        if path.is_file() and path.suffix == ".json":
            out.extend(read_results_json(path)[0])
        elif path.is_dir() or path.suffix == ".jsonl":
            if path.is_dir() and not results.result_files([path]) and (path / "results.json").is_file():
                out.extend(read_results_json(path / "results.json")[0])
            else:
                out.extend(results.load([path], warn))
        elif not path.exists():
            raise UserError(f"{path}: no such results folder or file")
        else:
            raise UserError(f"{path}: not a results folder, a .jsonl file or a results.json")
    return out
