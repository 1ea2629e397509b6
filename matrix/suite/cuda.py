"""Explicit CUDA: devices, driver contexts, streams, events and buffers, with no implicit state.

Contract: `load()` returns a `Cuda` backed by cuda-python (its runtime and driver APIs) when the
environment has it, otherwise by ctypes over libcudart and libcuda; it raises `CudaUnavailable` with
a precise reason ("libcuda.so.1 not found: ...", "no CUDA-capable device is detected") when CUDA
cannot be used. Nothing here makes a context current behind the caller's back (no `pycuda.autoinit`):
the caller chooses between the device's primary context (`set_device`) and an explicit driver
context (`ctx_create`/`ctx_push`), which is what the execute check needs to reproduce worker-thread
failures. Runs on Python 3.8.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import sys
from typing import Any, Protocol

import numpy as np

# cudaMemcpyKind and device attributes (cuda_runtime_api.h; stable since CUDA 5)
H2D, D2H, D2D = 1, 2, 3
ATTR_CC_MAJOR, ATTR_CC_MINOR = 75, 76
CU_CTX_SCHED_AUTO = 0


class CudaUnavailable(Exception):
    """CUDA cannot be used here; the message says exactly why."""


class CudaError(Exception):
    """A CUDA call failed; the message names the call and CUDA's error text."""


def _candidate_dirs() -> list[str]:
    dirs = []
    for entry in sys.path:  # pip wheels: nvidia/cuda_runtime/lib (CUDA 12), nvidia/cu13/lib (CUDA 13)
        dirs.extend(glob.glob(os.path.join(entry, "nvidia", "cuda_runtime", "lib")))
        dirs.extend(glob.glob(os.path.join(entry, "nvidia", "cu1*", "lib")))
    dirs.extend(["/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib"])
    return dirs


def _open_first(names: list[str], what: str, hint: str) -> ctypes.CDLL:
    for name in names:
        for candidate in [name] + [os.path.join(d, name) for d in _candidate_dirs()]:
            try:
                return ctypes.CDLL(candidate)
            except OSError:
                continue
    found = ctypes.util.find_library(what)
    if found:
        try:
            return ctypes.CDLL(found)
        except OSError:
            pass
    raise CudaUnavailable(f"{names[0]} not found: {hint}")


class _Driver(Protocol):
    """What `Cuda` needs of a driver-API backend (ctypes over libcuda, or cuda-python)."""

    name: str

    def device_name(self, ordinal: int) -> str: ...
    def ctx_create(self, ordinal: int) -> int: ...
    def ctx_push(self, ctx: int) -> None: ...
    def ctx_pop(self) -> int: ...
    def ctx_current(self) -> int: ...
    def ctx_destroy(self, ctx: int) -> None: ...


class _CtypesDriver:
    """The driver API through ctypes: its ABI (the _v2 entry points) is stable across CUDA 10 to 13."""

    name = "ctypes-libcuda"

    def __init__(self) -> None:
        self.lib = _open_first(
            ["libcuda.so.1", "libcuda.so"],
            "cuda",
            "no NVIDIA driver visible (on a container host: run with --gpus and the NVIDIA container toolkit)",
        )
        self._ready = False

    def call(self, name: str, *args: Any) -> None:
        status = getattr(self.lib, name)(*args)
        if status != 0:
            text = ctypes.c_char_p()
            self.lib.cuGetErrorString(status, ctypes.byref(text))
            raise CudaError(
                "{} failed: {} (CUresult {})".format(
                    name, text.value.decode() if text.value else "unknown error", status
                )
            )

    def init(self) -> None:
        if not self._ready:
            self.call("cuInit", ctypes.c_uint(0))
            self._ready = True

    def device(self, ordinal: int) -> ctypes.c_int:
        self.init()
        handle = ctypes.c_int()
        self.call("cuDeviceGet", ctypes.byref(handle), ctypes.c_int(ordinal))
        return handle

    def pointer(self, name: str, *args: Any) -> int:
        value = ctypes.c_void_p()
        self.call(name, ctypes.byref(value), *args)
        return int(value.value or 0)

    def device_name(self, ordinal: int) -> str:
        handle = self.device(ordinal)
        buf = ctypes.create_string_buffer(256)
        self.call("cuDeviceGetName", buf, ctypes.c_int(256), handle)
        return buf.value.decode(errors="replace")

    def ctx_create(self, ordinal: int) -> int:
        handle = self.device(ordinal)
        return self.pointer("cuCtxCreate_v2", ctypes.c_uint(CU_CTX_SCHED_AUTO), handle)

    def ctx_push(self, ctx: int) -> None:
        self.call("cuCtxPushCurrent_v2", ctypes.c_void_p(ctx))

    def ctx_pop(self) -> int:
        return self.pointer("cuCtxPopCurrent_v2")

    def ctx_current(self) -> int:
        self.init()
        return self.pointer("cuCtxGetCurrent")

    def ctx_destroy(self, ctx: int) -> None:
        self.call("cuCtxDestroy_v2", ctypes.c_void_p(ctx))


