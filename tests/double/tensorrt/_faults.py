"""The double's documented failures, as hooks _model.py calls at the moment each one happens. NOT TensorRT.

Which faults are on: tests/double/faults.py (TRT_MATRIX_DOUBLE_FAULTS, scoped per release). Each hook
shows its fault's documented symptom with the documented text, and otherwise does nothing:
- `builder_keeps_alive`: retinaface-destroy-order / yolov5-builder-destroy (known-issues.md section 1,
  tensorrtx#1403/#1405): the builder's network and config do not hold it (C++ ownership, as in the
  tensorrtx code), so destroying it first logs the API-usage line through the caller's ILogger;
- `v3_zeros`: scrfd-v3-zeros (section 3, NVIDIA/TensorRT#4427): execute_async_v3 on an SCRFD network
  (the exporter names the ONNX graph after the model) logs the cuTensor and invalid-resource-handle
  lines, returns True and leaves the outputs all zero;
- `wrong_context`: thread-no-context (section 3, NVIDIA/TensorRT#4191): an enqueue from a thread whose
  current CUDA context is not the one the engine was deserialized in logs `invalid resource handle`,
  returns False and writes no output;
- retinaface-int8-scales (section 2, tensorrtx#1456) is shown by _plugins.check_build: an INT8 build of a
  network holding the decode plugin (unless it is pinned to FP32 and the constraints obeyed) logs the
  `scales.size() == 1` assertion and returns None;
- `out_of_memory`: oom (CUDA runtime API, cudaErrorMemoryAllocation): a build logs
  `Error Code 1: Cuda Runtime (out of memory)` and returns None;
- `execute_v2_entry`: crash (a real SIGSEGV: a read at address 0) and hang (sleeps until killed) when
  execute_v2 is called.
"""

from __future__ import annotations

import ctypes
import time
from typing import Any

import numpy as np

import faults  # type: ignore[import-not-found]  # tests/double on sys.path, as tensorrt is
from tensorrt import _model

CUTENSOR = "IExecutionContext::enqueueV3: Error Code 1: CuTensor (Internal cuTensor permutate execute failed)"
CATCH_CUDA = "[checkMacros.cpp::catchCudaError::212] Error Code 1: Cuda Runtime (invalid resource handle)"
ENQUEUE_HANDLE = "IExecutionContext::enqueueV3: Error Code 1: Cuda Runtime (invalid resource handle)"
OOM = "1: Error Code 1: Cuda Runtime (out of memory)"


def _on(name: str) -> bool:
    return bool(faults.on(name, str(_model.T["__trt_matrix_double__"])))


def builder_keeps_alive() -> bool:
    return not (_on("retinaface-destroy-order") or _on("yolov5-builder-destroy"))


def graph_name(engine: Any) -> str:
    cached = engine.__dict__.get("_graph_name")
    if cached is None:
        import onnx

        cached = engine.__dict__["_graph_name"] = str(onnx.load_from_string(engine._onnx).graph.name)
    return str(cached)


def v3_zeros(context: Any) -> bool:
    """True when the fault took the call: the lines are logged and every output is all zero."""
    engine = context._engine
    if not (_on("scrfd-v3-zeros") and graph_name(engine).startswith("scrfd")):
        return False
    from cuda.bindings import runtime

    logger = context._logger()
    _model._log(logger, "ERROR", CUTENSOR)
    _model._log(logger, "ERROR", CATCH_CUDA)
    for name, shape, dtype in engine._outputs:
        nbytes = int(np.prod([max(d, 1) for d in shape])) * np.dtype(_model._NP[dtype]).itemsize
        address = context._addresses.get(name)
        if address:
            runtime.device_view(int(address), nbytes)[:] = bytes(nbytes)
    return True


def wrong_context(context: Any) -> bool:
    """True when the enqueue runs where the engine's CUDA context is not current (the call then fails)."""
    if not _on("thread-no-context"):
        return False
    from cuda.bindings import runtime

    wanted = context._engine.__dict__.get("_cuda_context")
    if wanted is None or runtime.current_context() == wanted:
        return False
    _model._log(context._logger(), "ERROR", ENQUEUE_HANDLE)
    return True


def remember_context(engine: Any) -> None:
    """The CUDA context current when the engine was deserialized: the one its enqueues need."""
    from cuda.bindings import runtime

    engine._cuda_context = runtime.current_context()


def out_of_memory(logger: Any) -> bool:
    if not _on("oom"):
        return False
    _model._log(logger, "ERROR", OOM)
    return True


def execute_v2_entry() -> None:
    if _on("crash"):
        ctypes.string_at(0)  # a real SIGSEGV, as a fault inside libnvinfer would be
    if _on("hang"):
        while True:
            time.sleep(3600)
