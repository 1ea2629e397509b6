"""Run one check in its own process, with a timeout, so a segfault or abort becomes a cell.

Contract: `run_isolated(target, ctx, timeout_s)` always returns an `Outcome`: the child's own, or
`crash` (with the signal name, the tail of its stderr, and earlier stderr lines a log pattern
recognises, which a long fault-handler traceback would otherwise push out of the tail) when it died,
or `timeout` when it ran past `timeout_s` and was killed with its whole process group. The caller's process is never at
risk, and nothing the child started is left running. Runs on Python 3.8.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from matrix.suite import classify
from matrix.suite.outcome import CheckContext, Outcome
from matrix.suite.schema import LogLine

STDERR_TAIL_LINES = 25
KNOWN_KEPT = 8
KILL_GRACE_S = 5.0


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _tail(path: Path, lines: int = STDERR_TAIL_LINES) -> list[str]:
    """The last `lines` non-empty stderr lines, after at most KNOWN_KEPT earlier ones that classify.py
    recognises (TensorRT's own explanation, logged just before an abort, then a 30-line traceback)."""
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    kept = [line for line in text.splitlines() if line.strip()]
    known = [line for line in kept[:-lines] if classify.classify([line]) is not None]
    return known[-KNOWN_KEPT:] + kept[-lines:]


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=KILL_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_isolated(
    target: str, ctx: CheckContext, timeout_s: float, python: str | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """Run `target` (module:function) on `ctx` in a child process; see the module contract."""
    root = Path(__file__).resolve().parents[2]
    child_env = dict(os.environ if env is None else env)
    child_env["PYTHONPATH"] = str(root) + (os.pathsep + child_env["PYTHONPATH"] if child_env.get("PYTHONPATH") else "")
    child_env.setdefault("PYTHONUNBUFFERED", "1")
    with tempfile.TemporaryDirectory(prefix="trt-matrix-cell-") as tmp:
        work = Path(tmp)
        spec_path, out_path, err_path = work / "spec.json", work / "outcome.json", work / "stderr.txt"
        spec_path.write_text(json.dumps({"target": target, "context": ctx.to_json()}), encoding="utf-8")
        cmd = [python or sys.executable, "-m", "matrix.suite.worker", str(spec_path), str(out_path)]
        started = time.monotonic()
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(
                cmd,
                stdout=err,
                stderr=subprocess.STDOUT,
                env=child_env,
                start_new_session=True,
                cwd=str(ctx.scratch) if ctx.scratch.is_dir() else None,
            )
            try:
                code = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                tail = _tail(err_path)
                return Outcome(
                    "timeout",
                    f"ran past its {timeout_s:.0f} s limit and was killed",
                    log=[LogLine("stderr", line) for line in tail],
                    measurements={"elapsed_s": round(time.monotonic() - started, 3)},
                )
            finally:
                # Whatever the check started (trtexec, a compiled probe) goes with it.
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        tail = _tail(err_path)
        if code < 0:
            name = _signal_name(-code)
            known = classify.classify(tail)
            return Outcome(
                "crash",
                f"the check's process died on {name}" + (f": {known.describe()}" if known else ""),
                signal=name,
                log=[LogLine("stderr", line) for line in tail],
            )
        if not out_path.exists():
            return Outcome(
                "crash",
                f"the check's process exited with code {code} before reporting",
                signal=None,
                log=[LogLine("stderr", line) for line in tail],
            )
        outcome = Outcome.from_json(json.loads(out_path.read_text(encoding="utf-8")))
        if outcome.status == "infra_error":
            outcome.log.extend(LogLine("stderr", line) for line in tail[-8:])
        return outcome
