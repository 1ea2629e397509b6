"""Deliberately misbehaving checks, for the isolation tests only (never planned as cells)."""

from __future__ import annotations

import ctypes
import os
import signal
import time

from matrix.suite import trace
from matrix.suite.outcome import CheckContext, Fail, Outcome


def passes(ctx: CheckContext) -> Outcome:
    trace.take("passes")
    return Outcome("pass", "fine", measurements={"cell": ctx.cell.id})


def fails(ctx: CheckContext) -> Outcome:
    trace.take("about-to-fail")
    raise Fail("the assertion did not hold")


def harness_bug(ctx: CheckContext) -> Outcome:
    table: dict[str, Outcome] = {}
    return table["missing"]


def segfault(ctx: CheckContext) -> Outcome:
    trace.take("dereference NULL")
    ctypes.string_at(0)  # reads address 0: SIGSEGV
    return Outcome("pass")


def aborts(ctx: CheckContext) -> Outcome:
    os.kill(os.getpid(), signal.SIGABRT)
    return Outcome("pass")


def logs_then_aborts_deep(ctx: CheckContext) -> Outcome:
    """TensorRT's explanation through the suite's logger, then an abort 40 frames down (a long fault-handler
    traceback after it), as an INT8 build that asserts in pluginV2Runner ends."""
    import types

    from matrix.suite import trtlog

    base = type("ILogger", (), {"__init__": lambda self: None})
    logger = trtlog.make_logger(types.SimpleNamespace(ILogger=base))
    logger.log("ERROR", "2: [pluginV2Runner.cpp::getInputHostScale::88] Error Code 2: Internal Error "
               "(Assertion scales.size() == 1 failed. )")  # fmt: skip

    def deep(n: int) -> None:
        if n:
            deep(n - 1)
        os.kill(os.getpid(), signal.SIGABRT)

    deep(40)
    return Outcome("pass")


def exits_silently(ctx: CheckContext) -> Outcome:
    os._exit(3)


def hangs(ctx: CheckContext) -> Outcome:
    child = os.fork()  # a grandchild that must not outlive the timeout either
    if child == 0:
        time.sleep(3600)
        os._exit(0)
    with open(os.path.join(str(ctx.scratch), "grandchild.pid"), "w") as handle:
        handle.write(str(child))
    time.sleep(3600)
    return Outcome("pass")
