"""matrix.suite.cuda picks cuda-python's driver API with its runtime API, and speaks both of its dialects."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from matrix.suite import cuda as cudamod


class _Ctx:
    def __init__(self, value: int) -> None:
        self.value = value

    def __int__(self) -> int:
        return self.value


def _module(create: Any) -> SimpleNamespace:
    calls: list[tuple[Any, ...]] = []

    def rec(name: str, result: tuple[Any, ...]) -> Any:
        def fn(*args: Any) -> tuple[Any, ...]:
            calls.append((name, *args))
            return result

        return fn

    return SimpleNamespace(
        calls=calls,
        CUcontext=_Ctx,
        cuInit=rec("cuInit", (0,)),
        cuDeviceGet=rec("cuDeviceGet", (0, 0)),
        cuDeviceGetName=rec("cuDeviceGetName", (0, b"GPU X\0\0\0")),
        cuCtxCreate=create,
        cuCtxPushCurrent=rec("push", (0,)),
        cuCtxPopCurrent=rec("pop", (0, _Ctx(0x77))),
        cuCtxGetCurrent=rec("current", (0, _Ctx(0))),
        cuCtxDestroy=rec("destroy", (201,)),
        cuGetErrorString=lambda err: (0, b"invalid device context"),
    )


def test_cuda_12_dialect() -> None:
    drv = cudamod._CudaPythonDriver(_module(lambda flags, dev: (0, _Ctx(0x55))))
    assert drv.device_name(0) == "GPU X"
    assert drv.ctx_create(0) == 0x55
    assert drv.ctx_pop() == 0x77
    assert drv.ctx_current() == 0
    drv.ctx_push(0x55)
    with pytest.raises(cudamod.CudaError, match=r"cuCtxDestroy failed: invalid device context \(CUresult 201\)"):
        drv.ctx_destroy(0x55)


def test_cuda_13_dialect_takes_create_params_first() -> None:
    def create(params: Any, flags: int, dev: int) -> tuple[int, _Ctx]:
        assert params is None and flags == 0
        return (0, _Ctx(0x66))

    assert cudamod._CudaPythonDriver(_module(create)).ctx_create(0) == 0x66


def test_no_cuda_python_means_ctypes_or_a_precise_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_cuda(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "cuda" or name.startswith("cuda."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_cuda)
    with pytest.raises(cudamod.CudaUnavailable, match="cuda-python is not installed"):
        cudamod._driver("cuda-python")
    try:
        assert cudamod._driver("auto").name == "ctypes-libcuda"
    except cudamod.CudaUnavailable as exc:  # no driver on this machine: the reason names libcuda
        assert str(exc).startswith("libcuda.so.1 not found")
