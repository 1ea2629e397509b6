"""Crash isolation: a segfault, an abort or a hang in a check becomes a cell, and the caller lives on."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from matrix.suite.cells import Cell
from matrix.suite.isolate import run_isolated
from matrix.suite.outcome import CheckContext

FAULTS = "tests.unit.suite.fault_checks"


@pytest.fixture
def ctx(tmp_path: Path) -> CheckContext:
    cell = Cell("serialize", "trt86", "trt86", "retinaface-mnet", "fp32", "onnx", 1, "gpu")
    return CheckContext(cell, "trt86", tmp_path / "artifacts", tmp_path)


def test_a_passing_check_reports_its_outcome_and_api_path(ctx: CheckContext) -> None:
    outcome = run_isolated(f"{FAULTS}:passes", ctx, timeout_s=60)
    assert outcome.status == "pass"
    assert outcome.api_path == ["passes"]
    assert outcome.measurements == {"cell": ctx.cell.id}


def test_a_failing_check_keeps_the_path_it_took(ctx: CheckContext) -> None:
    outcome = run_isolated(f"{FAULTS}:fails", ctx, timeout_s=60)
    assert (outcome.status, outcome.reason) == ("fail", "the assertion did not hold")
    assert outcome.api_path == ["about-to-fail"]


def test_a_harness_bug_is_infra_error_not_a_tensorrt_verdict(ctx: CheckContext) -> None:
    outcome = run_isolated(f"{FAULTS}:harness_bug", ctx, timeout_s=60)
    assert outcome.status == "infra_error"
    assert "KeyError" in outcome.reason and "fault_checks.py" in outcome.reason


def test_a_segfault_becomes_a_crash_with_the_signal_and_stderr(ctx: CheckContext) -> None:
    outcome = run_isolated(f"{FAULTS}:segfault", ctx, timeout_s=60)
    assert outcome.status == "crash"
    assert outcome.signal == "SIGSEGV"
    assert any("Segmentation fault" in line.text for line in outcome.log)  # faulthandler's report


def test_an_abort_becomes_a_crash(ctx: CheckContext) -> None:
    outcome = run_isolated(f"{FAULTS}:aborts", ctx, timeout_s=60)
    assert (outcome.status, outcome.signal) == ("crash", "SIGABRT")


def test_an_abort_keeps_the_logged_line_that_explains_it(ctx: CheckContext) -> None:
    """The error line the logger echoed stays in the crash cell (and names the known issue), though the
    fault handler's traceback after it is longer than the stderr tail kept."""
    outcome = run_isolated(f"{FAULTS}:logs_then_aborts_deep", ctx, timeout_s=60)
    assert (outcome.status, outcome.signal) == ("crash", "SIGABRT")
    assert "int8-plugin-scales: [TRT] error: 2: [pluginV2Runner.cpp" in outcome.reason
    assert any("scales.size() == 1" in line.text for line in outcome.log)
    assert len(outcome.log) > 25  # the tail is still there after it


def test_an_exit_without_a_report_is_a_crash_with_the_code(ctx: CheckContext) -> None:
    outcome = run_isolated(f"{FAULTS}:exits_silently", ctx, timeout_s=60)
    assert outcome.status == "crash" and "code 3" in outcome.reason


def test_a_hang_becomes_a_timeout_and_nothing_is_left_running(ctx: CheckContext) -> None:
    started = time.monotonic()
    outcome = run_isolated(f"{FAULTS}:hangs", ctx, timeout_s=2)
    assert outcome.status == "timeout"
    assert "2 s limit" in outcome.reason
    assert time.monotonic() - started < 30
    grandchild = int((ctx.scratch / "grandchild.pid").read_text())
    for _ in range(50):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the hanging check's child process {grandchild} outlived the timeout")
