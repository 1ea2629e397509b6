"""Errors a user can act on.

Contract: anything raised as `UserError` is printed by the CLI as one line, `trt-matrix: error: ...`,
and the process exits with code 2 and no traceback. The message names the problem and what to do.
Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations

from pathlib import Path


class UserError(Exception):
    """Bad input or a missing prerequisite (config, Docker daemon, GPU, file): exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of a file the user named, or a `UserError` that names it and says what was expected.

    `what` completes "expected ...": "a versions.toml catalogue", "an expectations file".
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; expected {what}") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder; expected {what}") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read it ({exc.strerror or exc}); expected {what}") from None
    return decode_text(data, path, what)


def decode_text(data: bytes, path: Path, what: str) -> str:
    """`data` as UTF-8, or a `UserError` naming the first bad byte by line and column."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at column {column}); expected {what}: "
            "is it the right file, or was it damaged in transfer?"
        ) from None


def first_line(exc: BaseException) -> str:
    """The first line of a library's message (packaging's parse errors draw a caret under the input)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
