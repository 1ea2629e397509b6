"""The adapter against TensorRT's documented semantics (#22): TF32 cleared for FP32 cells and every flag
recorded, I/O types numpy cannot hold reported as `na`, execute_v2's bindings ordered by
get_binding_index where it exists, and dynamic shapes refused instead of one-element buffers.

A small stand-in module is enough here: these rules are about which calls the adapter makes and what
it does with their answers. Behaviour under a whole engine is exercised against the TensorRT double."""

from __future__ import annotations

import enum
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from matrix.suite import trace
from matrix.suite.adapter import Api, TensorInfo
from matrix.suite.outcome import NotApplicable, TrtCallError


class DataType(enum.Enum):
    FLOAT = 0
    HALF = 1
    BF16 = 7
    FP4 = 10


def nptype(t: DataType) -> type:
    table = {DataType.FLOAT: np.float32, DataType.HALF: np.float16}
    if t not in table:
        raise TypeError("Could not resolve TensorRT datatype to an equivalent numpy datatype.")
    return table[t]


class Flag(enum.Enum):
    FP16 = 0
    TF32 = 7


class Config:
    def __init__(self) -> None:
        self.flags = {Flag.TF32}  # on by default, as in every release 8.4-11.4

    def set_flag(self, f: Flag) -> None:
        self.flags.add(f)

    def clear_flag(self, f: Flag) -> None:
        self.flags.discard(f)


def module(**extra: Any) -> Any:
    return SimpleNamespace(__version__="9.9.9", BuilderFlag=Flag, DataType=DataType, nptype=nptype, **extra)


@pytest.fixture(autouse=True)
def fresh_trace() -> Any:
    trace.reset()
    yield
    trace.reset()


def test_fp32_clears_tf32_and_every_flag_is_recorded() -> None:
    api, config = Api(module()), Config()
    api.set_precision(config, "fp32")
    assert Flag.TF32 not in config.flags
    fp16 = Config()
    api.set_precision(fp16, "fp16")
    assert fp16.flags == {Flag.TF32, Flag.FP16}
    assert trace.BUILDER_FLAGS == ["-TF32", "+FP16"]


def test_a_release_without_tf32_leaves_fp32_alone() -> None:
    class NoTf32(enum.Enum):
        FP16 = 0

    api = Api(SimpleNamespace(__version__="7.0", BuilderFlag=NoTf32))
    config = Config()
    api.set_precision(config, "fp32")
    assert trace.BUILDER_FLAGS == []


def test_types_numpy_cannot_hold_are_not_applicable_with_the_type_named() -> None:
    api = Api(module())
    assert api.numpy_dtype(DataType.HALF) == np.dtype(np.float16)
    with pytest.raises(NotApplicable, match=r"DataType\.FP4 has no numpy type"):
        api.numpy_dtype(DataType.FP4)
    try:
        import ml_dtypes  # noqa: F401
    except ImportError:
        with pytest.raises(NotApplicable, match=r"DataType\.BF16 needs ml_dtypes"):
            api.numpy_dtype(DataType.BF16)
    else:
        assert api.numpy_dtype(DataType.BF16).name == "bfloat16"


class Mode(enum.Enum):
    INPUT = 0
    OUTPUT = 1


class Engine:
    """8.6-style: the tensor API and the binding API side by side; binding order differs from name order."""

    def __init__(self, binding_index: dict[str, int], shapes: dict[str, tuple[int, ...]] | None = None) -> None:
        self.names = ["out_b", "input", "out_a"]
        self.binding_index = binding_index
        self.shapes = shapes or {}
        self.num_io_tensors = len(self.names)

    def get_tensor_name(self, i: int) -> str:
        return self.names[i]

    def get_tensor_mode(self, name: str) -> Mode:
        return Mode.INPUT if name == "input" else Mode.OUTPUT

    def get_tensor_shape(self, name: str) -> tuple[int, ...]:
        return self.shapes.get(name, (1, 4))

    def get_tensor_dtype(self, name: str) -> DataType:
        return DataType.FLOAT

    def get_binding_index(self, name: str) -> int:
        return self.binding_index[name]


def binding_api() -> Any:
    engine_type = SimpleNamespace(num_io_tensors=0, get_binding_index=None)
    return module(TensorIOMode=Mode, ICudaEngine=engine_type)


def test_bindings_follow_get_binding_index_where_it_exists() -> None:
    api = Api(binding_api())
    tensors = api.tensors(Engine({"input": 0, "out_a": 1, "out_b": 2}))
    assert [(t.name, t.index) for t in tensors] == [("input", 0), ("out_a", 1), ("out_b", 2)]
    assert "get_binding_index (bindings order)" in trace.API_PATH


def test_binding_indices_that_are_not_a_permutation_fail_loudly() -> None:
    api = Api(binding_api())
    with pytest.raises(TrtCallError, match="not a permutation"):
        api.tensors(Engine({"input": 0, "out_a": 0, "out_b": 2}))


def test_without_the_binding_api_the_tensor_order_is_kept() -> None:
    api = Api(module(TensorIOMode=Mode, ICudaEngine=SimpleNamespace(num_io_tensors=0)))
    tensors = api.tensors(Engine({}))
    assert [t.name for t in tensors] == ["out_b", "input", "out_a"]


def test_dynamic_shapes_are_not_applicable_never_one_element_buffers() -> None:
    api = Api(module())
    static = [TensorInfo("input", True, (1, 3, 8, 8), np.dtype(np.float32), 0)]
    api.static_shapes(static)
    dynamic = [*static, TensorInfo("boxes", False, (1, -1, 4), np.dtype(np.float32), 1)]
    with pytest.raises(NotApplicable, match=r"dynamic shapes are not supported by the harness: boxes \[1, -1, 4\]"):
        api.static_shapes(dynamic)
