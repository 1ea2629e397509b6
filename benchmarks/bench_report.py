"""Report rendering time for a full matrix: every catalogue release and every model (~2000 cells).

Run: `python3 -m benchmarks.bench_report [--repeat N]`. Builds records with the real planner and
schema (the planted outcomes of tests/unit/report/sample_runs.py, extended to all releases), writes
them as `trt-matrix run` would, then times `trt-matrix report` end to end (read, validate, apply
expectations, render every output) and prints the numbers. Timings are for this machine only.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit
from matrix import catalogue
from matrix.cli import main
from matrix.suite import cells
from matrix.suite.schema import CellResult
from tests.unit.report.sample_runs import outcome, write_run


def full_run() -> list[CellResult]:
    ids = list(catalogue.load().ids)
    return [outcome(cell) for cell in cells.plan(ids, models=list(cells.MODELS), api_releases=ids)]


def main_() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    records = full_run()
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_run(records, Path(tmp) / "results")
        times = []
        for i in range(args.repeat):
            start = time.perf_counter()
            assert main(["report", str(folder), "--out", str(Path(tmp) / f"report{i}")]) == 0
            times.append(time.perf_counter() - start)
        sizes = {p.name: p.stat().st_size for p in (Path(tmp) / "report0").iterdir()}
    print(
        f"cells: {len(records)}; report wall time over {args.repeat} runs: "
        f"min {min(times):.2f} s, median {statistics.median(times):.2f} s, max {max(times):.2f} s"
    )
    print("sizes: " + ", ".join(f"{k} {v / 1024:.0f} KiB" for k, v in sorted(sizes.items())))
    median = statistics.median(times)
    emit(
        "report_render",
        {
            "cells": len(records),
            "seconds": [round(t, 3) for t in times],
            "median_s": round(median, 3),
            "sizes_kib": {k: round(v / 1024) for k, v in sorted(sizes.items())},
        },
        "full-matrix report (every release and model) renders in <= 5 s",
        median <= 5.0,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main_())