class _CudaPythonDriver:
    """The driver API through cuda-python (`cuda.bindings.driver`, or `cuda.cuda` before 12.6).

    Every call returns a tuple whose first item is a CUresult; handles (CUdevice, CUcontext) become
    plain ints here, as the ctypes backend gives them.
    """

    name = "cuda-python"

    def __init__(self, drv: Any) -> None:
        self.drv = drv
        self._ready = False

    def _run(self, name: str, *args: Any) -> tuple[Any, ...]:
        result = getattr(self.drv, name)(*args)
        result = result if isinstance(result, tuple) else (result,)
        if int(result[0]) != 0:
            _, text = self.drv.cuGetErrorString(result[0])
            raise CudaError(
                "{} failed: {} (CUresult {})".format(
                    name, text.decode() if isinstance(text, bytes) else (text or "unknown error"), int(result[0])
                )
            )
        return result[1:]

    def _device(self, ordinal: int) -> Any:
        if not self._ready:
            self._run("cuInit", 0)
            self._ready = True
        return self._run("cuDeviceGet", ordinal)[0]

    def _context(self, ctx: int) -> Any:
        return self.drv.CUcontext(int(ctx))

    def device_name(self, ordinal: int) -> str:
        raw = self._run("cuDeviceGetName", 256, self._device(ordinal))[0]
        raw = raw if isinstance(raw, bytes) else str(raw).encode()
        return raw.split(b"\0", 1)[0].decode(errors="replace")

    def ctx_create(self, ordinal: int) -> int:
        device = self._device(ordinal)
        try:
            ctx = self._run("cuCtxCreate", CU_CTX_SCHED_AUTO, device)[0]
        except TypeError:  # cuda-bindings 13: cuCtxCreate(ctxCreateParams, flags, dev) (cuCtxCreate_v4)
            ctx = self._run("cuCtxCreate", None, CU_CTX_SCHED_AUTO, device)[0]
        return int(ctx)

    def ctx_push(self, ctx: int) -> None:
        self._run("cuCtxPushCurrent", self._context(ctx))

    def ctx_pop(self) -> int:
        return int(self._run("cuCtxPopCurrent")[0])

    def ctx_current(self) -> int:
        if not self._ready:
            self._run("cuInit", 0)
            self._ready = True
        return int(self._run("cuCtxGetCurrent")[0])

    def ctx_destroy(self, ctx: int) -> None:
        self._run("cuCtxDestroy", self._context(ctx))


class _Runtime(Protocol):
    """What `Cuda` needs of a runtime-API backend (ctypes or cuda-python)."""

    name: str

    def call(self, name: str, *args: Any) -> None: ...
    def out_int(self, name: str, *args: Any) -> int: ...
    def out_ptr(self, name: str, *args: Any) -> int: ...
    def elapsed_ms(self, start: int, end: int) -> float: ...
    def last_error(self) -> str: ...


