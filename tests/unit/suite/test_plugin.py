"""The suite as a user runs it: `pytest tests/compat` here (no GPU, no TensorRT).

Runs pytest in a child process over the real tests/compat, with results and artifacts in a temp
folder, and checks what it wrote: one valid record per cell, GPU cells not run with the reason,
harness cells run; `--trt-resume` redoes nothing; a run killed mid-way keeps its finished cells and a
resumed run completes the rest without duplicates.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from matrix.run import results
from matrix.suite import cells
from matrix.suite.schema import CellResult

ROOT = Path(__file__).resolve().parents[3]
SELECT = ["--trt-phase", "1,2", "--trt-keyword", "not int8"]  # phase-1/2 cells whose checks exist


def suite(tmp: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "tests/compat",
        "-q",
        "-p",
        "no:cacheprovider",
        "--trt-release",
        "trt86",
        "--trt-run-id",
        "t1",
        "--trt-results",
        str(tmp / "results"),
        "--trt-artifacts",
        str(tmp / "artifacts"),
        *SELECT,
        *extra,
    ]
    full_env = dict(os.environ, **(env or {}))
    full_env.pop("TRT_MATRIX_FAULT", None) if env is None else None
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=full_env, timeout=600, check=False)


def planned() -> list[cells.Cell]:
    return cells.select(cells.plan(["trt86"], phases=(1, 2), producers=["trt86"]), ["not int8"])


def records(tmp: Path) -> list[CellResult]:
    return results.load([tmp / "results"])


def test_without_a_gpu_every_gpu_cell_says_why_and_harness_cells_run(tmp_path: Path) -> None:
    proc = suite(tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:]
    got = records(tmp_path)
    assert sorted(r.cell_id for r in got) == sorted(c.id for c in planned())
    by_status: dict[str, list[str]] = {}
    for r in got:
        by_status.setdefault(r.status, []).append(r.cell_id)
    assert set(by_status) == {"skip", "pass"}, by_status.keys()
    for r in got:
        if r.status == "skip":
            assert r.reason.startswith("tensorrt not importable: No module named 'tensorrt'")
            assert "no CUDA device" in r.reason or r.check == "toolchain"
        else:
            assert r.check == "exchange"
    assert (tmp_path / "results" / "trt86.p1.jsonl").is_file() and (tmp_path / "results" / "trt86.p2.jsonl").is_file()
    assert "skip: tensorrt not importable" in proc.stdout or "skipped" in proc.stdout


def test_resume_redoes_nothing(tmp_path: Path) -> None:
    assert suite(tmp_path).returncode == 0
    before = (tmp_path / "results" / "trt86.p1.jsonl").read_bytes()
    again = suite(tmp_path, "--trt-resume")
    assert again.returncode == 0
    assert (tmp_path / "results" / "trt86.p1.jsonl").read_bytes() == before
    assert "already recorded" in again.stdout or "skipped" in again.stdout


def test_a_killed_run_keeps_finished_cells_and_resume_completes_it(tmp_path: Path) -> None:
    crashed = suite(tmp_path, env={"TRT_MATRIX_FAULT": "crash:7"})
    assert crashed.returncode == -signal.SIGABRT
    kept = records(tmp_path)
    assert len(kept) == 7
    resumed = suite(tmp_path, "--trt-resume")
    assert resumed.returncode == 0
    final = records(tmp_path)
    ids = [r.cell_id for r in final]
    assert len(ids) == len(set(ids)) == len(planned())
    assert [r.cell_id for r in kept] == [c.id for c in planned()[:7]]  # plan order: phase 1 first
    assert {r.cell_id for r in kept} <= set(ids)
