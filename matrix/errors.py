"""Errors a user can act on.

Contract: anything raised as `UserError` is printed by the CLI as one line, `trt-matrix: error: ...`,
and the process exits with code 2 and no traceback. The message names the problem and what to do.
Everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a missing prerequisite (config, Docker daemon, GPU, file): exit code 2."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message
