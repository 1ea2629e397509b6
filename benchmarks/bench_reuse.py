"""Benchmark: an incremental matrix (`run --reuse`).

Three runs of the same three-release self-test (trt86, trt10, trt11 on the TensorRT double, in images
built on the local test base without TensorRT, as .ci/run does): a full run; the same again with
`--reuse` and nothing changed; then with `--reuse` after one release's image changed (trt10's numpy pin
edited in a temporary copy of versions.toml, given with --catalogue, so its image is rebuilt).

Targets: unchanged: 0 cells executed, wall <= 10 % of the full run, the report identical to the first
but for the reuse marks (every record equal but for run_id and reused_from; the summary equal but for
run ids and the reuse counts). One image changed: exactly that release's phase-1 cells, its phase-2 row
and its phase-2 column executed; every other cell reused.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import CA, ROOT, TEST_BASE, docker_ready, emit, trt_matrix
from matrix.run import results

RELEASES = ("trt86", "trt10", "trt11")
CHANGED = "trt10"


def args(work: Path, run_id: str, *extra: str) -> tuple[str, ...]:
    return (
        "run",
        "--self-test",
        "--only",
        ",".join(RELEASES),
        "--base-image",
        TEST_BASE,
        "--ca-bundle",
        CA,
        "--skip-tensorrt",
        "--results",
        str(work / "results"),
        "--artifacts",
        str(work / "artifacts"),
        "--report",
        str(work / "report"),
        "--run-id",
        run_id,
        *extra,
    )


def records(work: Path, run_id: str) -> dict[str, Any]:
    return {r.cell_id: r for r in results.load([work / "results" / run_id])}


def same_report(work: Path, first: str, second: str) -> tuple[bool, str]:
    a = json.loads((work / "report" / first / "results.json").read_text())
    b = json.loads((work / "report" / second / "results.json").read_text())

    def strip(doc: dict[str, Any]) -> dict[str, Any]:
        out = dict(doc)
        out.pop("generated_at", None)
        out.pop("inputs", None)
        out["summary"] = {k: v for k, v in doc["summary"].items() if k not in ("run_ids", "reused")}
        out["results"] = [{k: v for k, v in r.items() if k not in ("run_id", "reused_from")} for r in doc["results"]]
        return out

    if strip(a) != strip(b):
        return False, "results.json differs beyond run ids and reuse marks"
    return True, ""


def changed_catalogue(tmp: Path) -> Path:
    text = (ROOT / "matrix" / "versions.toml").read_text(encoding="utf-8")
    block = re.compile(r'(id = "' + CHANGED + r'"\n(?:(?!\[\[release\]\]).*\n)*?numpy = ")([^"]*)(")')
    edited, n = block.subn(lambda m: m.group(1) + m.group(2) + ",!=1.0.0" + m.group(3), text, count=1)
    if n != 1:
        raise SystemExit(f"no numpy pin found for {CHANGED} in versions.toml")
    path = tmp / "versions.toml"
    path.write_text(edited, encoding="utf-8")
    return path


def main() -> int:
    target = "unchanged: 0 executed, wall <= 10% of full, same report; one image changed: its p1, row, column only"
    why = docker_ready()
    if why:
        emit("reuse", {}, target, False, f"not run: {why}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        full_s, _ = trt_matrix(*args(work, "full"), check=False)
        full = records(work, "full")
        same_s, _ = trt_matrix(*args(work, "same", "--reuse", "full"), check=False)
        same = records(work, "same")
        same_executed = sorted(c for c, r in same.items() if not r.reused_from)
        identical, why_not = same_report(work, "full", "same")
        catalogue = changed_catalogue(work)
        changed_s, _ = trt_matrix(*args(work, "changed", "--reuse", "same", "--catalogue", str(catalogue)), check=False)
        changed = records(work, "changed")
        executed = {c for c, r in changed.items() if not r.reused_from}
        expected = {
            c
            for c, r in full.items()
            if (r.phase == 1 and r.consumer == CHANGED) or (r.phase == 2 and CHANGED in (r.producer, r.consumer))
        }
    statuses: dict[str, int] = {}
    for r in full.values():
        statuses[r.status] = statuses.get(r.status, 0) + 1
    figures = {
        "cells": len(full),
        "full_statuses": statuses,
        "full_s": round(full_s, 1),
        "unchanged": {
            "s": round(same_s, 1),
            "ratio": round(same_s / full_s, 3),
            "executed": len(same_executed),
            "reused": len(same) - len(same_executed),
            "report_identical_but_reuse_marks": identical,
        },
        "one_image_changed": {
            "release": CHANGED,
            "s": round(changed_s, 1),
            "executed": len(executed),
            "expected": len(expected),
            "unexpected": sorted(executed - expected)[:10],
            "not_rerun": sorted(expected - executed)[:10],
            "reused": len(changed) - len(executed),
        },
    }
    met = (
        len(full) > 0
        and len(same) == len(full)
        and not same_executed
        and same_s <= 0.10 * full_s
        and identical
        and len(changed) == len(full)
        and executed == expected
    )
    emit("reuse", figures, target, met, why_not)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
