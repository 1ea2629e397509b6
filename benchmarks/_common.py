"""What the benchmarks share: the one-line JSON result, and the Docker setup on the local test base.

Every benchmark prints, as its last line, one JSON object {name, figures, target, met}; figures are
measured side by side in one run (ratios, not absolute times, carry across machines). Docker
benchmarks need a daemon and trt-matrix/test-base:bookworm; without them they print met=false and say
why, rather than pretend.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TEST_BASE = "trt-matrix/test-base:bookworm"
CA = "/etc/ssl/certs/ca-certificates.crt"
CHEAP = ("-k", "exchange", "-k", "toolchain:*:version")


def machine() -> dict[str, Any]:
    return {
        "host": platform.node(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def emit(name: str, figures: dict[str, Any], target: str, met: bool, note: str = "") -> None:
    out: dict[str, Any] = {"name": name, "figures": {"machine": machine(), **figures}, "target": target, "met": met}
    if note:
        out["note"] = note
    print(json.dumps(out))


def docker_ready() -> str:
    """'' when Docker and the test base are there, else why not."""
    try:
        proc = subprocess.run(
            ["docker", "image", "inspect", TEST_BASE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"docker is not usable: {exc}"
    if proc.returncode != 0:
        return (
            f"{TEST_BASE} is not loaded (trt-matrix images test-base), or no Docker daemon: {proc.stderr.strip()[:200]}"
        )
    return ""


def trt_matrix(*args: str, check: bool = True) -> tuple[float, str]:
    """Run the CLI in a child process (as a user would); returns (wall seconds, output)."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "matrix", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, CI="true"),
        check=False,
    )
    wall = time.perf_counter() - started
    if check and proc.returncode != 0:
        raise SystemExit(
            f"trt-matrix {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
        )
    return wall, proc.stdout + proc.stderr


def build(releases: tuple[str, ...]) -> None:
    trt_matrix(
        "images", "build", "--only", ",".join(releases), "--base-image", TEST_BASE, "--ca-bundle", CA, "--skip-tensorrt"
    )


def run_args(releases: tuple[str, ...], results: Path, run_id: str, *extra: str) -> tuple[str, ...]:
    return (
        "run",
        "--docker",
        "--only",
        ",".join(releases),
        "--base-image",
        TEST_BASE,
        "--ca-bundle",
        CA,
        "--skip-tensorrt",
        *CHEAP,
        "--results",
        str(results / "results"),
        "--artifacts",
        str(results / "artifacts"),
        "--no-report",
        "--run-id",
        run_id,
        *extra,
    )


def containers_started(output: str) -> int:
    for line in output.splitlines():
        if "container(s) started" in line:
            return int(line.split()[0])
    raise SystemExit(f"no 'container(s) started' line in:\n{output[-2000:]}")
