"""`trt-matrix report RESULTS... --out DIR`: render the compatibility report from JSON results.

Reads result folders (or results.json files), applies matrix/expectations.toml (unless
--no-expectations), and writes index.html, README.md, results.json, junit-<release>.xml and
grid-<check>.svg into DIR. Never re-runs a check. Exit 0 when written; 2 for bad input.
"""

from __future__ import annotations

import argparse
import datetime
import os
from pathlib import Path
from typing import Any

from matrix.commands import catalogue_option


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="render the compatibility report (HTML, Markdown, JSON, JUnit, SVG) from results",
        description="Render the compatibility report from result records only (nothing is re-run): "
        "index.html (one static page), README.md (fits a CI step summary), results.json (canonical), "
        "junit-<release>.xml and grid-<check>.svg.",
    )
    p.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="results folders of *.jsonl (from 'trt-matrix run'), .jsonl files or results.json files",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the report into")
    catalogue_option(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--expectations",
        type=Path,
        default=None,
        metavar="FILE",
        help="expectations to apply (default: the packaged matrix/expectations.toml)",
    )
    group.add_argument(
        "--no-expectations",
        action="store_true",
        help="show records as recorded, without (re-)applying expectations",
    )
    p.add_argument(
        "--api-surface",
        type=Path,
        default=None,
        metavar="FILE",
        help="JSON from 'trt-matrix api --json': adds 'API changes between releases'",
    )
    p.add_argument(
        "--image-base",
        default="",
        metavar="URL",
        help="prefix for image links in README.md (e.g. the GitHub Pages URL, so a step summary shows them)",
    )
    p.set_defaults(func=run)


def generated_at() -> str:
    """Now in UTC, or SOURCE_DATE_EPOCH when set (reproducible reports)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc)
        if epoch and epoch.isdigit()
        else datetime.datetime.now(tz=datetime.timezone.utc)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    for line in render(
        args.results,
        args.out,
        catalogue_path=args.catalogue,
        expectations_path=args.expectations,
        no_expectations=args.no_expectations,
        api_surface=args.api_surface,
        image_base=args.image_base,
    ):
        print(line)
    return 0


def render(
    results: list[Path],
    out: Path,
    *,
    catalogue_path: Path | None = None,
    expectations_path: Path | None = None,
    no_expectations: bool = False,
    api_surface: Path | None = None,
    image_base: str = "",
) -> list[str]:
    """Write the report for `results` into `out`; returns the summary lines (also used by `run`)."""
    from matrix import catalogue
    from matrix.errors import UserError
    from matrix.report import apidiff, expectations, inputs, model, write_all
    from matrix.report.style import STYLES
    from matrix.suite.expect import apply_all

    cat = catalogue.load(catalogue_path)
    records = inputs.load(results)
    if not records:
        raise UserError(
            f"no result records in {', '.join(map(str, results))}: run 'trt-matrix run' first, "
            "or name the folder it wrote"
        )
    from matrix.run import selftest

    selftest.refuse_mixed(records, "trt-matrix report")
    if no_expectations:
        note = "as recorded (--no-expectations)"
    else:
        entries = expectations.load(expectations_path)
        records = apply_all(records, entries)
        source = expectations_path or "matrix/expectations.toml"
        note = f"{source} ({len(entries)} entries, applied at report time)"
    api = apidiff.load(api_surface, cat.ids) if api_surface else None
    report = model.build(
        records,
        cat,
        generated_at=generated_at(),
        inputs=[str(p) for p in results],
        expectations=note,
        api_changes=api,
    )
    written = write_all(report, out, image_base=image_base)
    counts = ", ".join(f"{STYLES[s].symbol} {n} {STYLES[s].label}" for s, n in report.counts.items())
    lines = [f"report: {len(report.results)} cells ({counts}) -> {out}/index.html ({len(written)} files)"]
    if report.xpasses:
        lines.append(
            f"report: XPASS: {len(report.xpasses)} cell(s) passed where a known issue expects a failure: "
            + ", ".join(r.cell_id for r in report.xpasses[:5])
        )
    if report.conflicts:
        lines.append(f"report: {len(report.conflicts)} conflicting record(s); see index.html")
    return lines
