"""Per-cell regression diff between two runs (the last published one and the new one).

Contract: `compare(old, new)` returns a `Diff` of cell-id sets: newly failing / crashing / timing
out (the only regressions: `Diff.regressed`), newly passing (a cell that failed, crashed, timed out
or was xfail now passes), new infrastructure errors, stale cells (in OLD, not re-run in NEW), new
cells, and expectations that no longer hold (an OLD xfail that passes in NEW, or whose expectation
matches no NEW record although its cells were re-run). Records are compared as given; the caller
applies expectations to both sides first.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from matrix.report.style import LOUDNESS
from matrix.suite.schema import CellResult

FAILED_BEFORE = frozenset({"fail", "xfail", "crash", "timeout"})
PASSED = frozenset({"pass", "xpass"})


@dataclasses.dataclass(frozen=True, kw_only=True)
class Broken:
    """An expectation that stopped holding, and the cells that show it."""

    id: str
    citation: str
    why: str
    cells: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    cell_id: str
    old: str
    new: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Diff:
    newly_failing: tuple[Change, ...]
    newly_crashing: tuple[Change, ...]
    newly_timing_out: tuple[Change, ...]
    newly_passing: tuple[Change, ...]
    new_infra_errors: tuple[Change, ...]
    stale: tuple[str, ...]
    new_cells: tuple[str, ...]
    expectations_broken: tuple[Broken, ...]
    old_cells: int
    new_cells_total: int

    @property
    def regressed(self) -> bool:
        return bool(self.newly_failing or self.newly_crashing or self.newly_timing_out)

    def to_json(self) -> dict[str, Any]:
        def changes(items: tuple[Change, ...]) -> list[dict[str, str]]:
            return [dataclasses.asdict(c) for c in items]

        return {
            "schema": "trt-matrix.diff/1",
            "regressed": self.regressed,
            "old_cells": self.old_cells,
            "new_cells_total": self.new_cells_total,
            "newly_failing": changes(self.newly_failing),
            "newly_crashing": changes(self.newly_crashing),
            "newly_timing_out": changes(self.newly_timing_out),
            "newly_passing": changes(self.newly_passing),
            "new_infra_errors": changes(self.new_infra_errors),
            "stale": list(self.stale),
            "new_cells": list(self.new_cells),
            "expectations_broken": [dataclasses.asdict(b) for b in self.expectations_broken],
        }


def _latest(records: Sequence[CellResult]) -> dict[str, CellResult]:
    """One record per cell: the loudest when inputs disagree (a diff must not hide a failure)."""
    out: dict[str, CellResult] = {}
    for r in records:
        if r.cell_id not in out or LOUDNESS.index(r.status) < LOUDNESS.index(out[r.cell_id].status):
            out[r.cell_id] = r
    return out


def compare(old_records: Sequence[CellResult], new_records: Sequence[CellResult]) -> Diff:
    old, new = _latest(old_records), _latest(new_records)
    buckets: dict[str, list[Change]] = defaultdict(list)
    for cell_id, now in new.items():
        before = old.get(cell_id)
        was = before.status if before else "absent"
        change = Change(cell_id=cell_id, old=was, new=now.status)
        if now.status == "fail" and was != "fail":
            buckets["failing"].append(change)
        elif now.status == "crash" and was != "crash":
            buckets["crashing"].append(change)
        elif now.status == "timeout" and was != "timeout":
            buckets["timeout"].append(change)
        elif now.status == "infra_error" and was != "infra_error":
            buckets["infra"].append(change)
        elif now.status in PASSED and was in FAILED_BEFORE:
            buckets["passing"].append(change)
    broken: list[Broken] = []
    by_expectation: dict[str, list[CellResult]] = defaultdict(list)
    for r in old.values():
        if r.status == "xfail" and r.expectation:
            by_expectation[r.expectation.get("id", "?")].append(r)
    still = {r.expectation.get("id") for r in new.values() if r.expectation}
    for ident, olds in by_expectation.items():
        cite = olds[0].expectation.get("citation", "") if olds[0].expectation else ""
        passing = tuple(r.cell_id for r in olds if r.cell_id in new and new[r.cell_id].status in PASSED)
        rerun = [r.cell_id for r in olds if r.cell_id in new]
        if passing:
            broken.append(Broken(id=ident, citation=cite, why="its cells pass now", cells=passing))
        elif rerun and ident not in still:
            broken.append(
                Broken(id=ident, citation=cite, why="it matched no record of the new run", cells=tuple(rerun))
            )
    return Diff(
        newly_failing=tuple(buckets["failing"]),
        newly_crashing=tuple(buckets["crashing"]),
        newly_timing_out=tuple(buckets["timeout"]),
        newly_passing=tuple(buckets["passing"]),
        new_infra_errors=tuple(buckets["infra"]),
        stale=tuple(c for c in old if c not in new),
        new_cells=tuple(c for c in new if c not in old),
        expectations_broken=tuple(broken),
        old_cells=len(old),
        new_cells_total=len(new),
    )


def text(diff: Diff) -> str:
    """Grep-friendly lines: `<kind> <cell id> (<old> -> <new>)`, then one summary line."""
    lines: list[str] = []
    for kind, items in (
        ("NEWLY-FAILING", diff.newly_failing),
        ("NEWLY-CRASHING", diff.newly_crashing),
        ("NEWLY-TIMING-OUT", diff.newly_timing_out),
        ("NEWLY-PASSING", diff.newly_passing),
        ("NEW-INFRA-ERROR", diff.new_infra_errors),
    ):
        lines += [f"{kind} {c.cell_id} ({c.old} -> {c.new})" for c in items]
    for b in diff.expectations_broken:
        lines.append(
            f"EXPECTATION-NO-LONGER-HOLDS {b.id}: {b.why} ({len(b.cells)} cells, e.g. {b.cells[0]}) {b.citation}"
        )
    lines += [f"STALE {c} (in OLD, not re-run in NEW)" for c in diff.stale]
    verdict = "REGRESSED" if diff.regressed else "no new regressions"
    counts = (
        f"{len(diff.newly_failing)} newly failing, {len(diff.newly_crashing)} newly crashing, "
        f"{len(diff.newly_timing_out)} newly timing out, {len(diff.newly_passing)} newly passing, "
        f"{len(diff.new_infra_errors)} new infra errors, "
        f"{len(diff.expectations_broken)} expectations no longer hold, {len(diff.stale)} stale, "
        f"{len(diff.new_cells)} new cells ({diff.old_cells} old, {diff.new_cells_total} new)"
    )
    lines.append(f"diff: {verdict}: {counts}")
    return "\n".join(lines)
