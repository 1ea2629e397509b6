"""results.json: the canonical, machine-readable report (every merged record plus a summary).

Contract: `document(report)` returns a JSON-ready object with `schema` = `RESULTS_SCHEMA`, the
records (cell-schema records, in report order) under `results` and a `summary` object: counts per
status, per release and per release x check, XPASS and problem cell ids, run ids, tiers, what did
not run and why, and conflicts. `matrix.report.inputs.read_results_json` reads it back.
"""

from __future__ import annotations

from typing import Any

from matrix.report.inputs import RESULTS_SCHEMA
from matrix.report.model import Report


def summary(report: Report) -> dict[str, Any]:
    by_release: dict[str, dict[str, int]] = {}
    by_release_check: dict[str, dict[str, dict[str, int]]] = {}
    for (release, check), cell in report.table.items():
        totals = by_release.setdefault(release, {})
        for status, n in cell.counts.items():
            totals[status] = totals.get(status, 0) + n
        by_release_check.setdefault(release, {})[check] = dict(cell.counts)
    return {
        "cells": len(report.results),
        "counts": dict(report.counts),
        "by_release": by_release,
        "by_release_check": by_release_check,
        "xpass": [r.cell_id for r in report.xpasses],
        "problems": [r.cell_id for r in report.problems],
        "run_ids": list(report.run_ids),
        "started": report.started,
        "finished": report.finished,
        "tiers": list(report.tiers),
        "weights": [{"model": m, "label": label} for m, label in report.weights],
        "synthetic_weights": list(report.synthetic_models),
        "not_run": {
            "releases": [{"release": r, "why": why} for r, why in report.missing_releases],
            "absent_cells": report.absent_total,
            "absent": [
                {"release": a.release, "check": a.check, "count": a.count, "examples": list(a.examples)}
                for a in report.absent
            ],
            "reasons": [
                {
                    "status": g.status,
                    "reason": g.reason,
                    "count": g.count,
                    "releases": list(g.releases),
                    "checks": list(g.checks),
                    "examples": list(g.examples),
                }
                for g in report.not_run_reasons
            ],
        },
        "reused": {
            "cells": len(report.reused),
            "from": [{"run_id": run, "finished_at": when, "cells": n} for run, when, n in report.reused_from()],
        },
        "conflicts": [
            {"cell_id": c.cell_id, "statuses": [r.status for r in c.records], "describe": c.describe()}
            for c in report.conflicts
        ],
    }


def document(report: Report) -> dict[str, Any]:
    head = {"self_test": report.banner, "tensorrt_double": list(report.self_test)} if report.banner else {}
    return {
        **head,
        "schema": RESULTS_SCHEMA,
        "generated_by": "trt-matrix report",
        "generated_at": report.generated_at,
        "inputs": list(report.inputs),
        "expectations": report.expectations,
        "summary": summary(report),
        "results": [r.to_json() for r in report.results],
    }
