"""How each status looks in every report: one symbol, one word, one colour.

Contract: every renderer (HTML, Markdown, SVG, text) takes symbols and colours from `STYLES`, so a
status reads the same everywhere, and the symbol alone tells statuses apart for readers who cannot
tell the colours apart. `ABSENT` is the pseudo-status of a planned cell with no record. `worst()`
orders statuses by how loudly a report must show them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from matrix.suite.schema import STATUSES

ABSENT = "absent"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Style:
    status: str
    symbol: str
    label: str
    background: str
    foreground: str
    meaning: str


STYLES: dict[str, Style] = {
    s.status: s
    for s in (
        Style(
            status="pass",
            symbol="✓",
            label="pass",
            background="#cdebd3",
            foreground="#0f5323",
            meaning="ran, and what it asserts held",
        ),
        Style(
            status="fail",
            symbol="✗",
            label="fail",
            background="#f7c6c2",
            foreground="#8a1410",
            meaning="ran, and it did not hold",
        ),
        Style(
            status="xfail",
            symbol="⚠",
            label="xfail",
            background="#fbe7a9",
            foreground="#6b4d00",
            meaning="failed as a cited known issue says",
        ),
        Style(
            status="xpass",
            symbol="‼",
            label="XPASS",
            background="#e3c3f5",
            foreground="#5a0d80",
            meaning="a known issue says it fails, but it passed: the expectation is out of date",
        ),
        Style(
            status="skip",
            symbol="–",
            label="skip",
            background="#eceff1",
            foreground="#455a64",
            meaning="could not run here (no GPU, no libnvinfer, ...)",
        ),
        Style(
            status="na",
            symbol="∅",
            label="n/a",
            background="#f5f5f5",
            foreground="#616161",
            meaning="does not apply to this release (API absent)",
        ),
        Style(
            status="crash",
            symbol="☠",
            label="crash",
            background="#5c0a0a",
            foreground="#ffffff",
            meaning="the check's process died on a signal",
        ),
        Style(
            status="timeout",
            symbol="◷",
            label="timeout",
            background="#ffd3a8",
            foreground="#7a3b00",
            meaning="ran past its time limit and was killed",
        ),
        Style(
            status="infra_error",
            symbol="?",
            label="infra error",
            background="#c9d8f0",
            foreground="#17365d",
            meaning="the harness or the machine failed, not TensorRT",
        ),
        Style(
            status=ABSENT,
            symbol="·",
            label="not run",
            background="#ffffff",
            foreground="#9e9e9e",
            meaning="planned, but no record (see 'What did not run')",
        ),
    )
}
assert set(STATUSES) <= set(STYLES)

# Loudest first: what a summary cell's colour shows when it holds several statuses.
LOUDNESS = ("xpass", "crash", "timeout", "fail", "infra_error", "xfail", "pass", "na", "skip", ABSENT)
# Statuses a report lists with their log lines: something is wrong or out of date.
PROBLEMS = ("xpass", "crash", "timeout", "fail", "infra_error")
REGRESSIONS = frozenset({"fail", "crash", "timeout"})


def worst(statuses: Iterable[str]) -> str:
    present = set(statuses)
    for status in LOUDNESS:
        if status in present:
            return status
    return ABSENT


def symbol(status: str) -> str:
    return STYLES[status].symbol


def legend() -> list[Style]:
    return [STYLES[s] for s in (*STATUSES, ABSENT)]
