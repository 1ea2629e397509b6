"""The runtime half of the CUDA double: cuda-python's `cuda.bindings.runtime` calling convention
(every call returns a tuple whose first item is a cudaError_t), backed by host memory.

"Device" pointers are addresses of host buffers this module owns; `device_view(ptr, nbytes)` is how the
TensorRT double reads and writes them, and it refuses a pointer or a size that no allocation covers
(what a real kernel would do by faulting, this does by raising `IllegalAddress`). Streams and events are
handles in a table; copies are synchronous. Contexts live in the driver double (driver.py):
`cudaSetDevice` makes the primary context current in the calling thread. Not CUDA: tests only.
"""

from __future__ import annotations

import ctypes
import enum
import itertools
import threading
import time
from typing import Any

from cuda.bindings import driver


class cudaError_t(enum.IntEnum):
    cudaSuccess = 0
    cudaErrorInvalidValue = 1
    cudaErrorMemoryAllocation = 2
    cudaErrorInvalidDevice = 101
    cudaErrorInvalidResourceHandle = 400
    cudaErrorIllegalAddress = 700


# Texts as cudaGetErrorString returns them (CUDA runtime API reference, "Error Handling").
_TEXT = {
    0: "no error",
    1: "invalid argument",
    2: "out of memory",
    101: "invalid device ordinal",
    400: "invalid resource handle",
    700: "an illegal memory access was encountered",
}


class cudaMemcpyKind(enum.IntEnum):
    cudaMemcpyHostToHost = 0
    cudaMemcpyHostToDevice = 1
    cudaMemcpyDeviceToHost = 2
    cudaMemcpyDeviceToDevice = 3
    cudaMemcpyDefault = 4


class cudaDeviceAttr(enum.IntEnum):
    cudaDevAttrComputeCapabilityMajor = 75
    cudaDevAttrComputeCapabilityMinor = 76


COMPUTE_CAPABILITY = (8, 6)  # what the double reports; says nothing about any real GPU
RUNTIME_VERSION = 12040
MEMORY_LIMIT = 8 << 30


class IllegalAddress(Exception):
    """A pointer or size that no live allocation of the double covers."""


_lock = threading.Lock()
_device: dict[int, Any] = {}  # address -> ctypes buffer
_host: dict[int, Any] = {}
_streams: dict[int, bool] = {}
_events: dict[int, float] = {}
_handles = itertools.count(0x5000)
_last_error = threading.local()


def _fail(code: cudaError_t) -> tuple[cudaError_t]:
    _last_error.code = code
    return (code,)


def device_view(ptr: int, nbytes: int) -> memoryview:
    """The bytes [ptr, ptr+nbytes) of one live device allocation, or IllegalAddress."""
    with _lock:
        for base, buf in _device.items():
            if base <= ptr and ptr + nbytes <= base + ctypes.sizeof(buf):
                return memoryview(buf).cast("B")[ptr - base : ptr - base + nbytes]
    raise IllegalAddress(f"0x{ptr:x} (+{nbytes} bytes) is not inside any live device allocation")


def is_device_pointer(ptr: int) -> bool:
    with _lock:
        return any(base <= ptr < base + ctypes.sizeof(buf) for base, buf in _device.items())


def _view(ptr: int, nbytes: int) -> memoryview:
    if is_device_pointer(ptr):
        return device_view(ptr, nbytes)
    return memoryview((ctypes.c_char * nbytes).from_address(ptr)).cast("B")


def cudaGetErrorString(error: Any) -> tuple[cudaError_t, bytes]:
    return (cudaError_t.cudaSuccess, _TEXT.get(int(error), "unrecognized error code").encode())


def cudaGetLastError() -> tuple[cudaError_t]:
    code = getattr(_last_error, "code", cudaError_t.cudaSuccess)
    _last_error.code = cudaError_t.cudaSuccess
    return (code,)


def cudaGetDeviceCount() -> tuple[cudaError_t, int]:
    return (cudaError_t.cudaSuccess, 1)


def cudaSetDevice(device: int) -> tuple[cudaError_t]:
    if int(device) != 0:
        return _fail(cudaError_t.cudaErrorInvalidDevice)
    driver.cuInit(0)
    _, primary = driver.cuDevicePrimaryCtxRetain(driver.CUdevice(0))
    driver.cuCtxSetCurrent(primary)
    return (cudaError_t.cudaSuccess,)


def current_context() -> int:
    """The calling thread's current driver context (0: none), as the driver double keeps it."""
    driver.cuInit(0)
    return int(driver.cuCtxGetCurrent()[1])


def cudaDeviceGetAttribute(attr: Any, device: int) -> tuple[cudaError_t, int]:
    if int(device) != 0:
        return (cudaError_t.cudaErrorInvalidDevice, 0)
    value = {75: COMPUTE_CAPABILITY[0], 76: COMPUTE_CAPABILITY[1]}.get(int(attr))
    if value is None:
        return (cudaError_t.cudaErrorInvalidValue, 0)
    return (cudaError_t.cudaSuccess, value)


def cudaRuntimeGetVersion() -> tuple[cudaError_t, int]:
    return (cudaError_t.cudaSuccess, RUNTIME_VERSION)


def cudaDriverGetVersion() -> tuple[cudaError_t, int]:
    return (cudaError_t.cudaSuccess, RUNTIME_VERSION)


