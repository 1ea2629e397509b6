"""Dims, as the bindings give it (NOT TensorRT): a sequence of ints that compares equal to a Dims or to a
tuple/list of the same ints, indexes (negative indices too), iterates through __getitem__ and prints
as a tuple. Source: the Python API's Dims page ("Dims: structure to define the dimensions of a tensor.
Supports len, indexing, equality with Dims or tuples"; MAX_DIMS = 8 since 8.x, NvInferRuntimeBase.h
`kMAX_DIMS`)."""

from __future__ import annotations

from typing import Any

MAX_DIMS = 8


class DimsModel:
    def __init__(self, shape: Any = ()) -> None:
        values = [int(v) for v in shape]
        if len(values) > MAX_DIMS:
            raise ValueError(f"a Dims holds at most {MAX_DIMS} dimensions, got {len(values)}")
        self._values = values

    @property
    def MAX_DIMS(self) -> int:
        return MAX_DIMS

    def __len__(self) -> int:
        return len(self._values)

    def __getitem__(self, index: int) -> int:
        if not -len(self._values) <= index < len(self._values):
            raise IndexError("Out of bounds")
        return self._values[index]

    def __setitem__(self, index: int, value: int) -> None:
        if not -len(self._values) <= index < len(self._values):
            raise IndexError("Out of bounds")
        self._values[index] = int(value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, list)):
            return tuple(self._values) == tuple(int(v) for v in other)
        return hasattr(other, "_values") and self._values == other._values

    __hash__ = None  # type: ignore[assignment]  # pybind11 classes with __eq__ and no __hash__ are unhashable

    def __repr__(self) -> str:
        return repr(tuple(self._values))

    def __str__(self) -> str:
        return repr(tuple(self._values))


MODELS = {"Dims": DimsModel}
