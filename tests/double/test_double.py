"""The TensorRT double against the real bindings' surface, real plans, and the checks that run on it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.unit.suite.synthetic_plans import fixture_dir

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = ROOT / "tests" / "double"
FIXTURES = fixture_dir()  # ../shared/fixtures/engines (CI has ../shared beside the clone), or None


def run_py(version: str, code: str, *args: str, path: str | None = None) -> Any:
    """Runs `code` in a child with the double of `version` importable (its bin/ is not put on PATH: `path`
    replaces PATH where given); returns the JSON object its last line prints."""
    env = dict(os.environ, PYTHONPATH=f"{DOUBLE}{os.pathsep}{ROOT}", TRT_MATRIX_DOUBLE=version)
    if path is not None:
        env["PATH"] = path
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


SURFACE = """
import json, sys, tensorrt as trt
names = json.load(open(sys.argv[1]))["names"]
def has(n):
    obj = trt
    for part in n.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True
print(json.dumps({"missing": [n for n in names if not n.startswith("tensorrt.") and not has(n)],
                  "extra": [a for a in ("build_engine", "execute_async_v2") if hasattr(trt.Builder, a)]}))
"""


def test_hasattr_matches_the_real_10_8_bindings() -> None:
    from matrix.offline import api_surface

    from tests.unit.index_access import index_or_skip

    release = next(r for r in index_or_skip() if r.version == "10.8.0.43")
    real = api_surface.introspect(release)
    if not real.introspected:
        pytest.skip(real.reason)
    path = ROOT / "tests" / "double" / "tensorrt" / "surface" / "10.8.0.43.json"
    snapshot = json.loads(path.read_text())["names"]
    assert snapshot == dict(real.kinds), "snapshot is stale: python -m tests.double.generate_surface"
    got = run_py("10.8.0.43", SURFACE, str(path))
    assert got == {"missing": [], "extra": []}


def test_unmodelled_name_fails_loudly() -> None:
    code = """
import json, tensorrt as trt
try:
    trt.ICudaEngine.create_serialization_config(None)
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc), isinstance(exc, RuntimeError)]))
"""
    assert run_py("10.8.0.43", code) == [
        "NotModelled",
        "the TensorRT double does not model ICudaEngine.create_serialization_config",
        False,
    ]


LOAD = """
import json, sys, tensorrt as trt
from matrix.suite import trtlog
logger = trtlog.make_logger(trt)
engine = trt.Runtime(logger).deserialize_cuda_engine(open(sys.argv[1], "rb").read())
print(json.dumps({"engine": engine is not None, "log": logger.texts()}))
"""


@pytest.mark.parametrize(
    ("version", "plan", "needle"),
    [
        ("10.8.0.43", "17_camera__model.engine", "Current Version: 239, Serialized Engine Version: 240"),
        ("10.8.0.43", "13_trt-samples-for-hackathon-cn__model-Dim1.plan", "Serialized Engine Version: 237"),
        ("8.6.1", "06_processing-pipeline__model.engine", "Current Version: 236, Serialized Engine Version: 205"),
    ],
)
def test_real_plans_are_refused_with_the_documented_line(version: str, plan: str, needle: str) -> None:
    if FIXTURES is None or not (FIXTURES / plan).is_file():
        pytest.skip(f"fixture {plan} not here (../shared/fixtures/engines, or set TRT_MATRIX_FIXTURES)")
    got = run_py(version, LOAD, str(FIXTURES / plan))
    assert got["engine"] is False
    assert any(needle in line for line in got["log"]), got["log"]


def _tiny_model(artifacts: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3], np.arange(12, dtype=np.float32).tolist())
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["mm"]), helper.make_node("Relu", ["mm"], ["out"])],
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, 3])],
        [weight],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    folder = artifacts / "models" / "retinaface"
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(model.SerializeToString())
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    np.savez(folder / "reference.npz", input=x, out=np.maximum(x @ np.arange(12, dtype=np.float32).reshape(4, 3), 0))
    meta = {"input": {"name": "input"}, "outputs": [{"name": "out"}], "weights": {"label": "synthetic(tiny)"}}
    (folder / "meta.json").write_text(json.dumps(meta))
    onnx.checker.check_model(model)


CHECKS = "import runpy, sys; sys.argv[0] = {!r}; runpy.run_path(sys.argv[0], run_name='__main__')".format(
    str(DOUBLE / "run_checks.py")
)


@pytest.mark.parametrize(("version", "release"), [("8.6.1", "trt86"), ("10.8.0.43", "trt10"), ("11.4.0.106", "trt11")])
def test_serialize_check_runs_on_the_double(tmp_path: Path, version: str, release: str) -> None:
    _tiny_model(tmp_path)
    cell = f"serialize:{release}>{release}:retinaface:fp32:onnx"
    got = run_py(version, CHECKS, str(tmp_path), cell)
    assert got[cell]["status"] == "pass", got[cell]
    from matrix.suite import planfile

    plan = planfile.inspect_file(str(tmp_path / release / "retinaface-fp32-onnx.plan"))
    assert plan.version_string is not None and plan.version_string.startswith(version)


BINDINGS = """
import json, sys, tensorrt as trt
engine = trt.Runtime(trt.Logger()).deserialize_cuda_engine(open(sys.argv[1], "rb").read())
names = [engine.get_binding_name(i) for i in range(engine.num_bindings)]
print(json.dumps({"tensor_api": hasattr(engine, "num_io_tensors"), "names": names}))
"""


def test_the_8_4_double_names_bindings_without_the_tensor_api(tmp_path: Path) -> None:
    """8.4 has the binding API only (the tensor-name API came in 8.5): get_binding_name must not lean on
    get_tensor_name (the six-release self-test failed every 8.4 execute and INT8 cell on it)."""
    _tiny_model(tmp_path)
    cell = "serialize:trt84>trt84:retinaface:fp32:onnx"
    assert run_py("8.4.1", CHECKS, str(tmp_path), cell)[cell]["status"] == "pass"
    got = run_py("8.4.1", BINDINGS, str(tmp_path / "trt84" / "retinaface-fp32-onnx.plan"))
    assert got == {"tensor_api": False, "names": ["input", "out"]}


def test_environment_probe_records_the_double() -> None:
    code = "import json; from matrix.suite import environment; print(json.dumps(environment._probe_here()))"
    got = run_py("11.4.0.106", code)
    assert got["tensorrt_double"] == "11.4.0.106"
    assert got["tensorrt_version"] == "11.4.0.106"
    assert got["cuda_backend"] == "cuda-python" and got["cuda_devices"], got
