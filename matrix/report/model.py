"""The report's content, computed once from result records; every renderer reads this.

Contract: `build(records, catalogue, ...)` merges records (conflicts are kept and shown, never
resolved silently), orders cells as the check table does, and computes the release x check table,
the producer x consumer grids of cross checks, the failure list, and what did not run and why
(catalogue releases without results, planned cells without records, skip/na reasons grouped). It
only reads records: nothing is re-run and nothing is inferred to be a pass.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence

from matrix.catalogue import Catalogue
from matrix.report.apidiff import ApiChanges
from matrix.report.style import LOUDNESS, PROBLEMS, worst
from matrix.run import selftest
from matrix.run.results import Conflict, merge
from matrix.suite import cells
from matrix.suite.schema import STATUSES, CellResult

TIERS = {
    0: "tier 0: Python only (no GPU, no TensorRT libraries)",
    1: "tier 1: one TensorRT in the current Python, with a GPU",
    2: "tier 2: Docker images, full matrix",
    3: "tier 3: shards on several machines",
}
CROSS_CHECKS = tuple(dict.fromkeys(s.name for s in cells.CHECKS if s.cross))
_CHECK_INDEX = {name: i for i, name in enumerate(cells.CHECK_NAMES)}
_MODEL_INDEX = {name: i for i, name in enumerate((*cells.MODELS, cells.NO_MODEL))}
_VARIANTS = tuple(dict.fromkeys(v for s in cells.CHECKS for v in s.variants))
_VARIANT_INDEX = {name: i for i, name in enumerate(_VARIANTS)}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReleaseInfo:
    """One row of the summary: a release (or the host) as the records describe it."""

    id: str
    tensorrt: str
    in_catalogue: bool
    cells: int
    tiers: tuple[int, ...]
    bom: tuple[tuple[str, str], ...]
    machines: tuple[str, ...]

    @property
    def gpu(self) -> str:
        """'NVIDIA H100 80GB HBM3 (compute 9.0)' from the BOM, or '' when it names no GPU."""
        bom = dict(self.bom)
        name = next((bom[k] for k in ("gpu", "gpu_name", "device") if bom.get(k)), "")
        cc = next((bom[k] for k in ("compute_capability", "sm", "cc") if bom.get(k)), "")
        return f"{name} (compute {cc})" if name and cc else name


@dataclasses.dataclass(frozen=True, kw_only=True)
class Summary:
    counts: Mapping[str, int]
    worst: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Grid:
    """Producer x consumer outcomes of one cross check, model, precision and variant."""

    check: str
    model: str
    precision: str
    variant: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    cells: Mapping[tuple[str, str], CellResult]

    @property
    def key(self) -> str:
        return f"{self.check}-{self.model}-{self.precision}-{self.variant}"

    @property
    def title(self) -> str:
        return f"{self.check} · {self.model} · {self.precision} · {self.variant}"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReasonGroup:
    status: str
    reason: str
    count: int
    releases: tuple[str, ...]
    checks: tuple[str, ...]
    examples: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Absent:
    release: str
    check: str
    count: int
    examples: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Report:
    generated_at: str
    inputs: tuple[str, ...]
    expectations: str
    results: tuple[CellResult, ...]
    run_ids: tuple[str, ...]
    started: str
    finished: str
    tiers: tuple[int, ...]
    releases: tuple[ReleaseInfo, ...]
    checks: tuple[str, ...]
    models: tuple[str, ...]
    table: Mapping[tuple[str, str], Summary]
    counts: Mapping[str, int]
    grids: tuple[Grid, ...]
    problems: tuple[CellResult, ...]
    xfails: tuple[CellResult, ...]
    xpasses: tuple[CellResult, ...]
    missing_releases: tuple[tuple[str, str], ...]
    absent: tuple[Absent, ...]
    not_run_reasons: tuple[ReasonGroup, ...]
    weights: tuple[tuple[str, str], ...]
    conflicts: tuple[Conflict, ...]
    api_changes: ApiChanges | None
    # the TensorRT double's versions when these are self-test records (every page says so), else ()
    self_test: tuple[str, ...] = ()
    # cell id -> the self-test scenario that predicts its failure (seed, known issue, citation, fix)
    scenarios: Mapping[str, selftest.Scenario] = dataclasses.field(default_factory=dict)

    @property
    def reused(self) -> tuple[CellResult, ...]:
        """Cells copied from an earlier run by `run --reuse` (not executed in the run that holds them)."""
        return tuple(r for r in self.results if r.reused_from)

    def reused_from(self) -> tuple[tuple[str, str, int], ...]:
        """(run id that executed them, the oldest finish among them, count), oldest run first."""
        groups: dict[str, list[str]] = defaultdict(list)
        for r in self.reused:
            origin = r.reused_from or {}
            groups[origin.get("run_id", "?")].append(origin.get("finished_at", ""))
        out = [(run, min(dates), len(dates)) for run, dates in groups.items()]
        return tuple(sorted(out, key=lambda x: (x[1], x[0])))

    @property
    def builder_flags_line(self) -> str:
        """'' when no record says which builder flags its build set; else each precision's flag sets with
        their cell counts ("fp32: -TF32 (21)"), as the builds recorded them (`measurements.builder_flags`)."""
        by_precision: dict[str, Counter[str]] = defaultdict(Counter)
        for r in self.results:
            flags = (r.measurements or {}).get("builder_flags")
            if isinstance(flags, list) and flags:
                by_precision[r.precision][" ".join(dict.fromkeys(str(f) for f in flags))] += 1
        if not by_precision:
            return ""
        parts = []
        for precision in sorted(by_precision):
            sets = ", ".join(f"{flags} ({n})" for flags, n in by_precision[precision].most_common())
            parts.append(f"{precision}: {sets}")
        return "builder flags set (+) or cleared (-) by the builds: " + "; ".join(parts)

    @property
    def reuse_line(self) -> str:
        """'' when nothing was reused; else how many cells, from which runs and how old they are."""
        if not self.reused:
            return ""
        runs = "; ".join(
            f"{n} from {run} (finished {when or '?'}, {age(when, self.generated_at)} old)"
            for run, when, n in self.reused_from()
        )
        total = len(self.results)
        return f"{len(self.reused)} of {total} cells reused, not executed (their inputs did not change): {runs}"

    @property
    def banner(self) -> str:
        """'' for real records; otherwise the line every page and file of the report starts with."""
        if not self.self_test:
            return ""
        return f"{selftest.BANNER}: these records were made with the TensorRT double " + ", ".join(self.self_test)

    @property
    def synthetic_models(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(m for m, label in self.weights if is_synthetic(label)))

    @property
    def absent_total(self) -> int:
        return sum(a.count for a in self.absent)

    def release(self, release_id: str) -> ReleaseInfo | None:
        return next((r for r in self.releases if r.id == release_id), None)


def _parse_time(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def age(finished_at: str, now: str) -> str:
    """How old a reused record is at `now` ('3d 4h', '25m'); '?' when either date is unreadable."""
    start, end = _parse_time(finished_at), _parse_time(now)
    if start is None or end is None:
        return "?"
    if start.tzinfo is None:
        start = start.replace(tzinfo=datetime.timezone.utc)
    if end.tzinfo is None:
        end = end.replace(tzinfo=datetime.timezone.utc)
    minutes = max(0, int((end - start).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def is_synthetic(label: str) -> bool:
    text = label.lower()
    return "synthetic" in text or "random" in text


def release_order(catalogue: Catalogue, seen: Sequence[str]) -> tuple[str, ...]:
    """The host first, then catalogue order, then releases the catalogue does not know."""
    known = [r for r in catalogue.ids if r in seen]
    extra = sorted(r for r in set(seen) if r not in catalogue.ids and r != cells.HOST)
    return ((cells.HOST,) if cells.HOST in seen else ()) + tuple(known) + tuple(extra)


def cell_order(releases: Sequence[str]) -> Callable[[CellResult], tuple[object, ...]]:
    """Sort key: check table order, consumer, producer, model, precision, variant."""
    index = {r: i for i, r in enumerate(releases)}

    def key(r: CellResult) -> tuple[object, ...]:
        return (
            _CHECK_INDEX.get(r.check, len(_CHECK_INDEX)),
            r.check,
            index.get(r.consumer, len(index)),
            index.get(r.producer, len(index)),
            _MODEL_INDEX.get(r.model, len(_MODEL_INDEX)),
            r.model,
            r.precision,
            _VARIANT_INDEX.get(r.variant, len(_VARIANT_INDEX)),
            r.variant,
        )

    return key


def _merged(records: Sequence[CellResult]) -> tuple[list[CellResult], tuple[Conflict, ...]]:
    merged = merge(records)
    kept = list(merged.results)
    for conflict in merged.conflicts:  # shown loudly; the grid shows the loudest of the records
        kept.append(min(conflict.records, key=lambda r: LOUDNESS.index(r.status)))
    return kept, merged.conflicts


def _bom(records: Sequence[CellResult]) -> tuple[tuple[str, str], ...]:
    boms = Counter(json.dumps(r.bom, sort_keys=True, default=str) for r in records if r.bom)
    if not boms:
        return ()
    common: dict[str, object] = json.loads(boms.most_common(1)[0][0])
    # a fact the image could not report (null) is left out, not shown as the word "null"
    out = [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in common.items() if v is not None]
    if len(boms) > 1:
        out.append(("note", f"{len(boms)} different BOMs in this release's records; the most common is shown"))
    return tuple(out)


def _absent(records: Sequence[CellResult], order: tuple[str, ...], run: list[str]) -> tuple[Absent, ...]:
    recorded = {r.cell_id for r in records}
    models = [m for m in cells.MODELS if any(r.model == m for r in records)] or list(cells.DEFAULT_MODELS)
    api = [r for r in order if any(x.check == "api" and x.consumer == r for x in records)]
    planned = cells.plan(run, models=models, phases=(1, 2)) if run else []
    if any(r.phase == 0 for r in records):
        planned = cells.plan([], models=models, phases=(0,), api_releases=api) + planned
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for cell in planned:
        if cell.id not in recorded:
            groups[(cell.release, cell.check)].append(cell.id)
    return tuple(
        Absent(release=rel, check=chk, count=len(ids), examples=tuple(ids[:5])) for (rel, chk), ids in groups.items()
    )


def _reasons(records: Sequence[CellResult]) -> tuple[ReasonGroup, ...]:
    groups: dict[tuple[str, str], list[CellResult]] = defaultdict(list)
    for r in records:
        if r.status in ("skip", "na"):
            groups[(r.status, r.reason)].append(r)
    out = [
        ReasonGroup(
            status=status,
            reason=reason,
            count=len(group),
            releases=tuple(dict.fromkeys(g.consumer for g in group)),
            checks=tuple(dict.fromkeys(g.check for g in group)),
            examples=tuple(g.cell_id for g in group[:3]),
        )
        for (status, reason), group in groups.items()
    ]
    return tuple(sorted(out, key=lambda g: (-g.count, g.status, g.reason)))


def _grids(records: Sequence[CellResult], order: tuple[str, ...]) -> tuple[Grid, ...]:
    by_key: dict[tuple[str, str, str, str], dict[tuple[str, str], CellResult]] = defaultdict(dict)
    for r in records:
        if r.check in CROSS_CHECKS:
            by_key[(r.check, r.model, r.precision, r.variant)][(r.producer, r.consumer)] = r
    releases = [x for x in order if x != cells.HOST]
    grids = []
    for (check, model, precision, variant), found in by_key.items():
        grids.append(
            Grid(
                check=check,
                model=model,
                precision=precision,
                variant=variant,
                producers=tuple(x for x in releases if any(p == x for p, _ in found)),
                consumers=tuple(x for x in releases if any(c == x for _, c in found)),
                cells=found,
            )
        )
    return tuple(grids)


def build(
    records: Sequence[CellResult],
    catalogue: Catalogue,
    *,
    generated_at: str,
    inputs: Sequence[str],
    expectations: str,
    api_changes: ApiChanges | None = None,
) -> Report:
    kept, conflicts = _merged(records)
    seen = [x for r in kept for x in (r.producer, r.consumer)]
    order = release_order(catalogue, seen)
    kept.sort(key=cell_order(order))
    by_release: dict[str, list[CellResult]] = defaultdict(list)
    for r in kept:
        by_release[r.consumer].append(r)
    releases = []
    for rid in order:
        own = by_release.get(rid, [])
        releases.append(
            ReleaseInfo(
                id=rid,
                tensorrt=catalogue.get(rid).tensorrt if rid in catalogue.ids else "",
                in_catalogue=rid in catalogue.ids,
                cells=len(own),
                tiers=tuple(sorted({r.tier for r in own})),
                bom=_bom([r for r in own if r.phase > 0] or own),
                machines=tuple(sorted({r.where for r in own if r.where})),
            )
        )
    table: dict[tuple[str, str], Summary] = {}
    for (rid, check), group in _group(kept).items():
        counts = Counter(r.status for r in group)
        table[(rid, check)] = Summary(counts={s: counts[s] for s in STATUSES if counts[s]}, worst=worst(counts))
    counts = Counter(r.status for r in kept)
    tiers = tuple(sorted({r.tier for r in kept}))
    run = [rid for rid in order if any(r.phase > 0 for r in by_release.get(rid, []))]
    missing = []
    for rid in catalogue.ids:
        own = by_release.get(rid, [])
        if not own:
            why = "no results for this release in the inputs"
            if tiers and max(tiers) == 0:
                why += " (a tier-0 run: Python only, no GPU or TensorRT cells ran anywhere)"
            missing.append((rid, why))
        elif rid not in run:
            missing.append((rid, "tier 0 only (API surface from its bindings); none of its GPU cells ran"))
    weights = sorted({(r.model, r.weights) for r in kept if r.weights and r.model != cells.NO_MODEL})
    return Report(
        generated_at=generated_at,
        inputs=tuple(inputs),
        expectations=expectations,
        results=tuple(kept),
        run_ids=tuple(sorted({r.run_id for r in kept})),
        started=min((r.started_at for r in kept if r.started_at), default=""),
        finished=max((r.finished_at for r in kept if r.finished_at), default=""),
        tiers=tiers,
        releases=tuple(releases),
        checks=tuple(c for c in cells.CHECK_NAMES if any((rid, c) in table for rid in order)),
        models=tuple(m for m in (*cells.MODELS, cells.NO_MODEL) if any(r.model == m for r in kept)),
        table=table,
        counts={s: counts[s] for s in STATUSES if counts[s]},
        grids=_grids(kept, order),
        problems=tuple(r for r in kept if r.status in PROBLEMS),
        xfails=tuple(r for r in kept if r.status == "xfail"),
        xpasses=tuple(r for r in kept if r.status == "xpass"),
        missing_releases=tuple(missing),
        absent=_absent(kept, order, run),
        not_run_reasons=_reasons(kept),
        weights=tuple(weights),
        conflicts=conflicts,
        api_changes=api_changes,
        self_test=selftest.double_versions(kept),
        scenarios=_scenarios(kept),
    )


def _scenarios(kept: Sequence[CellResult]) -> dict[str, selftest.Scenario]:
    """For self-test records: which scenario of tests/double/selftest.toml explains each failing cell."""
    double = [r for r in kept if selftest.is_double(r) and r.status in (*PROBLEMS, "xfail")]
    if not double:
        return {}
    scenarios = selftest.load().scenarios
    out = {}
    for r in double:
        # the scenario the run injected first (two can show one symptom on one cell), then any that explains it
        injected = set(str(r.bom.get("tensorrt_double_faults") or "").split(","))
        ranked = [s for s in scenarios if s.name in injected] + [s for s in scenarios if s.name not in injected]
        found = next((s for s in ranked if s.explains(r)), None)
        if found is not None:
            out[r.cell_id] = found
    return out


def _group(records: Sequence[CellResult]) -> dict[tuple[str, str], list[CellResult]]:
    out: dict[tuple[str, str], list[CellResult]] = defaultdict(list)
    for r in records:
        out[(r.consumer, r.check)].append(r)
    return out
