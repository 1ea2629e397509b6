"""Host memory behind the interface the calibrator feeds batches through (malloc, memcpy_htod, free).

The calibrator is given `matrix.suite.cuda.Cuda` in the images; here, with no GPU, real host buffers
stand in for device buffers so that a test can read back exactly what was copied where. Python 3.8.
"""

from __future__ import annotations

import ctypes

import numpy as np


class HostMemory:
    def __init__(self) -> None:
        self.buffers: dict[int, ctypes.Array[ctypes.c_char]] = {}
        self.copies = 0
        self.freed: list[int] = []

    def malloc(self, nbytes: int) -> int:
        buf = ctypes.create_string_buffer(max(int(nbytes), 1))
        ptr = ctypes.addressof(buf)
        self.buffers[ptr] = buf
        return ptr

    def memcpy_htod(self, dst: int, src: np.ndarray, stream: int | None = None) -> None:
        data = np.ascontiguousarray(src)
        if dst not in self.buffers or len(self.buffers[dst]) < data.nbytes:
            raise ValueError("copy outside an allocation")
        ctypes.memmove(dst, data.ctypes.data, data.nbytes)
        self.copies += 1

    def free(self, ptr: int) -> None:
        del self.buffers[ptr]
        self.freed.append(ptr)

    def read(self, ptr: int, shape: tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        data: np.ndarray = np.frombuffer(ctypes.string_at(ptr, count * 4), dtype=np.float32)
        out: np.ndarray = data.reshape(shape).copy()
        return out
