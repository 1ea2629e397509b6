"""How image builds show their progress: a live rich display on a terminal, plain lines elsewhere.

Contract: `choose(verbose)` returns a `Display`; `matrix.images.build` calls `step`, `output`, `note`,
`finished` and `failed` on it. The plain display (not a TTY, or CI=true) prints one line per build
step prefixed with the release id, so CI logs read top to bottom; the rich one shows a progress row
per image with its current step. A failure always prints the failing step's output tail to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

MAX_INSTRUCTION = 100


def short(instruction: str, limit: int = MAX_INSTRUCTION) -> str:
    """One line for a Dockerfile instruction: continuations and runs of spaces collapsed."""
    text = " ".join(instruction.replace("\\\n", " ").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain_wanted(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stdout
    if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
        return True
    return not (hasattr(stream, "isatty") and stream.isatty())


class Display:
    """Plain lines: `trt86: step 3/17 (cached) RUN ...`."""

    def __init__(self, verbose: bool = False, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.verbose = verbose
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def __enter__(self) -> Display:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        return None

    def _line(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def begin(self, release_id: str, what: str) -> None:
        self._line(f"{release_id}: building {what}")

    def step(self, release_id: str, number: int, total: int, instruction: str, state: str) -> None:
        self._line(f"{release_id}: step {number}/{total} ({state}) {short(instruction)}")

    def output(self, release_id: str, line: str) -> None:
        if self.verbose:
            self._line(f"{release_id}:   {line}")

    def note(self, release_id: str, text: str) -> None:
        self._line(f"{release_id}: {text}")

    def finished(self, release_id: str, text: str) -> None:
        self._line(f"{release_id}: {text}")

    def failed(self, release_id: str, step: str, tail: Sequence[str]) -> None:
        self.out.flush()
        if not tail:
            return
        self.err.write(f"{release_id}: build failed at {step}; the step's last output lines:\n")
        for line in tail:
            self.err.write(f"{release_id}: | {line}\n")
        self.err.flush()


class RichDisplay(Display):
    """A live progress row per image (spinner, release, step N/M, current instruction, elapsed)."""

    def __init__(self, verbose: bool = False) -> None:
        super().__init__(verbose)
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.console = Console(stderr=False)
        self.progress: Progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[release]}"),
            BarColumn(bar_width=20),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> RichDisplay:
        self.progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.stop()

    def _task(self, release_id: str) -> TaskID:
        if release_id not in self.tasks:
            self.tasks[release_id] = self.progress.add_task("starting", total=None, release=release_id)
        return self.tasks[release_id]

    def begin(self, release_id: str, what: str) -> None:
        self.progress.update(self._task(release_id), description="starting")
        self.progress.console.print(f"{release_id}: building {what}", markup=False, highlight=False)

    def step(self, release_id: str, number: int, total: int, instruction: str, state: str) -> None:
        text = f"({state}) {short(instruction, 70)}"
        self.progress.update(self._task(release_id), total=total, completed=number - 1, description=text)

    def output(self, release_id: str, line: str) -> None:
        if self.verbose:
            self.progress.console.print(f"{release_id}:   {line}", markup=False, highlight=False)

    def note(self, release_id: str, text: str) -> None:
        self.progress.console.print(f"{release_id}: {text}", markup=False, highlight=False)

    def finished(self, release_id: str, text: str) -> None:
        task = self._task(release_id)
        total = self.progress.tasks[task].total
        self.progress.update(task, completed=total or 1, total=total or 1, description="done")
        self.progress.console.print(f"{release_id}: {text}", markup=False, highlight=False)

    def failed(self, release_id: str, step: str, tail: Sequence[str]) -> None:
        self.progress.update(self._task(release_id), description=f"[red]failed at {step}")
        self.progress.stop()
        super().failed(release_id, step, tail)
        self.progress.start()


def choose(verbose: bool = False) -> Display:
    """Plain lines when stdout is not a terminal or CI=true; a live display otherwise."""
    if plain_wanted():
        return Display(verbose)
    return RichDisplay(verbose)
