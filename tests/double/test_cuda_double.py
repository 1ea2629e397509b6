"""matrix.suite.cuda on the CUDA double: both halves through cuda-python's calling convention, no compiler."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.double.test_double import ROOT, run_py

CONTEXTS = """
import json, threading
from matrix.suite import cuda as cudamod
cuda = cudamod.load()
out = {"backends": [cuda.backend, cuda.driver_backend], "name": cuda.device_name(0)}
cuda.set_device(0)
primary = cuda.ctx_current()
ctx = cuda.ctx_create(0)
out["created_is_current"] = cuda.ctx_current() == ctx != primary
seen = {}
def other():
    seen["before"] = cuda.ctx_current()
    cuda.ctx_push(ctx)
    seen["pushed"] = cuda.ctx_current() == ctx
    seen["popped"] = cuda.ctx_pop() == ctx
    try:
        cuda.ctx_pop()
    except cudamod.CudaError as exc:
        seen["empty_pop"] = str(exc)
t = threading.Thread(target=other); t.start(); t.join()
out["thread"] = seen
out["pop"] = cuda.ctx_pop() == ctx
out["back_to_primary"] = cuda.ctx_current() == primary
cuda.ctx_destroy(ctx)
for bad in (ctx, primary):
    try:
        cuda.ctx_destroy(bad)
        out.setdefault("destroy_errors", []).append(None)
    except cudamod.CudaError as exc:
        out.setdefault("destroy_errors", []).append(str(exc))
print(json.dumps(out))
"""


def test_contexts_are_per_thread_through_the_driver_api() -> None:
    got = run_py("10.8.0.43", CONTEXTS)
    assert got["backends"] == ["cuda-python", "cuda-python"]
    assert got["name"] == "TensorRT double device (host memory)"
    assert got["created_is_current"] and got["pop"] and got["back_to_primary"]
    assert got["thread"] == {
        "before": 0,
        "pushed": True,
        "popped": True,
        "empty_pop": "cuCtxPopCurrent failed: invalid device context (CUresult 201)",
    }
    assert got["destroy_errors"] == ["cuCtxDestroy failed: invalid device context (CUresult 201)"] * 2


def test_no_c_compiler_is_needed(tmp_path: Path) -> None:
    """A machine without cc: PATH holds only this Python, CC names a missing program."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)
    code = "import json, tensorrt; from matrix.suite import cuda; c = cuda.load(); print(json.dumps(c.device_name(0)))"
    env = dict(os.environ, PATH=str(bindir), CC=str(tmp_path / "no-cc"))
    old = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        assert run_py("8.6.1", code) == "TensorRT double device (host memory)"
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert not list((ROOT / "tests" / "double").rglob("*.c"))
    assert not (ROOT / "tests" / "double" / "nvidia").exists()


DIMS = """
import json, tensorrt as trt
d = trt.Dims([1, 3, 8, 8])
out = [len(d), list(d), d[-1], d == (1, 3, 8, 8), d == trt.Dims((1, 3, 8, 8)), d == (1, 3), str(d)]
try:
    d[4]
except IndexError as exc:
    out.append(str(exc))
print(json.dumps(out))
"""


def test_dims_behave_as_the_bindings_sequence() -> None:
    """Found by the execute and deserialize checks: `Dims()` took no arguments, so every engine shape failed."""
    assert run_py("8.6.1", DIMS) == [4, [1, 3, 8, 8], 8, True, True, False, "(1, 3, 8, 8)", "Out of bounds"]
