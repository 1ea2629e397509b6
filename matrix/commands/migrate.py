"""`trt-matrix migrate PATH... --target 10.8[,11.4]`: check Python code against the TensorRT it moves to.

Contract: reads the API table from matrix/offline/api_snapshot.json (or `--api FILE`, the output of
`trt-matrix api --json`): no GPU, no TensorRT, no network. Prints findings (matrix/offline/migrate.py)
as text grouped by file, `--format json|sarif|github`. Uses inside a feature test (`hasattr`, ...) are
left out unless `--show-guarded`. Exit 0 clean, 1 findings, 2 bad input: a path that does not exist or
cannot be read, an unknown release, or a file that is not valid Python (the other files are still checked
and reported; the check of that file is incomplete, so the run is not clean).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from matrix.commands import catalogue_option


def register(sub: Any) -> None:
    p = sub.add_parser(
        "migrate",
        help="check Python code for TensorRT API removed or deprecated in the release you move to",
        description="Parse Python files with ast (nothing is imported or run) and report every use of the "
        "TensorRT Python API that a target release lacks or deprecates, with the replacement and the first "
        "release that has it. Only objects traced to tensorrt count (trt.Builder(...) -> "
        "create_builder_config() -> ...); --loose adds untraced ones, marked unsure. Works offline from the "
        "checked-in API table (regenerate with `trt-matrix api --write-snapshot`).",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="Python files or folders")
    p.add_argument(
        "--target",
        action="append",
        required=True,
        metavar="LIST",
        help="releases to check against: version prefixes (10.8), catalogue ids (trt10) or latest; "
        "comma-separated or repeated",
    )
    p.add_argument(
        "--source",
        metavar="RELEASE",
        help="the release the code runs on now: also report names it lacks (code that already broke)",
    )
    p.add_argument("--loose", action="store_true", help="also report untraced receivers, marked unsure")
    p.add_argument(
        "--show-guarded",
        action="store_true",
        help="also report uses inside hasattr/has/require feature tests (they count for the exit code)",
    )
    p.add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    p.add_argument(
        "--api",
        type=Path,
        metavar="FILE",
        help="the API table to use: the output of `trt-matrix api --json` (default: the checked-in snapshot)",
    )
    catalogue_option(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matrix import catalogue
    from matrix.errors import UserError
    from matrix.offline import api_snapshot, migrate, migrate_output

    snapshot = api_snapshot.from_api_json(args.api) if args.api else api_snapshot.load()
    releases = catalogue.load(args.catalogue).releases
    tokens = [t.strip() for item in args.target for t in item.split(",") if t.strip()]
    if not tokens:
        raise UserError("--target: give at least one release, e.g. --target 10.8,11.4")
    targets = list(dict.fromkeys(migrate.resolve(snapshot, t, releases) for t in tokens))
    source = migrate.resolve(snapshot, args.source, releases) if args.source else None
    report = migrate.check(args.paths, targets, snapshot, migrate.load_facts(), source=source, loose=args.loose)
    if not args.show_guarded:
        report = dataclasses.replace(report, findings=tuple(f for f in report.findings if not f.guarded))
    print(migrate_output.render(report, args.format))
    if args.format != "text":
        for file, why in report.unparsable:
            print(f"trt-matrix: migrate: {file}: not checked, not valid Python ({why})", file=sys.stderr)
    if report.unparsable:
        return 2
    return 1 if report.findings else 0
