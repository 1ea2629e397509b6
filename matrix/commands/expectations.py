"""`trt-matrix expectations lint|list`: check and show matrix/expectations.toml.

`lint` exits 0 when every entry is usable (dormant entries are printed, not fatal), 1 when a
selector names an unknown check, model, precision or variant, and 2 (one-line error) when the file
itself is refused: bad TOML, an unknown field or status, a missing citation, a bad regex.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from matrix.commands import catalogue_option


def register(sub: Any) -> None:
    p = sub.add_parser(
        "expectations",
        help="lint or list the known-issue expectations (matrix/expectations.toml)",
        description="Known TensorRT problems, each with a citation, that turn expected failures into "
        "xfail. 'lint' is what CI runs; 'list' shows the entries.",
    )
    verbs = p.add_subparsers(dest="verb", metavar="VERB")
    verbs.required = True
    for verb, text in (("lint", "validate the file (CI runs this)"), ("list", "print the entries")):
        q = verbs.add_parser(verb, help=text, description=text)
        q.add_argument(
            "file",
            nargs="?",
            type=Path,
            default=None,
            metavar="FILE",
            help="an expectations.toml (default: the packaged matrix/expectations.toml)",
        )
        catalogue_option(q, "a versions.toml to check release globs against (default: the packaged one)")
        q.add_argument("--json", action="store_true", help="print JSON for scripts")
        q.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matrix import catalogue
    from matrix.report import expectations

    if args.verb == "list":
        entries = expectations.load(args.file)
        if args.json:
            print(json.dumps([_entry_json(e) for e in entries], indent=2))
        else:
            for e in entries:
                print(f"{e.id}  [{'/'.join(e.status)}]  {e.citation}")
                print(f"    {e.reason}")
        return 0
    report = expectations.lint(args.file, catalogue.load(args.catalogue))
    if args.json:
        print(
            json.dumps(
                {"entries": report.entries, "errors": list(report.errors), "dormant": list(report.dormant)},
                indent=2,
            )
        )
    else:
        for line in report.errors:
            print(f"error: {line}")
        for line in report.dormant:
            print(f"dormant: {line}")
        verdict = "FAILED" if report.errors else "ok"
        print(
            f"expectations lint: {verdict}: {report.entries} entries, {len(report.errors)} error(s), "
            f"{len(report.dormant)} dormant"
        )
    return 1 if report.errors else 0


def _entry_json(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "selector": {k: list(v) for k, v in e.selector},
        "pair": e.pair,
        "status": list(e.status),
        "log": e.log,
        "reason": e.reason,
        "citation": e.citation,
        "also": list(e.also),
        "added": e.added,
        "strict": e.strict,
        "note": e.note,
    }
