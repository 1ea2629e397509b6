"""The single static HTML page: `index.html`, no external assets.

Contract: `render(report)` returns one self-contained page (inline CSS and a small inline script;
the page is complete and readable with scripts off). Jinja2 autoescaping is on, so every text that
comes from records (log lines, reasons, measurements, BOM) is shown as text; links are made only
from http(s) URLs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2

from matrix.report.model import TIERS, Report, age, is_synthetic
from matrix.report.style import ABSENT, STYLES, legend
from matrix.suite.cells import CHECKS, HOST, NO_MODEL
from matrix.suite.schema import CellResult

TEMPLATES = Path(__file__).with_name("templates")
LOG_LINES_SHOWN = 40


def anchor(cell_id: str) -> str:
    """An HTML id for a cell (ids are unique per cell; ':' '>' '.' become '_')."""
    return "cell-" + re.sub(r"[^A-Za-z0-9_-]", "_", cell_id)


def safe_url(url: object) -> str:
    """The URL if it is http(s), else '' (a record could carry `javascript:`)."""
    text = str(url or "")
    return text if re.match(r"^https?://[^\s\"'<>]+$", text) else ""


def measure(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def key_line(result: CellResult) -> str:
    """The log line that best explains a cell: the first error, else the last line, else the reason."""
    for line in result.log:
        if line.severity in ("internal_error", "error", "stderr") and line.text.strip():
            return line.text
    return result.log[-1].text if result.log else ""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.tests["synthetic"] = is_synthetic
    env.filters["anchor"] = anchor
    env.filters["safe_url"] = safe_url
    env.filters["measure"] = measure
    env.filters["key_line"] = key_line
    env.filters["sym"] = lambda status: STYLES[status].symbol
    env.filters["label"] = lambda status: STYLES[status].label
    return env


def context(report: Report) -> dict[str, Any]:
    grids_by_check: dict[str, dict[str, list[Any]]] = {}
    for grid in report.grids:
        grids_by_check.setdefault(grid.check, {}).setdefault(grid.model, []).append(grid)
    xfail_groups: dict[str, list[CellResult]] = {}
    for x in report.xfails:
        xfail_groups.setdefault((x.expectation or {}).get("id", "?"), []).append(x)
    docs: dict[str, str] = {}
    for spec in CHECKS:
        docs.setdefault(spec.name, spec.doc)
    return {
        "r": report,
        "styles": STYLES,
        "legend": legend(),
        "absent": ABSENT,
        "host": HOST,
        "tier_text": TIERS,
        "grids_by_check": grids_by_check,
        "xfail_groups": xfail_groups,
        "no_model": NO_MODEL,
        "check_docs": docs,
        "log_lines_shown": LOG_LINES_SHOWN,
        "problem_statuses": ("xpass", "crash", "timeout", "fail", "infra_error", "xfail"),
    }


def render(report: Report) -> str:
    env = _environment()
    env.filters["reuse_age"] = lambda x: age((x.reused_from or {}).get("finished_at", ""), report.generated_at)
    return env.get_template("index.html.j2").render(**context(report))
