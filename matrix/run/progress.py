"""Progress of a run: a live table of cells on a terminal, one plain line per cell in CI logs.

Contract: `make(stream)` picks `LiveProgress` (rich) when the stream is a terminal and CI is not set,
`PlainProgress` otherwise; both take the same calls (`note`, `job`, `cell`, `close`). `Tail` reads the
records a container appends to its results file, complete lines only, so the runner can show each
cell as it ends.
"""

from __future__ import annotations

import collections
import json
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

from matrix.suite.schema import CellResult

SYMBOL = {
    "pass": "✓",
    "fail": "✗",
    "xfail": "⚠",
    "xpass": "‼",
    "skip": "–",
    "na": "·",
    "crash": "✱",
    "timeout": "⌛",
    "infra_error": "?",
}


class Tail:
    """New complete records appended to a JSONL file since the last call."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size if path.exists() else 0

    def read(self) -> list[CellResult]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        out = []
        for line in data[:end].splitlines():
            if line.strip():
                try:
                    out.append(CellResult.from_json(json.loads(line)))
                except (ValueError, KeyError, TypeError):
                    continue  # the runner validates files when it merges; progress only shows
        return out


class PlainProgress:
    """One line per event, for CI logs and pipes."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream
        self.counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def _print(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        self._print(text)

    def job(self, release: str, phase: int, state: str, detail: str = "") -> None:
        self._print(f"[{release} p{phase}] {state}{': ' + detail if detail else ''}")

    def cell(self, result: CellResult) -> None:
        self.counts[result.status] += 1
        where = result.consumer if result.phase else "host"
        reason = f"  {result.reason[:160]}" if result.status != "pass" and result.reason else ""
        self._print(
            f"[{where} p{result.phase}] {SYMBOL.get(result.status, '?')} {result.status:<11} "
            f"{result.cell_id} ({result.duration_s:.1f}s){reason}"
        )

    def close(self) -> None:
        return None


class LiveProgress(PlainProgress):
    """A rich live table: one row per release and phase, counts per status, the last cell."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(stream)
        from rich.console import Console
        from rich.live import Live

        self.console = Console(file=stream)
        self.rows: dict[tuple[str, int], dict[str, Any]] = {}
        self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
        self.live.start()

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title="trt-matrix", expand=False)
        for column in ("release", "phase", "state", "cells", "last cell"):
            table.add_column(column)
        for (release, phase), row in sorted(self.rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            counts = " ".join(f"{SYMBOL[s]}{n}" for s, n in sorted(row["counts"].items()))
            table.add_row(release, str(phase), row["state"], counts, row["last"][-70:])
        return table

    def _refresh(self) -> None:
        self.live.update(self._table())

    def note(self, text: str) -> None:
        self.console.print(text)

    def job(self, release: str, phase: int, state: str, detail: str = "") -> None:
        row = self.rows.setdefault((release, phase), {"state": "", "counts": collections.Counter(), "last": ""})
        row["state"] = state + (f" ({detail})" if detail else "")
        self._refresh()

    def cell(self, result: CellResult) -> None:
        self.counts[result.status] += 1
        key = (result.consumer if result.phase else "host", result.phase)
        row = self.rows.setdefault(key, {"state": "running", "counts": collections.Counter(), "last": ""})
        row["counts"][result.status] += 1
        row["last"] = result.cell_id
        self._refresh()

    def close(self) -> None:
        self._refresh()
        self.live.stop()


def make(stream: IO[str] | None = None) -> PlainProgress:
    out = stream or sys.stderr
    if out.isatty() and not os.environ.get("CI"):
        return LiveProgress(out)
    return PlainProgress(out)
