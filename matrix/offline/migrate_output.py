"""How `trt-matrix migrate` prints a `migrate.Report`: text grouped by file, JSON, SARIF 2.1.0, GitHub.

Contract: `render(report, fmt)` returns the whole output as one string. `text`: one block per file,
one entry per use (`line:col  name  removed in 10.0.1 (target 11.4.0.106)`, each target's verdict, then
the replacement and its citation), then a
summary; `json`: a list of objects (file, line, column, name, status, release, target, replacement, cite,
note, unsure, guarded); `sarif`: one run, one rule per status, GitHub code scanning reads it; `github`:
`::error`/`::warning` workflow commands. Columns are 1-based everywhere.
"""

from __future__ import annotations

import dataclasses
import json
from itertools import groupby
from typing import Any, Literal

from matrix.offline.migrate import Finding, Report

Format = Literal["text", "json", "sarif", "github"]
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFO_URI = "https://github.com/trt-matrix/trt-matrix#upgrading-tensorrt-check-your-code-first"
RULES = {
    "removed": "the name is gone from the target release: the call raises AttributeError there",
    "absent": "the name does not exist in that release yet (or in the source release: the code already broke)",
    "deprecated": "the target release marks the name deprecated: it still works, a later release may remove it",
}


def _verdict(f: Finding) -> str:
    verb = {"removed": "removed in", "deprecated": "deprecated since", "absent": "absent; first in"}[f.status]
    where = f"{verb} {f.release}" if f.release else "absent from every release"
    return f"{where} (target {f.target})"


def _message(f: Finding) -> str:
    text = f"{f.name}: {_verdict(f)}; use instead: {f.replacement}"
    if f.unsure:
        text = "unsure (receiver not traced to tensorrt): " + text
    if f.guarded:
        text += " [guarded by a feature test]"
    return text + (f" (see {f.cite})" if f.cite else "")


def _level(f: Finding) -> str:
    if f.unsure:
        return "note"
    return "warning" if f.status == "deprecated" else "error"


def text(report: Report) -> str:
    lines: list[str] = []
    ordered = sorted(report.findings, key=lambda f: (f.file, f.line, f.column, f.name, f.target))
    for file, group in groupby(ordered, key=lambda f: f.file):
        lines.append(file)
        for _, same in groupby(group, key=lambda f: (f.line, f.column, f.name)):
            uses = list(same)
            f = uses[0]
            mark = " (unsure)" if f.unsure else ""
            mark += " (guarded)" if f.guarded else ""
            lines.append(f"  {f.line}:{f.column}  {f.name}{mark}  {'; '.join(_verdict(u) for u in uses)}")
            lines.append(f"      -> {f.replacement}")
            if f.cite:
                lines.append(f"         {f.cite}")
        lines.append("")
    for file, why in report.unparsable:
        lines.append(f"{file}: not checked, not valid Python ({why})")
    files = len({f.file for f in report.findings})
    against = ", ".join(report.targets) + (f" (source {report.source})" if report.source else "")
    lines.append(
        f"{len(report.findings)} finding(s) in {files} of {report.files} file(s) checked against {against}"
        + (f"; {len(report.unparsable)} file(s) could not be parsed" if report.unparsable else "")
    )
    return "\n".join(lines)


def as_json(report: Report) -> str:
    return json.dumps([dataclasses.asdict(f) for f in report.findings], indent=1)


def sarif(report: Report) -> dict[str, Any]:
    results = [
        {
            "ruleId": f"tensorrt-{f.status}",
            "level": _level(f),
            "message": {"text": _message(f)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file},
                        "region": {"startLine": f.line, "startColumn": max(1, f.column)},
                    }
                }
            ],
            "properties": {"name": f.name, "release": f.release, "target": f.target, "unsure": f.unsure},
        }
        for f in report.findings
    ]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "trt-matrix migrate",
                        "informationUri": INFO_URI,
                        "rules": [
                            {"id": f"tensorrt-{status}", "shortDescription": {"text": why}}
                            for status, why in RULES.items()
                        ],
                    }
                },
                "results": results,
                "invocations": [
                    {
                        "executionSuccessful": not report.unparsable,
                        "toolExecutionNotifications": [
                            {"level": "error", "message": {"text": f"{file}: not valid Python ({why})"}}
                            for file, why in report.unparsable
                        ],
                    }
                ],
            }
        ],
    }


def _escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def github(report: Report) -> str:
    lines = []
    for f in report.findings:
        kind = "error" if _level(f) == "error" else "warning" if _level(f) == "warning" else "notice"
        props = f"file={_escape(f.file, True)},line={f.line},col={f.column},title={_escape(f.name, True)}"
        lines.append(f"::{kind} {props}::{_escape(_message(f))}")
    for file, why in report.unparsable:
        lines.append(f"::error file={_escape(file, True)}::{_escape(f'not valid Python ({why})')}")
    return "\n".join(lines)


def render(report: Report, fmt: Format) -> str:
    if fmt == "json":
        return as_json(report)
    if fmt == "sarif":
        return json.dumps(sarif(report), indent=1)
    if fmt == "github":
        return github(report)
    return text(report)