def cudaDeviceSynchronize() -> tuple[cudaError_t]:
    return (cudaError_t.cudaSuccess,)


def _allocate(table: dict[int, Any], nbytes: int) -> tuple[cudaError_t, int]:
    with _lock:
        used = sum(ctypes.sizeof(b) for b in _device.values())
        if int(nbytes) <= 0 or used + int(nbytes) > MEMORY_LIMIT:
            return (_fail(cudaError_t.cudaErrorMemoryAllocation)[0], 0)
        buf = (ctypes.c_char * int(nbytes))()
        ptr = ctypes.addressof(buf)
        table[ptr] = buf
    return (cudaError_t.cudaSuccess, ptr)


def cudaMalloc(nbytes: int) -> tuple[cudaError_t, int]:
    return _allocate(_device, nbytes)


def cudaMallocHost(nbytes: int) -> tuple[cudaError_t, int]:
    return _allocate(_host, nbytes)


def cudaFree(ptr: int) -> tuple[cudaError_t]:
    with _lock:
        if _device.pop(int(ptr), None) is None:
            return _fail(cudaError_t.cudaErrorInvalidValue)
    return (cudaError_t.cudaSuccess,)


def cudaFreeHost(ptr: int) -> tuple[cudaError_t]:
    with _lock:
        if _host.pop(int(ptr), None) is None:
            return _fail(cudaError_t.cudaErrorInvalidValue)
    return (cudaError_t.cudaSuccess,)


def cudaMemcpy(dst: int, src: int, nbytes: int, kind: Any) -> tuple[cudaError_t]:
    kind = int(kind)
    try:
        if kind in (1, 3) and not is_device_pointer(int(dst)):
            return _fail(cudaError_t.cudaErrorInvalidValue)
        if kind in (2, 3) and not is_device_pointer(int(src)):
            return _fail(cudaError_t.cudaErrorInvalidValue)
        _view(int(dst), int(nbytes))[:] = _view(int(src), int(nbytes))
    except IllegalAddress:
        return _fail(cudaError_t.cudaErrorInvalidValue)
    return (cudaError_t.cudaSuccess,)


def cudaMemcpyAsync(dst: int, src: int, nbytes: int, kind: Any, stream: int) -> tuple[cudaError_t]:
    if int(stream) and int(stream) not in _streams:
        return _fail(cudaError_t.cudaErrorInvalidResourceHandle)
    return cudaMemcpy(dst, src, nbytes, kind)


def cudaMemset(ptr: int, value: int, nbytes: int) -> tuple[cudaError_t]:
    try:
        device_view(int(ptr), int(nbytes))[:] = bytes([int(value) & 0xFF]) * int(nbytes)
    except IllegalAddress:
        return _fail(cudaError_t.cudaErrorInvalidValue)
    return (cudaError_t.cudaSuccess,)


def cudaMemsetAsync(ptr: int, value: int, nbytes: int, stream: int) -> tuple[cudaError_t]:
    if int(stream) and int(stream) not in _streams:
        return _fail(cudaError_t.cudaErrorInvalidResourceHandle)
    return cudaMemset(ptr, value, nbytes)


def valid_stream(stream: int) -> bool:
    return int(stream) == 0 or int(stream) in _streams


def cudaStreamCreate() -> tuple[cudaError_t, int]:
    handle = next(_handles)
    _streams[handle] = True
    return (cudaError_t.cudaSuccess, handle)


def cudaStreamSynchronize(stream: int) -> tuple[cudaError_t]:
    if not valid_stream(stream):
        return _fail(cudaError_t.cudaErrorInvalidResourceHandle)
    return (cudaError_t.cudaSuccess,)


def cudaStreamDestroy(stream: int) -> tuple[cudaError_t]:
    if _streams.pop(int(stream), None) is None:
        return _fail(cudaError_t.cudaErrorInvalidResourceHandle)
    return (cudaError_t.cudaSuccess,)


def cudaEventCreate() -> tuple[cudaError_t, int]:
    handle = next(_handles)
    _events[handle] = 0.0
    return (cudaError_t.cudaSuccess, handle)


def cudaEventRecord(event: int, stream: int) -> tuple[cudaError_t]:
    if int(event) not in _events or not valid_stream(stream):
        return _fail(cudaError_t.cudaErrorInvalidResourceHandle)
    _events[int(event)] = time.perf_counter()
    return (cudaError_t.cudaSuccess,)


def cudaEventSynchronize(event: int) -> tuple[cudaError_t]:
    if int(event) not in _events:
        return _fail(cudaError_t.cudaErrorInvalidResourceHandle)
    return (cudaError_t.cudaSuccess,)


def cudaEventElapsedTime(start: int, end: int) -> tuple[cudaError_t, float]:
    if int(start) not in _events or int(end) not in _events:
        return (_fail(cudaError_t.cudaErrorInvalidResourceHandle)[0], 0.0)
    return (cudaError_t.cudaSuccess, (_events[int(end)] - _events[int(start)]) * 1000.0)


def cudaEventDestroy(event: int) -> tuple[cudaError_t]:
    if _events.pop(int(event), None) is None:
        return _fail(cudaError_t.cudaErrorInvalidResourceHandle)
    return (cudaError_t.cudaSuccess,)
