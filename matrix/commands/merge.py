"""`trt-matrix merge`: combine results from several machines (or shards) into one results folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "merge",
        help="combine results folders from several machines or shards (idempotent)",
        description="Read every *.jsonl below the given folders, validate each record, and write one record per "
        "cell into OUT (one file per release and phase). The same record twice is kept once, so "
        "merging is idempotent. Two different outcomes for one cell are conflicts: they are listed "
        "and nothing is written, unless --prefer says which one wins.",
    )
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help="results folders or .jsonl files")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the merged results into")
    p.add_argument(
        "--prefer",
        choices=("newest", "oldest"),
        default=None,
        help="resolve conflicts by the record's finish time (each is still reported)",
    )
    p.add_argument(
        "--real-only",
        action="store_true",
        help="refuse records made with the TensorRT double (a publication of results: self-tests are never one)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matrix.errors import UserError
    from matrix.run import results
    from matrix.suite import cells as cellmod
    from matrix.suite import resultfile

    records = results.load(args.results)
    if not records:
        raise UserError(f"no result records in {', '.join(map(str, args.results))}")
    from matrix.run import selftest

    selftest.refuse_mixed(records, "trt-matrix merge")
    if args.real_only and selftest.double_versions(records):
        versions = ", ".join(selftest.double_versions(records))
        raise UserError(
            f"trt-matrix merge --real-only: the inputs are records of the TensorRT double {versions} "
            "(a self-test of the harness, not TensorRT): never published"
        )
    merged = results.merge(records)
    kept = list(merged.results)
    for conflict in merged.conflicts:
        print(f"conflict: {conflict.describe()}")
    if merged.conflicts:
        if args.prefer is None:
            print(
                f"merge: {len(merged.conflicts)} cell(s) have conflicting records; nothing written "
                "(rerun with --prefer newest|oldest to choose, or remove the stale run)"
            )
            return 1
        for conflict in merged.conflicts:
            ordered = sorted(conflict.records, key=lambda r: r.finished_at)
            kept.append(ordered[-1] if args.prefer == "newest" else ordered[0])
    out = args.out
    if out.exists() and any(out.glob("*.jsonl")):
        if any(p.resolve() == out.resolve() for p in args.results):
            for stale in out.glob("*.jsonl"):
                stale.unlink()
        else:
            raise UserError(f"{out} already holds results: merge into an empty folder, or name it as an input too")
    writers: dict[str, resultfile.ResultWriter] = {}
    for record in kept:
        owner = cellmod.HOST if record.phase == 0 else record.consumer
        name = resultfile.result_file_name(owner, record.phase)
        writers.setdefault(name, resultfile.ResultWriter(out / name)).write(record)
    print(
        f"merge: {len(records)} records from {len(results.result_files(args.results))} file(s) -> {len(kept)} cells "
        f"in {out} ({merged.duplicates} duplicate(s) collapsed, {len(merged.conflicts)} conflict(s))"
    )
    return 0
