"""`trt-matrix diff OLD NEW`: what changed between two runs, cell by cell.

OLD and NEW are results folders or results.json files. Both sides get the same expectations
(the packaged file unless --expectations/--no-expectations). Exit 1 only for new regressions
(newly failing, crashing or timing out), 0 otherwise, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "diff",
        help="compare two runs: new regressions, fixes, stale cells, expectations that no longer hold",
        description="Compare two runs cell by cell. Exit status: 1 when NEW has regressions (newly "
        "failing, crashing or timing out cells), 0 otherwise, 2 for bad input.",
    )
    p.add_argument("old", type=Path, metavar="OLD", help="the previous run: a results folder or results.json")
    p.add_argument("new", type=Path, metavar="NEW", help="the new run: a results folder or results.json")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--expectations",
        type=Path,
        default=None,
        metavar="FILE",
        help="expectations applied to both sides (default: the packaged matrix/expectations.toml)",
    )
    group.add_argument("--no-expectations", action="store_true", help="compare records as recorded")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matrix.errors import UserError
    from matrix.report import diff, expectations, inputs
    from matrix.suite.expect import apply_all

    sides = []
    for path in (args.old, args.new):
        records = inputs.load([path])
        if not records:
            raise UserError(f"{path}: no result records found (expected *.jsonl files or a results.json)")
        sides.append(records)
    from matrix.run import selftest

    selftest.refuse_mixed([*sides[0], *sides[1]], "trt-matrix diff")
    if not args.no_expectations:
        entries = expectations.load(args.expectations)
        sides = [apply_all(records, entries) for records in sides]
    result = diff.compare(sides[0], sides[1])
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(diff.text(result))
    return 1 if result.regressed else 0
