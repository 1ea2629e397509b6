"""Every check on the doubles of 8.6.1, 10.8 and 11.4: phases 1 and 2 (every producer x consumer) through the
pytest plugin and the worker, and the same cells in one process (run_checks.py). INT8 and the network
definition API are the double's other half and are left out here (matrix_on_double.EXCLUDED).

What the tests hold the harness to: every record carries the double's marker; no cell is skipped for
lack of TensorRT or CUDA; each check reaches its documented outcome on each release; the producer x
consumer grid is what matrix.plans (the documented loading rules) says of each plan file.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.double import matrix_on_double
from tests.double.test_double import CHECKS, run_py

RELEASES = {"trt86": "8.6.1", "trt10": "10.8.0.43", "trt11": "11.4.0.106"}
MODEL = matrix_on_double.MODEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, Any]]]:
    root = tmp_path_factory.mktemp("double-matrix")
    return root / "artifacts", matrix_on_double.run(root / "artifacts", root / "results", RELEASES)


def _status(records: dict[str, dict[str, Any]], cell: str) -> str:
    assert cell in records, f"{cell} was not recorded"
    return str(records[cell]["status"])


def test_every_record_carries_the_marker_and_nothing_lacks_tensorrt_or_cuda(matrix: Any) -> None:
    _, records = matrix
    assert len(records) > 100
    for cell, record in records.items():
        assert record["bom"].get("tensorrt_double") == RELEASES[record["consumer"]], cell
        assert record["status"] != "infra_error", (cell, record["reason"])
        why = record["reason"] if record["status"] in ("skip", "na", "fail") else ""
        lacking = re.search(r"no CUDA|CUDA device|libnvinfer|libcuda|tensorrt is not|No module named", why)
        assert not lacking, (cell, record["reason"])


@pytest.mark.parametrize("release", sorted(RELEASES))
def test_phase_one_checks_reach_their_outcome(matrix: Any, release: str) -> None:
    _, records = matrix
    legacy = "pass" if release == "trt86" else "na"  # Builder.build_engine removed in 10.0
    for variant in ("onnx", "vc", "hc"):
        assert _status(records, f"serialize:{release}>{release}:{MODEL}:fp32:{variant}") == "pass"
    assert _status(records, f"serialize:{release}>{release}:{MODEL}:fp32:legacy") == legacy
    for variant in ("version",):
        assert _status(records, f"toolchain:{release}>{release}:-:-:{variant}") == "pass"
    for variant in ("trtexec-to-python", "python-to-trtexec"):
        assert _status(records, f"toolchain:{release}>{release}:{MODEL}:fp32:{variant}") == "pass"
    for variant in ("execute_v2", "execute_async_v3", "thread-context", "thread-no-context"):
        assert _status(records, f"execute:{release}>{release}:{MODEL}:fp32:{variant}") == "pass"
    assert _status(records, f"execute:{release}>{release}:{MODEL}:fp32:execute_async_v2") == legacy
    for variant in ("py-right", "py-builder-first", "py-runtime-first"):
        assert _status(records, f"destroy-order:{release}>{release}:{MODEL}:fp32:{variant}") == "pass"
    with_config = "na" if release == "trt86" else "pass"  # build_engine_with_config from 10.6
    assert (
        _status(records, f"destroy-order:{release}>{release}:{MODEL}:fp32:py-build-engine-with-config") == with_config
    )
    for variant in ("cpp-right", "cpp-builder-first", "cpp-runtime-first"):
        record = records[f"destroy-order:{release}>{release}:-:fp32:{variant}"]
        # no TensorRT headers here (with g++), or no compiler at all (a fresh machine): a skip that says which
        assert record["status"] == "skip", (record["cell_id"], record["reason"])
        assert "NvInfer.h" in record["reason"] or "no C++ compiler" in record["reason"], record["reason"]


def test_the_grid_follows_the_documented_loading_rules(matrix: Any) -> None:
    from matrix import plans

    artifacts, records = matrix
    seen = 0
    for producer in RELEASES:
        for consumer, version in RELEASES.items():
            assert _status(records, f"exchange:{producer}>{consumer}:-:-:artifacts") == "pass"
            for variant in ("onnx", "vc", "hc"):
                record = records[f"deserialize:{producer}>{consumer}:{MODEL}:fp32:{variant}"]
                plan = artifacts / producer / f"{MODEL}-fp32-{variant}.plan"
                verdict = plans.will_load(plan.read_bytes(), version)
                loads = verdict.loads if verdict.loads is not None else variant == "vc"
                observed = (record.get("expectation") or {}).get("observed") or record["status"]
                if producer == consumer or loads:
                    assert observed == "pass", (record["cell_id"], verdict.reason, record["reason"])
                else:
                    assert observed == "fail", (record["cell_id"], verdict.reason, record["reason"])
                    lines = [line["text"] for line in record["log"]]
                    documented = verdict.log_line[:40]  # TensorRT's refusal line on record, up to its first field
                    assert lines and (not documented or any(documented in t for t in lines)), (documented, lines)
                seen += 1
    assert seen == 27


def test_the_same_cells_in_one_process(matrix: Any, tmp_path: Path) -> None:
    """run_checks.py calls the worker's `run` in this process: the same outcomes as through the plugin.
    Each release works on its own copy of the artifacts, phase-2 cells first (a serialize cell rewrites
    its release's plan, which the exchange manifest would then rightly refuse)."""
    phase_two, records = matrix
    for release, version in RELEASES.items():
        artifacts = tmp_path / release
        shutil.copytree(phase_two, artifacts)
        cells = [  # phase 2 first: the serialize cell then rewrites this release's plan, as phase 1 does
            f"exchange:trt10>{release}:-:-:artifacts",
            f"deserialize:trt86>{release}:{MODEL}:fp32:vc",
            f"serialize:{release}>{release}:{MODEL}:fp32:onnx",
            f"execute:{release}>{release}:{MODEL}:fp32:thread-context",
            f"destroy-order:{release}>{release}:{MODEL}:fp32:py-builder-first",
        ]
        got = run_py(version, CHECKS, str(artifacts), *cells)
        assert {c: o["status"] for c, o in got.items()} == {c: records[c]["status"] for c in cells} or all(
            records[c]["status"] == "xfail" and got[c]["status"] == "fail"
            for c in cells
            if got[c]["status"] != records[c]["status"]
        ), json.dumps(got)[:2000]
