"""The child process that runs exactly one check: `python -m matrix.suite.worker SPEC OUT`.

Contract: reads the spec (a target `module:function` and a `CheckContext`), runs the target, and
writes an `Outcome` as JSON to OUT before exiting 0. Check signals become their status; any other
exception is a harness bug and becomes `infra_error` with the place it was raised. A crash or hang
leaves no OUT file: the parent (isolate.py) turns that into `crash` or `timeout`. Runs on 3.8.
"""

from __future__ import annotations

import faulthandler
import importlib
import json
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

from matrix.suite import trace, trtlog
from matrix.suite.outcome import CheckContext, CheckSignal, Outcome, write_json_atomic


def resolve(target: str) -> Callable[[CheckContext], Outcome]:
    module_name, _, func_name = target.partition(":")
    module = importlib.import_module(module_name)
    func: Callable[[CheckContext], Outcome] = getattr(module, func_name or "run")
    return func


def run(spec: dict[str, Any]) -> Outcome:
    ctx = CheckContext.from_json(spec["context"])
    try:
        outcome = resolve(spec["target"])(ctx)
    except CheckSignal as signal:
        outcome = Outcome(signal.status, signal.reason, log=signal.log, measurements=signal.measurements)
    except Exception as exc:  # a bug in the harness, not a TensorRT verdict
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        outcome = Outcome(
            "infra_error",
            f"harness error: {type(exc).__name__}: {str(exc).strip()[:300]} (at {where})",
        )
        for line in traceback.format_exception(type(exc), exc, exc.__traceback__)[-6:]:
            trace.note(line.rstrip())
    if not outcome.api_path:
        outcome.api_path = list(trace.API_PATH)
    if trace.BUILDER_FLAGS and "builder_flags" not in outcome.measurements:
        outcome.measurements["builder_flags"] = list(trace.BUILDER_FLAGS)
    seen = {(x.severity, x.text) for x in outcome.log}
    outcome.log = outcome.log + [x for x in trtlog.relevant(trace.all_lines()) if (x.severity, x.text) not in seen]
    return outcome


def main(argv: Any = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m matrix.suite.worker SPEC.json OUT.json", file=sys.stderr)  # noqa: T201
        return 2
    faulthandler.enable()  # a segfault prints the Python stack to stderr, which the parent keeps
    spec = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    outcome = run(spec)
    write_json_atomic(Path(args[1]), outcome.to_json())
    sys.stdout.flush()
    sys.stderr.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
