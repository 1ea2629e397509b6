"""Benchmark 1: the runner's orchestration overhead against the bare minimum doing the same work.

Every catalogue image (six) on the local test base, the cheap cells (toolchain:version in phase 1, exchange in
phase 2, all producers x consumers). The bare minimum is a shell loop of `docker run`: one container
per release for phase 1, then one per consumer for phase 2 with every producer's artifacts mounted,
the same pytest command in each; nothing else (no image checks, no records of dead containers, no
cleanup guarantees, no progress). The runner runs with --jobs 1 (the loop is sequential) and
--no-report; runs alternate and each side's median over REPEATS is compared.

Target: runner time at most 1.10 x the bare loop. Also reported: the runner with its default
parallelism (2 containers at once on this machine) against the same loop.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, build, docker_ready, emit, run_args, trt_matrix

RELEASES = ("trt84", "trt85", "trt86", "trt100", "trt10", "trt11")
REPEATS = 5


def pytest_cmd(release: str, phase: int, producers: tuple[str, ...]) -> list[str]:
    cmd = [
        "python3",
        "-m",
        "pytest",
        "/opt/trt-matrix/tests/compat",
        "-q",
        "-p",
        "no:cacheprovider",
        "--trt-release",
        release,
        "--trt-phase",
        str(phase),
        "--trt-run-id",
        "loop",
        "--trt-results",
        "/results",
        "--trt-artifacts",
        "/artifacts",
        "--trt-keyword",
        "exchange,toolchain:*:version",
    ]
    if phase == 2:
        cmd += ["--trt-producers", ",".join(producers)]
    return cmd


def docker_run(release: str, phase: int, results: Path, extra: list[str]) -> None:
    """One bare `docker run` of the release's image: the repository read-only, the results folder, `extra`."""
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network",
            "none",
            "-e",
            "TRT_MATRIX_IN_IMAGE=1",
            *extra,
            "-v",
            f"{ROOT}:/opt/trt-matrix:ro",
            "-v",
            f"{results}:/results",
            f"trt-matrix/{release}:latest",
            *pytest_cmd(release, phase, RELEASES),
        ],
        check=True,
        capture_output=True,
    )


def bare_loop(work: Path) -> float:
    results, artifacts = work / "results", work / "artifacts"
    results.mkdir(parents=True)
    for release in RELEASES:
        (artifacts / release).mkdir(parents=True)
    for path in [results, *(artifacts / r for r in RELEASES)]:
        shutil.chown(path, 1000, 1000)
    started = time.perf_counter()
    for release in RELEASES:
        docker_run(release, 1, results, ["-v", f"{artifacts / release}:/artifacts/{release}"])
    for release in RELEASES:
        mounts = [x for r in RELEASES for x in ("-v", f"{artifacts / r}:/artifacts/{r}:ro")]
        docker_run(release, 2, results, ["-e", "TRT_MATRIX_ARTIFACTS_READONLY=1", *mounts])
    return time.perf_counter() - started


def main() -> int:
    why = docker_ready()
    if why:
        emit("orchestration_overhead", {}, "runner <= 1.10 x bare docker-run loop", False, f"not run: {why}")
        return 0
    build(RELEASES)
    runner, parallel, loop = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(REPEATS):
            wall, _ = trt_matrix(*run_args(RELEASES, Path(tmp) / f"r{i}", f"b{i}", "--jobs", "1"))
            runner.append(wall)
            loop.append(bare_loop(Path(tmp) / f"loop{i}"))
            wall, _ = trt_matrix(*run_args(RELEASES, Path(tmp) / f"p{i}", f"p{i}"))
            parallel.append(wall)
    ratio = statistics.median(runner) / statistics.median(loop)
    figures = {
        "releases": len(RELEASES),
        "containers": 2 * len(RELEASES),
        "repeats": REPEATS,
        "runner_jobs1_s": [round(x, 2) for x in runner],
        "bare_loop_s": [round(x, 2) for x in loop],
        "runner_default_jobs_s": [round(x, 2) for x in parallel],
        "runner_over_loop": round(ratio, 3),
        "runner_default_jobs_over_loop": round(statistics.median(parallel) / statistics.median(loop), 3),
    }
    emit("orchestration_overhead", figures, "runner (--jobs 1) <= 1.10 x bare docker-run loop", ratio <= 1.10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