class _CtypesRuntime:
    """The runtime API through ctypes over libcudart."""

    name = "ctypes-libcudart"

    def __init__(self) -> None:
        self.lib = _open_first(
            ["libcudart.so", "libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0"],
            "cudart",
            "no CUDA runtime library (install the CUDA runtime, or the nvidia-cuda-runtime wheel)",
        )
        self.lib.cudaGetErrorString.restype = ctypes.c_char_p

    def _check(self, name: str, status: int) -> None:
        if status != 0:
            text = self.lib.cudaGetErrorString(status)
            raise CudaError(
                "{} failed: {} (cudaError {})".format(name, text.decode() if text else "unknown error", status)
            )

    def call(self, name: str, *args: Any) -> None:
        self._check(name, getattr(self.lib, name)(*[_c(a) for a in args]))

    def out_int(self, name: str, *args: Any) -> int:
        value = ctypes.c_int()
        self._check(name, getattr(self.lib, name)(ctypes.byref(value), *[_c(a) for a in args]))
        return value.value

    def out_ptr(self, name: str, *args: Any) -> int:
        value = ctypes.c_void_p()
        self._check(name, getattr(self.lib, name)(ctypes.byref(value), *[_c(a) for a in args]))
        return int(value.value or 0)

    def elapsed_ms(self, start: int, end: int) -> float:
        value = ctypes.c_float()
        self._check(
            "cudaEventElapsedTime",
            self.lib.cudaEventElapsedTime(ctypes.byref(value), ctypes.c_void_p(start), ctypes.c_void_p(end)),
        )
        return float(value.value)

    def last_error(self) -> str:
        status = self.lib.cudaGetLastError()
        if status == 0:
            return ""
        text = self.lib.cudaGetErrorString(status)
        return text.decode() if text else f"cudaError {status}"


def _c(arg: Any) -> Any:
    """ints become size_t/pointers, small ints stay int: the runtime calls used here take both."""
    if isinstance(arg, _Size):
        return ctypes.c_size_t(arg.value)
    if isinstance(arg, _Ptr):
        return ctypes.c_void_p(arg.value)
    if isinstance(arg, int):
        return ctypes.c_int(arg)
    return arg


class _Size:
    def __init__(self, value: int) -> None:
        self.value = int(value)


class _Ptr:
    def __init__(self, value: int) -> None:
        self.value = int(value)


class _CudaPythonRuntime:
    """The runtime API through cuda-python (`cuda.bindings.runtime`, or `cuda.cudart` before 12.6)."""

    name = "cuda-python"

    def __init__(self, rt: Any) -> None:
        self.rt = rt

    def _run(self, name: str, *args: Any) -> tuple[Any, ...]:
        values = [_py(a) for a in args]
        if name in ("cudaMemcpy", "cudaMemcpyAsync"):
            values[3] = self.rt.cudaMemcpyKind(values[3])  # cuda-python wants the enum, not an int
        result = getattr(self.rt, name)(*values)
        result = result if isinstance(result, tuple) else (result,)
        if int(result[0]) != 0:
            _, text = self.rt.cudaGetErrorString(result[0])
            raise CudaError(
                f"{name} failed: {text.decode() if isinstance(text, bytes) else text} (cudaError {int(result[0])})"
            )
        return result[1:]

    def call(self, name: str, *args: Any) -> None:
        self._run(name, *args)

    def out_int(self, name: str, *args: Any) -> int:
        if name == "cudaDeviceGetAttribute":
            attr = self.rt.cudaDeviceAttr(args[0])
            return int(self._run(name, attr, args[1])[0])
        return int(self._run(name, *args)[0])

    def out_ptr(self, name: str, *args: Any) -> int:
        return int(self._run(name, *args)[0])

    def elapsed_ms(self, start: int, end: int) -> float:
        return float(self._run("cudaEventElapsedTime", start, end)[0])

    def last_error(self) -> str:
        status = self.rt.cudaGetLastError()
        status = status[0] if isinstance(status, tuple) else status
        if int(status) == 0:
            return ""
        _, text = self.rt.cudaGetErrorString(status)
        return text.decode() if isinstance(text, bytes) else str(text)


