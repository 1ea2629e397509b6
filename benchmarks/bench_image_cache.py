"""Benchmark 2: rebuilding every catalogue image when nothing changed.

Builds all six release images on the local test base once (not timed: it may or may not hit the
cache), then times `trt-matrix images build` of all six again, REPEATS times, as a user runs it (a
child process: start-up, catalogue, build contexts, the daemon's cache checks, BOM lookups).

Target: at most 5 s in total for the six.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import CA, TEST_BASE, build, docker_ready, emit, trt_matrix

RELEASES = ("trt84", "trt85", "trt86", "trt100", "trt10", "trt11")
REPEATS = 5


def main() -> int:
    why = docker_ready()
    if why:
        emit("image_cache", {}, "rebuild of 6 unchanged images <= 5 s", False, f"not run: {why}")
        return 0
    build(RELEASES)
    times, cached = [], []
    for _ in range(REPEATS):
        wall, output = trt_matrix(
            "images",
            "build",
            "--only",
            ",".join(RELEASES),
            "--base-image",
            TEST_BASE,
            "--ca-bundle",
            CA,
            "--skip-tensorrt",
        )
        times.append(wall)
        cached.append(sum(1 for line in output.splitlines() if "steps from cache" in line))
    median = statistics.median(times)
    figures = {
        "images": len(RELEASES),
        "rebuild_s": [round(t, 2) for t in times],
        "median_s": round(median, 2),
        "per_image_s": round(median / len(RELEASES), 3),
        "images_fully_cached": cached,
    }
    emit("image_cache", figures, "rebuild of 6 unchanged images <= 5 s", median <= 5.0 and min(cached) == len(RELEASES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
