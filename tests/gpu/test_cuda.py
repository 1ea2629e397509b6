"""matrix.suite.cuda on a real GPU: copies, events, explicit contexts, and the worker-thread mistake.

Skipped, with the reason, where no CUDA device is visible (this includes CI). Run on a GPU host with
`pytest tests/gpu`. Both backends are exercised: ctypes over libcudart/libcuda, and cuda-python (its
runtime and driver APIs: contexts go through `cuda.bindings.driver`) when it is installed.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest

from matrix.suite import cuda as cudamod


def _load(prefer: str) -> cudamod.Cuda:
    try:
        return cudamod.load(prefer)
    except cudamod.CudaUnavailable as exc:
        pytest.skip(f"no CUDA here: {exc}")


@pytest.fixture(params=["ctypes", "cuda-python"])
def cuda(request: Any) -> cudamod.Cuda:
    device = _load(request.param)
    assert device.backend == ("ctypes-libcudart" if request.param == "ctypes" else "cuda-python")
    assert device.driver_backend == ("ctypes-libcuda" if request.param == "ctypes" else "cuda-python")
    device.set_device(0)
    return device


def test_device_properties(cuda: cudamod.Cuda) -> None:
    assert cuda.device_count() >= 1
    major, minor = cuda.compute_capability(0)
    assert major >= 3 and minor >= 0
    assert "NVIDIA" in cuda.device_name(0) or cuda.device_name(0)
    assert cuda.driver_version() >= cuda.runtime_version() // 1000 * 1000 - 1000


def test_copies_round_trip_sync_and_async(cuda: cudamod.Cuda) -> None:
    data = np.arange(1 << 20, dtype=np.float32)
    a, b = cuda.malloc(data.nbytes), cuda.malloc(data.nbytes)
    try:
        cuda.memcpy_htod(a, data)
        cuda.memcpy_dtod(b, a, data.nbytes)
        back = np.empty_like(data)
        cuda.memcpy_dtoh(back, b)
        assert np.array_equal(back, data)
        stream = cuda.stream_create()
        pinned = cuda.host_alloc(data.shape, np.float32)
        pinned[...] = data * 2
        cuda.memcpy_htod(a, pinned, stream)
        out = cuda.host_alloc(data.shape, np.float32)
        cuda.memcpy_dtoh(out, a, stream)
        cuda.stream_synchronize(stream)
        assert np.array_equal(out, data * 2)
        cuda.memset(a, 0, data.nbytes)
        cuda.memcpy_dtoh(back, a)
        assert not back.any()
        cuda.stream_destroy(stream)
    finally:
        cuda.free(a)
        cuda.free(b)
        cuda.free_host_all()


def test_events_time_a_device_copy(cuda: cudamod.Cuda) -> None:
    nbytes = 256 << 20
    a, b = cuda.malloc(nbytes), cuda.malloc(nbytes)
    stream = cuda.stream_create()
    start, end = cuda.event_create(), cuda.event_create()
    try:
        cuda.event_record(start, stream)
        cuda.memcpy_dtod(b, a, nbytes, stream)
        cuda.event_record(end, stream)
        cuda.event_synchronize(end)
        ms = cuda.event_elapsed_ms(start, end)
        assert 0.0 < ms < 1000.0
    finally:
        for event in (start, end):
            cuda.event_destroy(event)
        cuda.stream_destroy(stream)
        cuda.free(a)
        cuda.free(b)


def _in_thread(fn: Any) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def body() -> None:
        try:
            result["value"] = fn()
        except Exception as exc:
            result["error"] = exc

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    return result


def test_explicit_context_pushed_in_a_worker_thread_works(cuda: cudamod.Cuda) -> None:
    ctx = cuda.ctx_create(0)  # current in this thread, as pycuda.autoinit does
    try:
        data = np.arange(4096, dtype=np.float32)
        buf = cuda.malloc(data.nbytes)
        stream = cuda.stream_create()

        def work() -> np.ndarray:
            cuda.ctx_push(ctx)
            try:
                out = np.empty_like(data)
                cuda.memcpy_htod(buf, data, stream)
                cuda.memcpy_dtoh(out, buf, stream)
                cuda.stream_synchronize(stream)
                return out
            finally:
                assert cuda.ctx_pop() == ctx

        result = _in_thread(work)
        assert "error" not in result, result.get("error")
        assert np.array_equal(result["value"], data)
        cuda.stream_destroy(stream)
        cuda.free(buf)
    finally:
        cuda.ctx_destroy(ctx)


def test_a_worker_thread_does_not_have_the_explicit_context(cuda: cudamod.Cuda) -> None:
    """What the execute check's thread-no-context variant relies on: a new thread starts without the
    context the main thread made current (pycuda.autoinit-style), so TensorRT runs there in another
    context unless the thread pushes it. (Observed on an H100 with driver 580: a plain copy with that
    context's stream and memory still succeeds from such a thread, so any failure in that cell comes
    from TensorRT's own use of the context, not from CUDA copies.)"""
    ctx = cuda.ctx_create(0)
    try:
        assert cuda.ctx_current() == ctx
        seen = _in_thread(cuda.ctx_current)
        assert "error" not in seen, seen
        assert seen["value"] != ctx

        def pushed_then_read() -> int:
            cuda.ctx_push(ctx)
            try:
                return cuda.ctx_current()
            finally:
                cuda.ctx_pop()

        pushed = _in_thread(pushed_then_read)
        assert pushed["value"] == ctx
    finally:
        cuda.ctx_destroy(ctx)