def _py(arg: Any) -> Any:
    if isinstance(arg, (_Size, _Ptr)):
        return arg.value
    return arg


def _runtime(prefer: str) -> _Runtime:
    if prefer in ("auto", "cuda-python"):
        try:
            from cuda.bindings import runtime as rt  # cuda-python >= 12.6
        except ImportError:
            try:
                from cuda import cudart as rt
            except ImportError:
                rt = None
        if rt is not None:
            return _CudaPythonRuntime(rt)
        if prefer == "cuda-python":
            raise CudaUnavailable("cuda-python is not installed")
    return _CtypesRuntime()


def _driver(prefer: str) -> _Driver:
    """The driver API from the same source as the runtime: cuda-python's when it is importable."""
    if prefer in ("auto", "cuda-python"):
        try:
            from cuda.bindings import driver as drv  # cuda-python >= 12.6
        except ImportError:
            try:
                from cuda import cuda as drv
            except ImportError:
                drv = None
        if drv is not None:
            return _CudaPythonDriver(drv)
        if prefer == "cuda-python":
            raise CudaUnavailable("cuda-python is not installed")
    return _CtypesDriver()


class Cuda:
    """One process's view of CUDA. Handles are plain ints (pointers), as TensorRT takes them."""

    def __init__(self, runtime: _Runtime, driver: _Driver) -> None:
        self._rt = runtime
        self._drv = driver
        self.backend = runtime.name
        self.driver_backend = driver.name
        self._pinned: list[int] = []

    # --- devices ----------------------------------------------------------------------------
    def device_count(self) -> int:
        return self._rt.out_int("cudaGetDeviceCount")

    def set_device(self, device: int) -> None:
        """Make the device's primary context current in the calling thread (runtime API)."""
        self._rt.call("cudaSetDevice", device)

    def compute_capability(self, device: int) -> tuple[int, int]:
        return (
            self._rt.out_int("cudaDeviceGetAttribute", ATTR_CC_MAJOR, device),
            self._rt.out_int("cudaDeviceGetAttribute", ATTR_CC_MINOR, device),
        )

    def device_name(self, device: int) -> str:
        return self._drv.device_name(device)

    def runtime_version(self) -> int:
        return self._rt.out_int("cudaRuntimeGetVersion")

    def driver_version(self) -> int:
        return self._rt.out_int("cudaDriverGetVersion")

    def synchronize(self) -> None:
        self._rt.call("cudaDeviceSynchronize")

    def last_error(self) -> str:
        """Returns and clears the calling thread's CUDA error text ('' when none)."""
        return self._rt.last_error()

    # --- explicit driver contexts -----------------------------------------------------------
    def ctx_create(self, device: int) -> int:
        """A new (non-primary) context, made current in this thread: what pycuda.autoinit makes."""
        return self._drv.ctx_create(device)

    def ctx_push(self, ctx: int) -> None:
        self._drv.ctx_push(ctx)

    def ctx_pop(self) -> int:
        return self._drv.ctx_pop()

    def ctx_current(self) -> int:
        return self._drv.ctx_current()

    def ctx_destroy(self, ctx: int) -> None:
        self._drv.ctx_destroy(ctx)

    # --- memory -----------------------------------------------------------------------------
    def malloc(self, nbytes: int) -> int:
        return self._rt.out_ptr("cudaMalloc", _Size(max(int(nbytes), 1)))

    def free(self, ptr: int) -> None:
        if ptr:
            self._rt.call("cudaFree", _Ptr(ptr))

    def host_alloc(self, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
        """Page-locked host memory as a numpy array (async copies need it to be truly async)."""
        dt = np.dtype(dtype)
        count = int(np.prod(shape))
        nbytes = max(count * dt.itemsize, 1)
        ptr = self._rt.out_ptr("cudaMallocHost", _Size(nbytes))
        self._pinned.append(ptr)
        raw = (ctypes.c_byte * nbytes).from_address(ptr)
        return np.frombuffer(raw, dtype=dt, count=count).reshape(shape)

    def free_host_all(self) -> None:
        while self._pinned:
            self._rt.call("cudaFreeHost", _Ptr(self._pinned.pop()))

    def memcpy_htod(self, dst: int, src: np.ndarray, stream: int | None = None) -> None:
        src = np.ascontiguousarray(src)
        self._copy(dst, int(src.ctypes.data), src.nbytes, H2D, stream)

    def memcpy_dtoh(self, dst: np.ndarray, src: int, stream: int | None = None) -> None:
        if not dst.flags["C_CONTIGUOUS"]:
            raise ValueError("destination array must be C-contiguous")
        self._copy(int(dst.ctypes.data), src, dst.nbytes, D2H, stream)

    def memcpy_dtod(self, dst: int, src: int, nbytes: int, stream: int | None = None) -> None:
        self._copy(dst, src, nbytes, D2D, stream)

    def _copy(self, dst: int, src: int, nbytes: int, kind: int, stream: int | None) -> None:
        if stream is None:
            self._rt.call("cudaMemcpy", _Ptr(dst), _Ptr(src), _Size(nbytes), kind)
        else:
            self._rt.call("cudaMemcpyAsync", _Ptr(dst), _Ptr(src), _Size(nbytes), kind, _Ptr(stream))

    def memset(self, ptr: int, value: int, nbytes: int, stream: int | None = None) -> None:
        if stream is None:
            self._rt.call("cudaMemset", _Ptr(ptr), value, _Size(nbytes))
        else:
            self._rt.call("cudaMemsetAsync", _Ptr(ptr), value, _Size(nbytes), _Ptr(stream))

    # --- streams and events -----------------------------------------------------------------
    def stream_create(self) -> int:
        return self._rt.out_ptr("cudaStreamCreate")

    def stream_synchronize(self, stream: int) -> None:
        self._rt.call("cudaStreamSynchronize", _Ptr(stream))

    def stream_destroy(self, stream: int) -> None:
        self._rt.call("cudaStreamDestroy", _Ptr(stream))

    def event_create(self) -> int:
        return self._rt.out_ptr("cudaEventCreate")

    def event_record(self, event: int, stream: int) -> None:
        self._rt.call("cudaEventRecord", _Ptr(event), _Ptr(stream))

    def event_synchronize(self, event: int) -> None:
        self._rt.call("cudaEventSynchronize", _Ptr(event))

    def event_elapsed_ms(self, start: int, end: int) -> float:
        return self._rt.elapsed_ms(start, end)

    def event_destroy(self, event: int) -> None:
        self._rt.call("cudaEventDestroy", _Ptr(event))


def load(prefer: str = "auto") -> Cuda:
    """CUDA through cuda-python if importable (unless `prefer='ctypes'`), else ctypes.

    Raises CudaUnavailable with the precise reason when no device can be used.
    """
    cuda = Cuda(_runtime(prefer), _driver(prefer))
    try:
        count = cuda.device_count()
    except CudaError as exc:
        raise CudaUnavailable(str(exc)) from None
    if count < 1:
        raise CudaUnavailable("no CUDA device: cudaGetDeviceCount returned 0")
    return cuda


class DeviceBuffer:
    """A device allocation that knows its size and frees itself once."""

    def __init__(self, cuda: Cuda, nbytes: int) -> None:
        self.cuda = cuda
        self.nbytes = int(nbytes)
        self.ptr = cuda.malloc(self.nbytes)

    def free(self) -> None:
        if self.ptr:
            self.cuda.free(self.ptr)
            self.ptr = 0
