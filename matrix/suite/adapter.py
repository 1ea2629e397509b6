"""The TensorRT adapter: choose each API path by feature detection on the real module, record it.

Contract: `Api(trt)` wraps whatever `tensorrt` module is loaded. Each method picks its path with
`hasattr` on that module (never by parsing version strings), appends the path it took to
`trace.API_PATH`, and raises `NotApplicable` naming the missing attribute and the release when a
path does not exist ("Builder.build_engine absent in tensorrt 10.0.1"). TensorRT calls go through
`call()`, which turns an exception into `TrtCallError` naming the call. `describe()` gives the
selected paths as plain data (what the path-selection tests compare). Runs on Python 3.8.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Sequence

from matrix.suite import trace
from matrix.suite.outcome import NotApplicable, TrtCallError

WORKSPACE_BYTES = 1 << 30


@dataclasses.dataclass(frozen=True)
class TensorInfo:
    name: str
    is_input: bool
    shape: tuple[int, ...]
    dtype: Any  # numpy dtype
    index: int  # binding index (execute_v2's bindings list order)


class Api:
    def __init__(self, trt: Any) -> None:
        self.trt = trt
        self.version = str(getattr(trt, "__version__", "?"))

    # --- detection --------------------------------------------------------------------------
    def has(self, dotted: str) -> bool:
        obj: Any = self.trt
        for part in dotted.split("."):
            if not hasattr(obj, part):
                return False
            obj = getattr(obj, part)
        return True

    def absent(self, dotted: str, note: str = "") -> NotApplicable:
        return NotApplicable("{} absent in tensorrt {}{}".format(dotted, self.version, f" ({note})" if note else ""))

    def require(self, dotted: str, note: str = "") -> Any:
        if not self.has(dotted):
            raise self.absent(dotted, note)
        obj: Any = self.trt
        for part in dotted.split("."):
            obj = getattr(obj, part)
        return obj

    def call(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        trace.take(name)
        try:
            return fn(*args, **kwargs)
        except (TypeError, RuntimeError, ValueError, AttributeError, IndexError, MemoryError) as exc:
            raise TrtCallError(name, exc) from None

    def describe(self) -> dict[str, Any]:
        """Which path each operation takes with this module: plain data, no TensorRT objects made."""
        return {
            "version": self.version,
            "network_flags": "EXPLICIT_BATCH" if self.has("NetworkDefinitionCreationFlag.EXPLICIT_BATCH") else "0",
            "workspace": "set_memory_pool_limit"
            if self.has("IBuilderConfig.set_memory_pool_limit")
            else "max_workspace_size",
            "build": [
                p
                for p in ("build_serialized_network", "build_engine", "build_engine_with_config")
                if self.has("Builder." + p)
            ],
            "io": "tensors" if self.has("ICudaEngine.num_io_tensors") else "bindings",
            "execute": self.execute_paths(),
            "fp16": self.has("BuilderFlag.FP16"),
            "int8": self.has("BuilderFlag.INT8"),
            "calibrators": [c for c in ("IInt8EntropyCalibrator2", "IInt8MinMaxCalibrator") if self.has(c)],
            "version_compatible": self.has("BuilderFlag.VERSION_COMPATIBLE"),
            "hardware_compatible": self.has("HardwareCompatibilityLevel.AMPERE_PLUS"),
            "host_code_allowed": self.has("Runtime.engine_host_code_allowed"),
            "precision_constraints": self.has("BuilderFlag.OBEY_PRECISION_CONSTRAINTS"),
            "destroy": any(
                self.has(c + ".destroy") for c in ("Builder", "ICudaEngine", "IExecutionContext", "Runtime")
            ),
        }

    def execute_paths(self) -> list[str]:
        paths = ["execute_v2"] if self.has("IExecutionContext.execute_v2") else []
        if self.has("IExecutionContext.execute_async_v3") and self.has("IExecutionContext.set_tensor_address"):
            paths.append("execute_async_v3")
        if self.has("IExecutionContext.execute_async_v2"):
            paths.append("execute_async_v2")
        return paths

    # --- building ---------------------------------------------------------------------------
    def create_network(self, builder: Any) -> Any:
        flag = getattr(self.trt.NetworkDefinitionCreationFlag, "EXPLICIT_BATCH", None)
        if flag is not None:
            return self.call("create_network(EXPLICIT_BATCH)", builder.create_network, 1 << int(flag))
        return self.call("create_network(0)", builder.create_network, 0)

    def create_config(self, builder: Any, workspace: int = WORKSPACE_BYTES) -> Any:
        config = self.call("create_builder_config", builder.create_builder_config)
        if self.has("IBuilderConfig.set_memory_pool_limit") and self.has("MemoryPoolType.WORKSPACE"):
            self.call(
                "set_memory_pool_limit(WORKSPACE)",
                config.set_memory_pool_limit,
                self.trt.MemoryPoolType.WORKSPACE,
                workspace,
            )
        else:
            trace.take("max_workspace_size")
            config.max_workspace_size = workspace
        return config

    def set_flag(self, config: Any, name: str, note: str = "") -> None:
        flag = self.require("BuilderFlag." + name, note)
        self.call("IBuilderConfig.set_flag(" + name + ")", config.set_flag, flag)
        trace.flag("+" + name)

    def clear_flag(self, config: Any, name: str) -> bool:
        """Clear a flag where the release has it; False where it does not."""
        if not self.has("BuilderFlag." + name):
            return False
        flag = getattr(self.trt.BuilderFlag, name)
        self.call("IBuilderConfig.clear_flag(" + name + ")", config.clear_flag, flag)
        trace.flag("-" + name)
        return True

    def set_precision(self, config: Any, precision: str) -> None:
        if precision == "fp32":
            # TF32 is on by default in every release 8.4-11.4 (BuilderFlag.TF32 docstring, 10.8.0.43: "Enabled
            # by default"; NvInfer.h): FP32 cells would otherwise compare TF32 arithmetic with FP32 thresholds.
            self.clear_flag(config, "TF32")
            return
        if precision == "fp16":
            self.set_flag(config, "FP16", "weak typing removed in 11.0: FP16 needs an FP16-typed network")
            return
        if precision == "int8":
            self.set_flag(config, "INT8", "implicit INT8 removed in 11.0: only explicit Q/DQ remains")
            return
        raise ValueError(f"unknown precision {precision!r}")

    def set_version_compatible(self, config: Any) -> None:
        self.set_flag(config, "VERSION_COMPATIBLE", "version compatibility arrived in 8.6")

    def set_hardware_compatible(self, config: Any) -> None:
        self.require("IBuilderConfig.hardware_compatibility_level", "hardware compatibility arrived in 8.6")
        level = self.require("HardwareCompatibilityLevel.AMPERE_PLUS")
        self.call("IBuilderConfig.hardware_compatibility_level", setattr, config, "hardware_compatibility_level", level)
        trace.flag("hardware_compatibility_level=AMPERE_PLUS")

    def parse_onnx(self, network: Any, logger: Any, onnx_bytes: bytes) -> Any:
        parser = self.call("OnnxParser", self.trt.OnnxParser, network, logger)
        ok = self.call("OnnxParser.parse", parser.parse, onnx_bytes)
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        return parser, bool(ok), errors

    def build_serialized(self, builder: Any, network: Any, config: Any) -> bytes | None:
        plan = self.call("build_serialized_network", builder.build_serialized_network, network, config)
        return None if plan is None else bytes(memoryview(plan))

    def build_engine_legacy(self, builder: Any, network: Any, config: Any) -> Any:
        self.require("Builder.build_engine", "removed in 10.0; build_serialized_network replaces it")
        return self.call("build_engine", builder.build_engine, network, config)

    def build_engine_with_config(self, builder: Any, network: Any, config: Any) -> Any:
        self.require("Builder.build_engine_with_config", "added in 10.6")
        return self.call("build_engine_with_config", builder.build_engine_with_config, network, config)

    # --- loading ----------------------------------------------------------------------------
    def runtime(self, logger: Any, host_code_allowed: bool = False) -> Any:
        runtime = self.call("Runtime", self.trt.Runtime, logger)
        if host_code_allowed and self.has("Runtime.engine_host_code_allowed"):
            trace.take("engine_host_code_allowed=True")
            runtime.engine_host_code_allowed = True
        return runtime

    def deserialize(self, runtime: Any, plan: bytes) -> Any:
        return self.call("deserialize_cuda_engine", runtime.deserialize_cuda_engine, plan)

    def serialize_engine(self, engine: Any) -> bytes:
        return bytes(memoryview(self.call("ICudaEngine.serialize", engine.serialize)))

    # --- tensors and execution --------------------------------------------------------------
    def numpy_dtype(self, trt_dtype: Any) -> Any:
        """The numpy dtype of a TensorRT I/O type, or NotApplicable naming the type.

        `trt.nptype` raises TypeError for BF16, FP8, INT4, FP4 and E8M0 in every release; BF16 and FP8 map
        through ml_dtypes where it is installed, the rest cannot be held by numpy."""
        import numpy as np

        name = str(getattr(trt_dtype, "name", trt_dtype)).rsplit(".", 1)[-1]
        try:
            return np.dtype(self.trt.nptype(trt_dtype))
        except TypeError:
            pass
        extended = {"BF16": "bfloat16", "FP8": "float8_e4m3fn"}.get(name)
        if extended is not None:
            try:
                import ml_dtypes

                return np.dtype(getattr(ml_dtypes, extended))
            except ImportError:
                raise NotApplicable(
                    f"I/O tensor type DataType.{name} needs ml_dtypes for a numpy type, and this image has none"
                ) from None
        raise NotApplicable(f"I/O tensor type DataType.{name} has no numpy type, so the harness cannot feed it")

    def tensors(self, engine: Any) -> list[TensorInfo]:
        """The engine's I/O in execute_v2's bindings order, through the tensor API (8.5+) or the binding API.

        Where the binding API still exists (8.5, 8.6), executeV2 maps bindings by getBindingIndex (8.6.1
        documentation of IExecutionContext::executeV2), so the order comes from it, not from
        get_tensor_name's index; the two must describe the same set of slots, or the check fails loudly."""
        out: list[TensorInfo] = []
        if self.has("ICudaEngine.num_io_tensors"):
            trace.take("num_io_tensors/get_tensor_name")
            count = int(self.call("ICudaEngine.num_io_tensors", getattr, engine, "num_io_tensors"))
            by_binding = self.has("ICudaEngine.get_binding_index")
            for i in range(count):
                name = self.call("ICudaEngine.get_tensor_name", engine.get_tensor_name, i)
                mode = self.call("ICudaEngine.get_tensor_mode", engine.get_tensor_mode, name)
                shape = tuple(int(d) for d in self.call("ICudaEngine.get_tensor_shape", engine.get_tensor_shape, name))
                dtype = self.numpy_dtype(self.call("ICudaEngine.get_tensor_dtype", engine.get_tensor_dtype, name))
                index = i
                if by_binding:
                    index = int(self.call("ICudaEngine.get_binding_index", engine.get_binding_index, name))
                out.append(TensorInfo(name, mode == self.trt.TensorIOMode.INPUT, shape, dtype, index))
            if by_binding:
                trace.take("get_binding_index (bindings order)")
                indices = sorted(t.index for t in out)
                if indices != list(range(count)):
                    raise TrtCallError(
                        "ICudaEngine.get_binding_index",
                        RuntimeError(
                            "binding indices {} are not a permutation of the {} I/O tensors ({})".format(
                                indices, count, ", ".join(t.name for t in out)
                            )
                        ),
                    )
                out.sort(key=lambda t: t.index)
        else:
            trace.take("num_bindings/get_binding_name")
            for i in range(int(self.call("ICudaEngine.num_bindings", getattr, engine, "num_bindings"))):
                name = self.call("ICudaEngine.get_binding_name", engine.get_binding_name, i)
                shape = tuple(int(d) for d in self.call("ICudaEngine.get_binding_shape", engine.get_binding_shape, i))
                dtype = self.numpy_dtype(self.call("ICudaEngine.get_binding_dtype", engine.get_binding_dtype, i))
                is_input = bool(self.call("ICudaEngine.binding_is_input", engine.binding_is_input, i))
                out.append(TensorInfo(name, is_input, shape, dtype, i))
        return out

    def static_shapes(self, tensors: Sequence[TensorInfo]) -> None:
        """NotApplicable when an I/O tensor has a dynamic dimension: the harness makes no optimization
        profile, and a buffer sized for one element would be a lie."""
        dynamic = [t for t in tensors if any(d < 0 for d in t.shape)]
        if dynamic:
            raise NotApplicable(
                "dynamic shapes are not supported by the harness: {} (export the model with static shapes)".format(
                    ", ".join(f"{t.name} {list(t.shape)}" for t in dynamic)
                )
            )

    def create_context(self, engine: Any) -> Any:
        context = self.call("create_execution_context", engine.create_execution_context)
        if context is None:
            raise TrtCallError("create_execution_context", RuntimeError("returned None"))
        return context

    def execute_v2(self, context: Any, bindings: Sequence[int]) -> bool:
        self.require("IExecutionContext.execute_v2")
        return bool(self.call("execute_v2", context.execute_v2, list(bindings)))

    def execute_async_v2(self, context: Any, bindings: Sequence[int], stream: int) -> bool:
        self.require("IExecutionContext.execute_async_v2", "removed in 10.0")
        return bool(self.call("execute_async_v2", context.execute_async_v2, list(bindings), stream))

    def execute_async_v3(
        self, context: Any, tensors: Sequence[TensorInfo], bindings: Sequence[int], stream: int
    ) -> bool:
        self.require("IExecutionContext.execute_async_v3", "added in 8.5")
        for info, ptr in zip(tensors, bindings):
            self.call("set_tensor_address", context.set_tensor_address, info.name, ptr)
        return bool(self.call("execute_async_v3", context.execute_async_v3, stream))

    # --- INT8 -------------------------------------------------------------------------------
    def set_calibrator(self, config: Any, calibrator: Any) -> None:
        self.require("IBuilderConfig.int8_calibrator", "calibrators removed in 11.0")
        self.call("IBuilderConfig.int8_calibrator", setattr, config, "int8_calibrator", calibrator)

    def calibrator_base(self, algorithm: str) -> Any:
        names = {"entropy2": "IInt8EntropyCalibrator2", "minmax": "IInt8MinMaxCalibrator"}
        return self.require(names[algorithm], "calibrators removed in 11.0 with implicit INT8")


def load_tensorrt() -> tuple[Any, Api]:
    """Import the environment's TensorRT; the caller has already checked it is importable."""
    import tensorrt as trt

    return trt, Api(trt)
