"""Benchmark 5: cross-load economy: containers started for phase 2 against the naive N x N plan.

The runner starts one container per consumer in phase 2, with every producer's artifacts mounted
read-only into it; a naive plan starts one container per (producer, consumer) pair. For N = 3 and
N = 6 releases on the local test base (phase 1 first, then the timed phase 2 with the exchange cells
of every pair), this counts the containers the runner really started and the records it wrote, and
times phase 2. The naive plan's time is estimated from the measured time per phase-2 container.

Target: the runner's phase-2 containers equal N (ratio to N x N = 1/N) with all N x N records written.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import build, containers_started, docker_ready, emit, run_args, trt_matrix
from matrix.run import results

ALL = ("trt84", "trt85", "trt86", "trt100", "trt10", "trt11")


def main() -> int:
    target = "phase-2 containers == N (N x N records) for N = 3 and 6"
    why = docker_ready()
    if why:
        emit("crossload_economy", {}, target, False, f"not run: {why}")
        return 0
    build(ALL)
    rows = {}
    met = True
    with tempfile.TemporaryDirectory() as tmp:
        for n in (3, 6):
            releases = ALL[:n]
            work = Path(tmp) / f"n{n}"
            trt_matrix(*run_args(releases, work, "x", "--phase", "1"))
            wall, output = trt_matrix(*run_args(releases, work, "x", "--phase", "2"))
            started = containers_started(output)
            pairs = {(r.producer, r.consumer) for r in results.load([work / "results" / "x"]) if r.check == "exchange"}
            per_container = wall / started
            rows[str(n)] = {
                "containers": started,
                "naive_containers": n * n,
                "ratio": round(started / (n * n), 3),
                "records": len(pairs),
                "phase2_s": round(wall, 2),
                "naive_phase2_estimate_s": round(per_container * n * n, 1),
            }
            met = met and started == n and len(pairs) == n * n
    emit("crossload_economy", {"by_n": rows}, target, met)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
