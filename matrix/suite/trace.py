"""The record a check leaves in its process: API path taken and loggers made.

Contract: `take(name)` appends to the API path of the running check; `flag("+FP16")` records a builder
flag set or cleared; `register(logger)` remembers a recording logger. The worker reads them when the
check returns or raises, so a crash-free failure still reports which path it took, which flags it set
and what TensorRT logged. One check per process: no reset needed
outside tests. Runs on Python 3.8.
"""

from __future__ import annotations

from typing import Any

from matrix.suite.schema import LogLine

API_PATH: list[str] = []
LOGGERS: list[Any] = []
EXTRA_LOG: list[LogLine] = []
BUILDER_FLAGS: list[str] = []  # "+FP16", "-TF32", "hardware_compatibility_level=AMPERE_PLUS"


def take(name: str) -> None:
    if not API_PATH or API_PATH[-1] != name:
        API_PATH.append(name)


def flag(change: str) -> None:
    """A builder flag the check set ("+NAME") or cleared ("-NAME"): the record keeps them all."""
    BUILDER_FLAGS.append(change)
    take("BuilderFlag" + change if change[:1] in "+-" else change)


def register(logger: Any) -> Any:
    LOGGERS.append(logger)
    return logger


def note(text: str, severity: str = "harness") -> None:
    """A line from the harness itself (a compiler's error, a subprocess's stderr)."""
    EXTRA_LOG.append(LogLine(severity, text))


def all_lines() -> list[LogLine]:
    lines: list[LogLine] = []
    for logger in LOGGERS:
        lines.extend(getattr(logger, "lines", []))
    return lines + list(EXTRA_LOG)


def reset() -> None:
    del API_PATH[:]
    del LOGGERS[:]
    del EXTRA_LOG[:]
    del BUILDER_FLAGS[:]
