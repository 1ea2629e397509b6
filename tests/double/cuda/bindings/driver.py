"""The driver half of the CUDA double: cuda-python's `cuda.bindings.driver` calling convention (every
call returns a tuple whose first item is a CUresult), for contexts and device queries only. Not CUDA.

Rules, from the CUDA driver API reference ("Context Management", "Primary Context Management"):
- each thread has its own stack of current contexts; a new thread starts with none;
- `cuCtxCreate` makes a new context and pushes it on the calling thread's stack;
- `cuCtxPushCurrent`/`cuCtxPopCurrent` push and pop; popping an empty stack is CUDA_ERROR_INVALID_CONTEXT;
- `cuCtxSetCurrent` replaces the top (pushes onto an empty stack; None pops);
- `cuDevicePrimaryCtxRetain` returns the device's one primary context (the runtime API's context);
- `cuCtxDestroy` of a context current in another thread is allowed; of the primary context it is
  CUDA_ERROR_INVALID_CONTEXT; every call but cuInit/cuGetErrorString before `cuInit` is
  CUDA_ERROR_NOT_INITIALIZED.
Handles are `CUcontext`/`CUdevice` objects that `int()` turns into their value, as cuda-python's are.
"""

from __future__ import annotations

import enum
import itertools
import threading
from typing import Any


class CUresult(enum.IntEnum):
    CUDA_SUCCESS = 0
    CUDA_ERROR_INVALID_VALUE = 1
    CUDA_ERROR_NOT_INITIALIZED = 3
    CUDA_ERROR_INVALID_DEVICE = 101
    CUDA_ERROR_INVALID_CONTEXT = 201


# Texts as cuGetErrorString returns them (CUDA driver API reference, "Error Handling").
_TEXT = {
    0: b"no error",
    1: b"invalid argument",
    3: b"initialization error",
    101: b"invalid device ordinal",
    201: b"invalid device context",
}

DEVICE_NAME = "TensorRT double device (host memory)"


class _Handle:
    """A cuda-python style handle: constructed from an int, `int()` gives it back."""

    def __init__(self, init_value: int = 0) -> None:
        self._value = int(init_value)

    def __int__(self) -> int:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Handle) and type(other) is type(self) and int(other) == self._value

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._value))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} 0x{self._value:x}>"


class CUcontext(_Handle):
    pass


class CUdevice(_Handle):
    pass


_lock = threading.Lock()
_ready = False
_ids = itertools.count(0xC0000)
PRIMARY = 0xC0FFEE  # the one device's primary context
_live: set[int] = {PRIMARY}
_tls = threading.local()


def _stack() -> list[int]:
    if not hasattr(_tls, "stack"):
        _tls.stack = []
    return _tls.stack  # type: ignore[no-any-return]


def _ok(*values: Any) -> tuple[Any, ...]:
    return (CUresult.CUDA_SUCCESS, *values)


def cuGetErrorString(error: Any) -> tuple[CUresult, bytes | None]:
    text = _TEXT.get(int(error))
    if text is None:
        return (CUresult.CUDA_ERROR_INVALID_VALUE, None)
    return _ok(text)


def cuInit(flags: int) -> tuple[CUresult]:
    global _ready
    if int(flags) != 0:
        return (CUresult.CUDA_ERROR_INVALID_VALUE,)
    _ready = True
    return (CUresult.CUDA_SUCCESS,)


def cuDeviceGetCount() -> tuple[CUresult, int]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED, 0)
    return (CUresult.CUDA_SUCCESS, 1)


def cuDeviceGet(ordinal: int) -> tuple[CUresult, CUdevice | None]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED, None)
    if int(ordinal) != 0:
        return (CUresult.CUDA_ERROR_INVALID_DEVICE, None)
    return (CUresult.CUDA_SUCCESS, CUdevice(0))


def cuDeviceGetName(length: int, dev: Any) -> tuple[CUresult, bytes | None]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED, None)
    if int(dev) != 0:
        return (CUresult.CUDA_ERROR_INVALID_DEVICE, None)
    if int(length) < 1:
        return (CUresult.CUDA_ERROR_INVALID_VALUE, None)
    raw = DEVICE_NAME.encode()[: int(length) - 1]
    return (CUresult.CUDA_SUCCESS, raw + b"\0" * (int(length) - len(raw)))  # a fixed-size buffer, as cuda-python's


def cuDevicePrimaryCtxRetain(dev: Any) -> tuple[CUresult, CUcontext | None]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED, None)
    if int(dev) != 0:
        return (CUresult.CUDA_ERROR_INVALID_DEVICE, None)
    return (CUresult.CUDA_SUCCESS, CUcontext(PRIMARY))


def cuCtxCreate(flags: int, dev: Any) -> tuple[CUresult, CUcontext | None]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED, None)
    if int(dev) != 0:
        return (CUresult.CUDA_ERROR_INVALID_DEVICE, None)
    with _lock:
        handle = next(_ids)
        _live.add(handle)
    _stack().append(handle)
    return (CUresult.CUDA_SUCCESS, CUcontext(handle))


def _known(ctx: Any) -> int:
    value = 0 if ctx is None else int(ctx)
    with _lock:
        return value if value in _live else 0


def cuCtxPushCurrent(ctx: Any) -> tuple[CUresult]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED,)
    handle = _known(ctx)
    if not handle:
        return (CUresult.CUDA_ERROR_INVALID_CONTEXT,)
    _stack().append(handle)
    return (CUresult.CUDA_SUCCESS,)


def cuCtxPopCurrent() -> tuple[CUresult, CUcontext | None]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED, None)
    stack = _stack()
    if not stack:
        return (CUresult.CUDA_ERROR_INVALID_CONTEXT, None)
    return (CUresult.CUDA_SUCCESS, CUcontext(stack.pop()))


def cuCtxGetCurrent() -> tuple[CUresult, CUcontext]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED, CUcontext(0))
    stack = _stack()
    return (CUresult.CUDA_SUCCESS, CUcontext(stack[-1] if stack else 0))


def cuCtxSetCurrent(ctx: Any) -> tuple[CUresult]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED,)
    stack = _stack()
    if ctx is None or int(ctx) == 0:
        if stack:
            stack.pop()
        return (CUresult.CUDA_SUCCESS,)
    handle = _known(ctx)
    if not handle:
        return (CUresult.CUDA_ERROR_INVALID_CONTEXT,)
    if stack:
        stack[-1] = handle
    else:
        stack.append(handle)
    return (CUresult.CUDA_SUCCESS,)


def cuCtxDestroy(ctx: Any) -> tuple[CUresult]:
    if not _ready:
        return (CUresult.CUDA_ERROR_NOT_INITIALIZED,)
    handle = _known(ctx)
    if not handle or handle == PRIMARY:
        return (CUresult.CUDA_ERROR_INVALID_CONTEXT,)
    with _lock:
        _live.discard(handle)
    stack = _stack()
    while handle in stack:  # current in this thread: it stops being current (other threads find it dead)
        stack.remove(handle)
    return (CUresult.CUDA_SUCCESS,)


def is_live(ctx: int) -> bool:
    """Whether a context handle is one the double made and has not destroyed (for the TensorRT double)."""
    with _lock:
        return int(ctx) in _live
