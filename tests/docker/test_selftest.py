"""`trt-matrix run --self-test` against the real Docker engine: the three-release matrix on the TensorRT
double, and each seed scenario as a user would meet it (cell status, classification, and the report's
log line, citation and fix).

The double is tests/double of this checkout, or the folder TRT_MATRIX_TEST_DOUBLE names (passed as
`--double`); without one, these tests skip and say so. Run ids carry a per-session token.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from matrix.run import results, selftest
from matrix.suite import classify
from tests.docker.conftest import CA

if TYPE_CHECKING:
    import docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ("trt86", "trt10", "trt11")
TOKEN = uuid.uuid4().hex[:8]
SEEDS = {  # scenario -> (release, -k selector): the cells it breaks plus their neighbours
    "retinaface-destroy-order": ("trt86", "destroy-order"),
    "scrfd-v3-zeros": ("trt10", "execute:*:scrfd-500m:*"),
    "yolov5-builder-destroy": ("trt86", "destroy-order:*:*:*:py-*"),
    "retinaface-int8-scales": ("trt86", "int8:*:retinaface-mnet:*:decode-plugin*"),
    "trtexec-python-mismatch": ("trt10", "toolchain"),
}


def observed(record: Any) -> str:
    """The status the check itself gave (a cited expectation turns a failure into xfail in the record)."""
    return str((record.expectation or {}).get("observed") or record.status)


def double_dir() -> Path:
    named = os.environ.get("TRT_MATRIX_TEST_DOUBLE")
    folder = Path(named) if named else ROOT / "tests" / "double"
    if not (folder / "tensorrt" / "__init__.py").is_file():
        pytest.skip(f"no TensorRT double in {folder} (tests/double/tensorrt; or set TRT_MATRIX_TEST_DOUBLE)")
    return folder


def self_test(tmp: Path, base: str, run_id: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable, "-m", "matrix", "run", "--self-test", "--double", str(double_dir()),
        "--base-image", base, "--ca-bundle", str(CA), "--models", "retinaface-mnet,scrfd-500m,yolov5s",
        "--results", str(tmp / "results"), "--artifacts", str(tmp / "artifacts"), "--report", str(tmp / "report"),
        "--run-id", f"{run_id}-{TOKEN}", "--timeout", "300", "--warmup", "1", "--repeats", "3", *extra,
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=ROOT, env=dict(os.environ, CI="true"), capture_output=True, text=True, timeout=3000, check=False
    )


def test_three_release_self_test(tmp_path: Path, test_base: str, docker_client: docker.DockerClient) -> None:
    double_dir()
    # one model keeps it to a few minutes on 2 cores (.ci/run's own self-test step runs all three)
    done = self_test(tmp_path, test_base, "st3", "--only", ",".join(RELEASES), "--models", "retinaface-mnet")
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    records = results.load([tmp_path / "results" / f"st3-{TOKEN}"])
    gpu_cells = [r for r in records if r.phase > 0]
    assert {r.phase for r in gpu_cells} == {1, 2}
    assert all(r.bom.get(selftest.MARKER) for r in gpu_cells), "a record without the double's marker"
    lacking = [r.cell_id for r in gpu_cells if "tensorrt not importable" in r.reason or "no CUDA device" in r.reason]
    assert lacking == []
    grid = [r for r in gpu_cells if r.check == "deserialize" and r.variant == "onnx"]
    diagonal = [r for r in grid if r.producer == r.consumer]
    # own plans load; 11.x builds no FP16 plan (BuilderFlag.FP16 is gone), so that cell has no plan to load
    assert all(r.status == "pass" or "left no plan" in r.reason for r in diagonal), [
        (r.cell_id, r.status, r.reason) for r in diagonal if r.status != "pass"
    ]
    assert sum(r.status == "pass" for r in diagonal) >= 5
    for r in (r for r in grid if r.producer != r.consumer and "left no plan" not in r.reason):
        match = classify.classify([line.text for line in r.log])
        assert observed(r) == "fail" and match is not None, r.cell_id
        assert match.pattern.id in ("serialization-tag", "library-version"), r.cell_id
    index = (tmp_path / "report" / f"st3-{TOKEN}" / "index.html").read_text(encoding="utf-8")
    assert selftest.BANNER in index.split("<body>", 1)[1][:400]
    assert not docker_client.containers.list(all=True, filters={"label": f"org.trt-matrix.run=st3-{TOKEN}"})


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_scenario(name: str, tmp_path: Path, test_base: str) -> None:
    double_dir()
    release, selector = SEEDS[name]
    scenario = selftest.load().scenario(name)
    done = self_test(tmp_path, test_base, name, "--only", release, "-k", selector, "--inject", name)
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    records = results.load([tmp_path / "results" / f"{name}-{TOKEN}"])
    hit = [r for r in records if scenario.rule_for(r) is not None]
    assert hit, f"{name}: no cell of the scenario was recorded"
    for r in hit:
        rule = scenario.rule_for(r)
        assert rule is not None and observed(r) == rule.status, (r.cell_id, r.status, r.reason)
        assert rule.log_matches(r), (r.cell_id, [line.text for line in r.log])
        if rule.classification:
            match = classify.classify([line.text for line in r.log])
            assert match is not None and match.pattern.id in rule.classification, r.cell_id
    report = tmp_path / "report" / f"{name}-{TOKEN}"
    readme = (report / "README.md").read_text(encoding="utf-8")
    assert selftest.BANNER in readme.splitlines()[1]
    html = (report / "index.html").read_text(encoding="utf-8")
    for text in (readme, html):
        if scenario.citation:
            assert scenario.citation in text
        assert scenario.name in text
    assert scenario.fix.split(" (")[0][:60] in html.replace("&#39;", "'")
    summary = json.loads((report / "results.json").read_text(encoding="utf-8"))
    assert next(iter(summary)) == "self_test"
