"""Phases 1 and 2 of the suite on the TensorRT double, through the pytest plugin and the worker, as
`trt-matrix run --self-test --local` runs them (tests only: what it records is the harness's behaviour
on the double, never TensorRT's).

`run(artifacts, results, releases)` writes a tiny ONNX model as every planned model, then runs phase 1
of each release and phase 2 of each release over every producer, and returns the records by cell id.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from matrix.run import selftest

ROOT = Path(__file__).resolve().parents[2]
MODEL = "retinaface-mnet"
EXCLUDED = "not int8,not netdef"  # the other half of the double: INT8 (calibrators, Q/DQ), the network API


def tiny_model(artifacts: Path, model: str = MODEL) -> None:
    """A MatMul+Relu graph with its ONNX Runtime reference, standing in for `model` (fast, exact)."""
    from onnx import TensorProto, helper

    weight = np.arange(12, dtype=np.float32).reshape(4, 3) / 10
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["mm"]), helper.make_node("Relu", ["mm"], ["out"])],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor("w", TensorProto.FLOAT, [4, 3], weight.ravel().tolist())],
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    proto.ir_version = 8
    folder = artifacts / "models" / model
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.onnx").write_bytes(proto.SerializeToString())
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    np.savez(folder / "reference.npz", input=x, out=np.maximum(x @ weight, 0))
    meta = {"input": {"name": "input"}, "outputs": [{"name": "out"}], "weights": {"label": "synthetic(tiny)"}}
    (folder / "meta.json").write_text(json.dumps(meta))


def _env(tensorrt: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    base = dict(os.environ)
    env = selftest.load().environment(
        tensorrt=tensorrt,
        repo_root=str(ROOT),
        base_path=os.pathsep.join([os.path.dirname(sys.executable), base.get("PATH", "")]),
        base_pythonpath=str(ROOT),
    )
    base.update(env)
    base["TRT_MATRIX_WHERE"] = "local"
    base.update(extra or {})
    return base


def run_phase(
    release: str, tensorrt: str, phase: int, artifacts: Path, results: Path, producers: list[str], extra: Any = None
) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "pytest", str(ROOT / "tests" / "compat"), "-q", "-p", "no:cacheprovider", "-rN"]
    args += ["--trt-release", release, "--trt-phase", str(phase), "--trt-run-id", "double"]
    args += ["--trt-results", str(results), "--trt-artifacts", str(artifacts), "--trt-models", MODEL]
    args += ["--trt-timeout", "120", "--trt-keyword", EXCLUDED]
    if phase == 2:
        args += ["--trt-producers", ",".join(producers)]
    return subprocess.run(
        args, cwd=ROOT, env=_env(tensorrt, extra), capture_output=True, text=True, timeout=900, check=False
    )


def records(results: Path) -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(results.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out[record["cell_id"]] = record
    return out


def run(artifacts: Path, results: Path, releases: dict[str, str], extra: Any = None) -> dict[str, dict[str, Any]]:
    """Phase 1 of every release (two at once: this machine has two cores), then phase 2 of each."""
    tiny_model(artifacts)
    producers = sorted(releases)
    with ThreadPoolExecutor(2) as pool:
        for phase in (1, 2):
            jobs = [
                pool.submit(run_phase, r, v, phase, artifacts, results, producers, extra) for r, v in releases.items()
            ]
            for job in jobs:
                proc = job.result()
                if proc.returncode not in (0, 1):  # 1: some cell failed, which tests judge themselves
                    raise RuntimeError(f"the suite process failed ({proc.returncode}): {proc.stdout[-2000:]}")
    return records(results)


if __name__ == "__main__":
    got = run(Path(sys.argv[1]), Path(sys.argv[2]), {"trt86": "8.6.1", "trt10": "10.8.0.43", "trt11": "11.4.0.106"})
    for cell, record in sorted(got.items()):
        sys.stdout.write(f"{record['status']:12} {cell}  {record['reason'][:140]}\n")
