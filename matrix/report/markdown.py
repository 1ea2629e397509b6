"""README.md: GitHub-flavoured Markdown that fits a CI step summary.

Contract: `render(report, image_base)` returns compact Markdown (counts, the release x check table
with symbols, failures with their key log line and citation, expected failures grouped by
expectation, what did not run) under `LIMIT` bytes (GitHub's step-summary limit is 1 MiB): past
`MAX_DETAILED` problems, the rest are listed one line each, then only counted. Record text is
escaped (`md()`), and log text only ever appears inside fenced code blocks.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from matrix.report.html import key_line, measure, safe_url
from matrix.report.model import TIERS, Report, age
from matrix.report.style import ABSENT, STYLES, legend
from matrix.suite.schema import CellResult

LIMIT = 1_000_000
MAX_DETAILED = 60
MAX_LISTED = 400
LOG_LINES = 6
LINE_CHARS = 400
_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def md(text: object) -> str:
    """Text safe in a Markdown paragraph or table cell: HTML and Markdown syntax shown as text."""
    value = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = _SPECIAL.sub(r"\\\1", value)
    return " ".join(value.split())


def fenced(lines: Iterable[str], indent: str = "") -> list[str]:
    """A ```text block whose fence is longer than any backtick run inside it."""
    body = [line[:LINE_CHARS] + (" …" if len(line) > LINE_CHARS else "") for line in lines]
    longest = max((len(m) for line in body for m in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{indent}{fence}text", *(indent + line for line in body), f"{indent}{fence}"]


def sym(status: str) -> str:
    return STYLES[status].symbol


def _counts(counts: Mapping[str, int]) -> str:
    return " ".join(f"{sym(s)}{n}" for s, n in counts.items())


def _header(report: Report) -> list[str]:
    out = []
    if report.banner:
        out += [
            "> [!CAUTION]",
            f"> **{md(report.banner)}.** A test of trt-matrix itself: nothing here is a TensorRT result.",
            "",
        ]
    out += ["# TensorRT compatibility matrix", ""]
    if report.xpasses:
        out += [
            "> [!CAUTION]",
            f"> **‼ {len(report.xpasses)} XPASS**: cells that a cited known issue says fail, passed. "
            + (
                "A self-test: the TensorRT double shows a known issue only when its scenario is injected "
                "(`--inject NAME`):"
                if report.self_test
                else "Update or remove the expectation:"
            ),
        ]
        out += [
            f"> - `{x.cell_id}` (expectation `{md(x.expectation['id'] if x.expectation else '?')}`)"
            for x in report.xpasses[:20]
        ]
        out.append("")
    total = len(report.results)
    counts = ", ".join(f"{sym(s)} {n} {STYLES[s].label}" for s, n in report.counts.items())
    out.append(
        f"**{total} cells**: {counts}"
        + (f"; {report.absent_total} planned cells not run" if report.absent_total else "")
    )
    if report.reuse_line:
        out += ["", f"♻ {md(report.reuse_line)}"]
    if report.builder_flags_line:
        out += ["", md(report.builder_flags_line)]
    out.append("")
    out.append(
        f"Run {', '.join(f'`{md(r)}`' for r in report.run_ids) or '(none)'}"
        + (f" · {md(report.started)} → {md(report.finished)}" if report.started else "")
        + f" · generated {md(report.generated_at)}"
    )
    out.append("")
    out.append("Tiers: " + ("; ".join(TIERS.get(t, f"tier {t}") for t in report.tiers) or "none"))
    out.append("")
    machines = [
        f"{rel.id}: {rel.gpu or 'no GPU named'}" + (f" on {', '.join(rel.machines)}" if rel.machines else "")
        for rel in report.releases
    ]
    out.append("Machines: " + md("; ".join(machines)))
    if report.synthetic_models:
        out += [
            "",
            f"> [!WARNING]\n> **Synthetic weights** for {md(', '.join(report.synthetic_models))}: accuracy "
            "numbers compare TensorRT with ONNX Runtime on the same untrained weights, nothing more.",
        ]
    if report.conflicts:
        out += [
            "",
            f"> [!WARNING]\n> **{len(report.conflicts)} conflicting records** (one cell, different outcomes "
            "in different inputs); see index.html.",
        ]
    out.append("")
    return out


def _table(report: Report) -> list[str]:
    out = [
        "## Release × check",
        "",
        "| release | " + " | ".join(report.checks) + " |",
        "|---|" + "---|" * len(report.checks),
    ]
    for rel in report.releases:
        name = f"{rel.id}" + (f" ({rel.tensorrt})" if rel.tensorrt else "")
        cells = [(_counts(s.counts) if (s := report.table.get((rel.id, c))) else "·") for c in report.checks]
        out.append(f"| {md(name)} | " + " | ".join(cells) + " |")
    for rid, why in report.missing_releases:
        if report.release(rid) is None:
            out.append(f"| {md(rid)} | not run: {md(why)} |" + " |" * (len(report.checks) - 1))
    out += ["", "Legend: " + " · ".join(f"{s.symbol} {s.label}" for s in legend()), ""]
    bom = [rel for rel in report.releases if rel.bom or rel.machines]
    if bom:
        out += ["<details><summary>Machines and bills of materials</summary>", ""]
        for rel in bom:
            parts = [f"{k}={v}" for k, v in rel.bom]
            out.append(f"- **{md(rel.id)}** on {md(', '.join(rel.machines) or '?')}: {md('; '.join(parts))}")
        out += ["", "</details>", ""]
    if report.weights:
        out += ["Weights: " + "; ".join(f"{md(m)}: {md(label)}" for m, label in report.weights), ""]
    return out


def _problem(x: CellResult, detailed: bool, report: Report | None = None) -> list[str]:
    head = f"- {sym(x.status)} **{STYLES[x.status].label}** `{x.cell_id}`"
    if x.reason:
        head += f": {md(x.reason)}"
    if x.reused_from:
        when = x.reused_from.get("finished_at", "")
        old = f", {age(when, report.generated_at)} old" if report is not None else ""
        head += f" ♻ _reused from {md(x.reused_from.get('run_id', '?'))} ({md(when)}{old})_"
    if not detailed:
        line = key_line(x)
        return [head + (f" — _{md(line[:200])}_" if line else "")]
    out = [head]
    if x.expectation:
        url = safe_url(x.expectation.get("citation"))
        cite = f"[citation]({url})" if url else md(x.expectation.get("citation", ""))
        out.append(f"  expectation `{md(x.expectation.get('id', '?'))}` {cite}")
        if x.expectation.get("fix"):
            out.append(f"  fix: {md(x.expectation['fix'])}")
    scenario = report.scenarios.get(x.cell_id) if report is not None else None
    if scenario is not None:
        url = safe_url(scenario.citation)
        known = f"`{md(scenario.expectation)}`" if scenario.expectation else md(scenario.seed)
        out.append(f"  self-test scenario `{md(scenario.name)}`: {md(scenario.seed)}")
        out.append(f"  known issue: {known}" + (f" [citation]({url})" if url else ""))
        out.append(f"  fix: {md(scenario.fix)}")
    if x.signal:
        out.append(f"  signal {md(x.signal)}")
    if x.measurements:
        out.append("  " + md(", ".join(f"{k}={measure(v)}" for k, v in sorted(x.measurements.items()))))
    errors = [line.text for line in x.log if line.severity in ("internal_error", "error", "stderr")]
    shown = (errors or [line.text for line in x.log])[:LOG_LINES]
    if shown:
        out.append("")
        out += fenced(shown, indent="  ")
    return out


def _xfails(report: Report) -> list[str]:
    if not report.xfails:
        return []
    groups: dict[str, list[CellResult]] = defaultdict(list)
    for x in report.xfails:
        groups[x.expectation["id"] if x.expectation else "?"].append(x)
    out = [
        f"## Expected failures ({len(report.xfails)})",
        "",
        "| expectation | cells | citation | fix | e.g. | its log line |",
        "|---|---|---|---|---|---|",
    ]
    for ident, group in groups.items():
        e = group[0].expectation or {}
        url = safe_url(e.get("citation"))
        line = md(key_line(group[0])[:200]) or "·"
        out.append(
            f"| `{md(ident)}` | {len(group)} | {f'[link]({url})' if url else '?'} | {md(e.get('fix', '')) or '·'} "
            f"| `{group[0].cell_id}` | {line} |"
        )
    explained = [x for x in report.xfails if x.cell_id in report.scenarios]
    if explained:  # a self-test: each expected failure an injected scenario predicts, in full
        out += ["", f"### Self-test scenarios among them ({len(explained)})", ""]
        for x in explained[:MAX_DETAILED]:
            out += _problem(x, detailed=True, report=report)
    return [*out, ""]


def _not_run(report: Report) -> list[str]:
    out = ["## What did not run", ""]
    for rid, why in report.missing_releases:
        out.append(f"- **{md(rid)}**: {md(why)}")
    if report.absent:
        per_release: dict[str, int] = defaultdict(int)
        for a in report.absent:
            per_release[a.release] += a.count
        out.append(
            f"- {report.absent_total} planned cells have no record: "
            + ", ".join(f"{md(r)} {n}" for r, n in per_release.items())
        )
    if report.not_run_reasons:
        out += ["", "| | reason | cells | releases |", "|---|---|---|---|"]
        for g in report.not_run_reasons[:25]:
            out.append(f"| {sym(g.status)} {g.status} | {md(g.reason)} | {g.count} | {md(', '.join(g.releases))} |")
        if len(report.not_run_reasons) > 25:
            out.append(f"| | … {len(report.not_run_reasons) - 25} more reasons in index.html | | |")
    return [*out, ""]


def _api(report: Report) -> list[str]:
    if report.api_changes is None:
        return []
    out = ["## API changes between releases", ""]
    for ch in report.api_changes.changes:
        out.append(
            f"- **{md(ch.old)} → {md(ch.new)}**: +{len(ch.added)} added, −{len(ch.removed)} removed, "
            f"{len(ch.deprecated)} newly deprecated"
        )
        for label, names in (("removed", ch.removed), ("deprecated", ch.deprecated)):
            if names:
                listed = ", ".join(f"`{md(n)}`" for n in names[:30])
                out.append(f"  - {label}: {listed}" + (f" … {len(names) - 30} more" if len(names) > 30 else ""))
    return [*out, ""]


def render(report: Report, image_base: str = "", images: Iterable[str] = ()) -> str:
    out = _header(report)
    for name in images:
        out += [f"![{md(name)}]({image_base}{name})", ""]
    out += _table(report)
    problems = report.problems
    out += [f"## Failures, crashes, timeouts, infra errors, XPASS ({len(problems)})", ""]
    if not problems:
        out += ["None.", ""]
    for i, x in enumerate(problems[:MAX_LISTED]):
        out += _problem(x, detailed=i < MAX_DETAILED, report=report)
    if len(problems) > MAX_LISTED:
        out.append(f"- … and {len(problems) - MAX_LISTED} more: see index.html or results.json")
    out.append("")
    out += _xfails(report) + _not_run(report) + _api(report)
    out.append(
        f"<sub>trt-matrix report · inputs: {md(', '.join(report.inputs))} · expectations: "
        f"{md(report.expectations)} · {sym(ABSENT)} = planned, no record</sub>"
    )
    text = "\n".join(out) + "\n"
    if len(text.encode("utf-8")) > LIMIT:  # never more than GitHub accepts: cut at a line
        cut = text.encode("utf-8")[: LIMIT - 200].decode("utf-8", "ignore").rsplit("\n", 1)[0]
        text = cut + "\n\n**Truncated to fit the 1 MiB step-summary limit; see index.html.**\n"
    return text
