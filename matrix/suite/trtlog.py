"""A recording TensorRT logger: severity and text of every message, kept in order.

Contract: `make_logger(trt)` returns an instance of a subclass of the given module's `trt.ILogger`
(built against whatever release is loaded, so it works with every release's base class) whose
`lines` holds `LogLine`s; error lines are also written to stderr at once, so that a check whose process
TensorRT then aborts (a crash cell keeps only the process's stderr) still shows the line that explains
it (`ECHOED`). `relevant(lines)` keeps what belongs in a result record: every error and
warning, and info lines that a recogniser knows, capped. Runs on Python 3.8.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from matrix.suite import classify
from matrix.suite.schema import LogLine

MAX_KEPT = 60
ECHOED = ("internal_error", "error")  # severities also written to stderr as "[TRT] <severity>: <text>"

_SEVERITY_NAMES = {
    "INTERNAL_ERROR": "internal_error",
    "ERROR": "error",
    "WARNING": "warning",
    "INFO": "info",
    "VERBOSE": "verbose",
}


def severity_name(severity: Any) -> str:
    """'error' for trt.ILogger.Severity.ERROR, whatever the release calls its enum."""
    name = getattr(severity, "name", None) or str(severity).rsplit(".", 1)[-1]
    return _SEVERITY_NAMES.get(str(name).upper(), str(name).lower())


def make_logger(trt: Any, min_severity: Any | None = None) -> Any:
    """A `trt.ILogger` subclass instance that records every message it is given."""
    base = trt.ILogger

    class RecordingLogger(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            base.__init__(self)
            self.lines: list[LogLine] = []
            self._lock = threading.Lock()  # TensorRT may log from its own threads
            if min_severity is not None:
                self.min_severity = min_severity

        def log(self, severity: Any, msg: str) -> None:
            line = LogLine(severity_name(severity), str(msg))
            with self._lock:
                self.lines.append(line)
            if line.severity in ECHOED:
                sys.stderr.write(f"[TRT] {line.severity}: {line.text}\n")
                sys.stderr.flush()

        def texts(self) -> list[str]:
            with self._lock:
                return [line.text for line in self.lines]

    return RecordingLogger()


def relevant(lines: list[LogLine], limit: int = MAX_KEPT) -> list[LogLine]:
    """Errors, warnings and recognised info lines, in order, at most `limit` (errors first if cut)."""
    keep = [
        line
        for line in lines
        if line.severity in ("internal_error", "error", "warning", "stderr", "harness")
        or classify.classify([line.text]) is not None
    ]
    if len(keep) <= limit:
        return keep
    errors = [x for x in keep if x.severity in ("internal_error", "error")]
    rest = [x for x in keep if x not in errors]
    chosen = set(map(id, (errors + rest)[:limit]))
    return [x for x in keep if id(x) in chosen]
