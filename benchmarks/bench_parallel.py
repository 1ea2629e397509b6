"""Benchmark 4: parallel scaling of the runner: K containers at once against one at a time.

A CPU-bound stand-in check: each release's phase-1 container burns BURN_S CPU-seconds before its first
cell (the harness self-test hook `--inject-fault RELEASE=burn:S`), then runs the cheap
toolchain:version cell. For each K from 2 up to the core count, K releases run with --jobs 1 and with
--jobs K; speedup = serial time / parallel time, measured side by side.

Target: speedup at least 0.8 x K for every K up to the core count.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import build, docker_ready, emit, run_args, trt_matrix

ALL = ("trt84", "trt85", "trt86", "trt100", "trt10", "trt11")
BURN_S = float(os.environ.get("BENCH_BURN_S", "6"))


def timed(releases: tuple[str, ...], jobs: int, work: Path) -> float:
    faults = [x for r in releases for x in ("--inject-fault", f"{r}=burn:{int(BURN_S)}")]
    # phase 1 only: the toolchain cell after the burn (the exchange cells are phase 2)
    wall, _ = trt_matrix(*run_args(releases, work, f"j{jobs}", "--phase", "1", "--jobs", str(jobs), *faults))
    return wall


def main() -> int:
    cores = os.cpu_count() or 1
    target = "speedup >= 0.8 x K for K = 2 .. cores"
    why = docker_ready()
    if why:
        emit("parallel_scaling", {}, target, False, f"not run: {why}")
        return 0
    if cores < 2:
        emit("parallel_scaling", {"cores": cores}, target, False, "not run: one core, nothing to scale")
        return 0
    ks = list(range(2, min(cores, len(ALL)) + 1))
    build(ALL[: max(ks)])
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in ks:
            releases = ALL[:k]
            serial = timed(releases, 1, Path(tmp) / f"s{k}")
            parallel = timed(releases, k, Path(tmp) / f"p{k}")
            rows[str(k)] = {
                "serial_s": round(serial, 2),
                "parallel_s": round(parallel, 2),
                "speedup": round(serial / parallel, 3),
                "needed": round(0.8 * k, 2),
            }
    met = all(row["speedup"] >= row["needed"] for row in rows.values())
    emit("parallel_scaling", {"cores": cores, "burn_s_per_container": BURN_S, "by_k": rows}, target, met)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
