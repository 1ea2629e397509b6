# mypy: disable-error-code="attr-defined,has-type"
# (model classes are copied into the types __init__._make_class builds, which give them their state)
"""What the TensorRT double does, rule by rule, each from a cited source. NOT TensorRT's behaviour.

Sources cited below: NVIDIA's Python API documentation (docs.nvidia.com/deeplearning/tensorrt/, "Python
API", per release), ../shared/research/known-issues.md (KI), ../shared/research/plan-header.md (PH),
matrix/offline/plan_facts.toml (PF). Parameter names and defaults are the real pybind11 signatures
(tests/double/test_conformance.py checks them against the real bindings).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, TypeVar

import numpy as np

from tensorrt import _faults, _plan

T: dict[str, Any] = {}  # the built module's namespace (classes by name), set by bind()


def bind(space: dict[str, Any]) -> None:
    T.update(space)
    T["_space"] = space
    _netdef.bind(space)  # tensorrt.float32 and the other DataType aliases
    T.update(space)


class EnumMember:
    """A pybind11 enum member: name, value, int(), hashable, equal only to the same member."""

    def __init__(self, name: str, value: int) -> None:
        self.name, self.value = name, int(value)

    def __int__(self) -> int:
        return self.value

    def __index__(self) -> int:
        return self.value

    def __hash__(self) -> int:
        return hash((type(self).__qualname__, self.value))

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other.value == self.value

    def __repr__(self) -> str:
        return f"<{type(self).__qualname__}.{self.name}: {self.value}>"

    __str__ = __repr__


# Enum values from NvInfer.h as documented in the C++ API reference (DataType, TensorIOMode,
# ILogger::Severity, NetworkDefinitionCreationFlag, MemoryPoolType); other enums get distinct values.
ENUM_VALUES: dict[str, dict[str, int]] = {
    "DataType": {
        "FLOAT": 0,
        "HALF": 1,
        "INT8": 2,
        "INT32": 3,
        "BOOL": 4,
        "UINT8": 5,
        "FP8": 6,
        "BF16": 7,
        "INT64": 8,
        "INT4": 9,
        "FP4": 10,
    },
    "TensorIOMode": {"NONE": 0, "INPUT": 1, "OUTPUT": 2},
    "Severity": {"INTERNAL_ERROR": 0, "ERROR": 1, "WARNING": 2, "INFO": 3, "VERBOSE": 4},
    "NetworkDefinitionCreationFlag": {"EXPLICIT_BATCH": 0, "EXPLICIT_PRECISION": 1, "STRONGLY_TYPED": 1},
    "MemoryPoolType": {"WORKSPACE": 0},
}
_NP = {
    "FLOAT": np.float32,
    "HALF": np.float16,
    "INT8": np.int8,
    "INT32": np.int32,
    "BOOL": np.bool_,
    "UINT8": np.uint8,
    "INT64": np.int64,
}
_ONNX_TO_TRT = {1: "FLOAT", 10: "HALF", 3: "INT8", 6: "INT32", 9: "BOOL", 2: "UINT8", 7: "INT64"}


def nptype(trt_type: Any) -> Any:
    """tensorrt.nptype: the numpy type of a DataType (Python API docs, "Data types")."""
    return _NP[trt_type.name]


FUNCTIONS = {"nptype": nptype}


F = TypeVar("F", bound=Callable[..., Any])


class EnumDefault:
    """A default that stands for an enum member (`min_severity: ... = <Severity.WARNING: 2>` in the real
    pybind11 signature); resolved when called, once the release's enums exist."""

    def __init__(self, enum: str, member: str) -> None:
        self.enum, self.member = enum, member

    def resolve(self) -> Any:
        obj: Any = T
        for part in self.enum.split("."):
            obj = obj[part] if isinstance(obj, dict) else getattr(obj, part)
        return getattr(obj, self.member)

    def __repr__(self) -> str:
        return f"{self.enum.rsplit('.', 1)[-1]}.{self.member}"


_WARNING = EnumDefault("ILogger.Severity", "WARNING")
_STATIC = EnumDefault("ExecutionContextAllocationStrategy", "STATIC")


def _resolve(value: Any) -> Any:
    return value.resolve() if isinstance(value, EnumDefault) else value


def by_release(**variants: Any) -> Callable[[F], F]:
    """Per-release signatures of one method: `@by_release(v8=fn)` exposes `fn` on 8.x, the decorated
    function elsewhere (the real signatures differ: tests/double/tensorrt/signatures/)."""

    def mark(fn: F) -> F:
        fn.__trt_variants__ = variants
        return fn

    return mark


def for_release(value: Any, release: str) -> Any:
    """The variant of a modelled method that `release` exposes (hook used by __init__._make_class)."""
    variants = getattr(value, "__trt_variants__", None)
    return variants.get("v" + release.split(".", maxsplit=1)[0], value) if variants else value


def _log(logger: Any, severity: str, text: str) -> None:
    """Every event reaches the caller's ILogger (ILogger.log docs: log(severity, msg))."""
    if logger is not None:
        logger.log(getattr(T["ILogger"].Severity, severity), text)


class ILoggerModel:
    def __init__(self) -> None:
        pass

    def log(self, severity: Any, msg: str) -> None:
        """Abstract in TensorRT: subclasses implement it (ILogger docs)."""
        raise NotImplementedError("ILogger.log is abstract")


class LoggerModel:
    def __init__(self, min_severity: Any = _WARNING) -> None:
        self._min_severity = _resolve(min_severity)
        self.lines: list[Any] = []

    @property
    def min_severity(self) -> Any:
        """A read-write property in the bindings (`Logger.min_severity`)."""
        return self._min_severity

    @min_severity.setter
    def min_severity(self, value: Any) -> None:
        self._min_severity = _resolve(value)

    def log(self, severity: Any, msg: str) -> None:
        if int(severity) <= int(self.min_severity):
            pass


class _Owned:
    """Lifetimes: children made through keep_alive hold their parent (pyCore.cpp keep_alive<0,1>, quoted in
    the research notes 'Builder.__del__'); the parent's death while children live logs the API-usage line
    of known-issues.md section 1 through the parent's logger."""

    _LINE = ""

    def _adopt(self, child: Any) -> None:
        self.__dict__.setdefault("_children", weakref.WeakSet()).add(child)

    def __del__(self) -> None:
        live = [c for c in self.__dict__.get("_children", ()) if c is not None]
        if live and self._LINE:
            _log(self.__dict__.get("_logger"), "ERROR", self._LINE)


class BuilderModel(_Owned):
    _LINE = (
        "3: [builder.cpp::~Builder::307] Error Code 3: API Usage Error (Parameter check failed at: "
        "optimizer/api/builder.cpp::~Builder::307, condition: mObjectCounter.use_count() == 1. Destroying a "
        "builder object before destroying objects it created leads to undefined behavior.\n)"
    )  # KI section 1 (destroy-order-builder in matrix/suite/log_patterns.json)

    def __init__(self, logger: Any) -> None:
        self._logger = logger

    @property
    def logger(self) -> Any:
        return self._logger

    @property
    def platform_has_fast_fp16(self) -> bool:
        return True

    @property
    def platform_has_fast_int8(self) -> bool:
        return True

    def create_network(self, flags: int = 0) -> Any:
        network = T["INetworkDefinition"]()
        network._flags = int(flags)
        self._keep(network)
        return network

    def _keep(self, child: Any) -> None:
        """keep_alive<0,1>: the child holds the builder; under a destroy-order fault it only counts it."""
        if _faults.builder_keeps_alive():
            child._builder = self
        else:
            self._adopt(child)

    def create_builder_config(self) -> Any:
        config = T["IBuilderConfig"]()
        config._flags, config._pools = set(), {}
        self._keep(config)
        config._calibrator, config._hw = None, None
        return config

    def build_serialized_network(self, network: Any, config: Any) -> Any:
        """Plan bytes with the release's header (PH, PF); the payload is the double's. Not keep_alive:
        the IHostMemory does not hold the builder (research note 'Builder.__del__')."""
        if _faults.out_of_memory(self._logger):
            return None
        network_onnx, netdef_meta = (network._onnx, {}) if network._onnx else _netdef.export(network)
        if not network_onnx:
            _log(
                self._logger,
                "ERROR",
                "4: [network.cpp::validate::2789] Error Code 4: Internal Error (Network must have at least one output)",
            )
            return None
        from tensorrt import _int8  # INT8: calibration and fake quantization (_int8.py)

        if _plugins.check_build(self._logger, netdef_meta, config):  # retinaface-int8-scales
            return None
        engine_onnx, int8_info = _int8.prepare(self._logger, config, network_onnx, T["__trt_matrix_double__"])
        if engine_onnx is None:
            return None
        flags = sorted(f.name for f in config._flags)
        meta = {
            **netdef_meta,
            **int8_info,
            "builder": T["__version__"],
            "flags": flags,
            "hardware_compatibility_level": getattr(config._hw, "name", None),
            "double": T["__trt_matrix_double__"],
            **_inspector.build_meta(config),
        }
        data = _plan.write(T["__trt_matrix_double__"], meta, engine_onnx)
        _log(self._logger, "INFO", f"[MemUsageChange] TensorRT double: serialized engine of {len(data)} bytes")
        return T["IHostMemory"](data)

    def build_engine(self, network: Any, config: Any) -> Any:
        plan = self.build_serialized_network(network, config)
        return None if plan is None else _deserialize(self._logger, bytes(plan), host_code=True)

    build_engine_with_config = build_engine


class INetworkDefinitionModel:
    _onnx: bytes | None = None

    @property
    def num_inputs(self) -> int:
        return len(_graph_io(self._onnx)[0]) if self._onnx else 0

    @property
    def num_outputs(self) -> int:
        return len(_graph_io(self._onnx)[1]) if self._onnx else 0


class IBuilderConfigModel:
    def set_flag(self, flag: Any) -> None:
        self._flags.add(flag)

    def clear_flag(self, flag: Any) -> None:
        self._flags.discard(flag)

    def get_flag(self, flag: Any) -> bool:
        return flag in self._flags

    def set_memory_pool_limit(self, pool: Any, pool_size: int) -> None:
        self._pools[int(pool)] = int(pool_size)

    def get_memory_pool_limit(self, pool: Any) -> int:
        return int(self._pools.get(int(pool), 0))

    @property
    def max_workspace_size(self) -> int:
        return int(self._pools.get(0, 0))

    @max_workspace_size.setter
    def max_workspace_size(self, value: int) -> None:
        self._pools[0] = int(value)

    @property
    def profiling_verbosity(self) -> Any:
        """IBuilderConfig.profiling_verbosity (docs: default LAYER_NAMES_ONLY)."""
        return self.__dict__.get("_verbosity") or T["ProfilingVerbosity"].LAYER_NAMES_ONLY

    @profiling_verbosity.setter
    def profiling_verbosity(self, value: Any) -> None:
        self._verbosity = value

    @property
    def int8_calibrator(self) -> Any:
        return self._calibrator

    @int8_calibrator.setter
    def int8_calibrator(self, value: Any) -> None:
        self._calibrator = value

    @property
    def hardware_compatibility_level(self) -> Any:
        return self._hw or T["HardwareCompatibilityLevel"].NONE

    @hardware_compatibility_level.setter
    def hardware_compatibility_level(self, value: Any) -> None:
        self._hw = value


def _parser_error(text: str, node: int = -1) -> Any:
    """A ParserError as the parser makes it (the bindings define no constructor: none is modelled)."""
    error = object.__new__(T["ParserError"])
    error._text, error._node = text, node
    return error


class ParserErrorModel:
    def desc(self) -> str:
        return str(self._text)

    def node(self) -> int:
        return int(self._node)

    def __str__(self) -> str:
        return f"In node {self._node} with name:  and operator:  (parse): INVALID_GRAPH: {self._text}"


class OnnxParserModel:
    def __init__(self, network: Any, logger: Any) -> None:
        self._network, self._logger = network, logger
        self._errors: list[Any] = []

    def parse(self, model: Any, path: Any = None) -> bool:
        """Parses with the `onnx` package; errors go to num_errors/get_error (OnnxParser docs)."""
        import onnx

        try:
            proto = onnx.load_from_string(bytes(model))
            onnx.checker.check_model(proto)
        except Exception as exc:
            self._errors.append(_parser_error(f"the ONNX model does not load: {type(exc).__name__}: {exc}"))
            _log(self._logger, "ERROR", f"ModelImporter.cpp: Failed to parse ONNX model: {exc}")
            return False
        self._network._onnx = bytes(model)
        return True

    @property
    def num_errors(self) -> int:
        return len(self._errors)

    def get_error(self, index: int) -> Any:
        return self._errors[index] if 0 <= index < len(self._errors) else None

    def clear_errors(self) -> None:
        self._errors = []


class IHostMemoryModel:
    @property
    def nbytes(self) -> int:
        return len(bytes(self))  # type: ignore[call-overload]

    @property
    def dtype(self) -> Any:
        return T["DataType"].UINT8 if hasattr(T["DataType"], "UINT8") else T["DataType"].INT8


def _graph_io(onnx_bytes: bytes) -> Any:
    import onnx

    graph = onnx.load_from_string(onnx_bytes).graph
    initialisers = {i.name for i in graph.initializer}

    def info(v: Any) -> Any:
        t = v.type.tensor_type
        return (
            v.name,
            tuple(d.dim_value if d.HasField("dim_value") else -1 for d in t.shape.dim),
            _ONNX_TO_TRT.get(t.elem_type, "FLOAT"),
        )

    return [info(v) for v in graph.input if v.name not in initialisers], [info(v) for v in graph.output]


class RuntimeModel(_Owned):
    _LINE = (
        "3: [runtime.cpp::~Runtime::346] Error Code 3: API Usage Error (Parameter check failed at: "
        "runtime/rt/runtime.cpp::~Runtime::346, condition: mEngineCounter.use_count() == 1. Destroying a "
        "runtime before destroying deserialized engines created by the runtime leads to undefined behavior.\n)"
    )  # KI section 1 (destroy-order-runtime)

    def __init__(self, logger: Any) -> None:
        self._logger, self._host_code = logger, False

    @property
    def engine_host_code_allowed(self) -> bool:
        return self._host_code

    @engine_host_code_allowed.setter
    def engine_host_code_allowed(self, value: bool) -> None:
        self._host_code = bool(value)

    def deserialize_cuda_engine(self, serialized_engine: Any) -> Any:
        engine = _deserialize(self._logger, bytes(memoryview(serialized_engine)), self._host_code)
        if engine is not None:
            engine._runtime = self  # keep_alive<0,1> (research note 'Builder.__del__')
            self._adopt(engine)
        return engine


def _refuse(logger: Any, text: str) -> None:
    _log(logger, "ERROR", f"1: [stdArchiveReader.cpp::StdArchiveReader::32] Error Code 1: Serialization ({text})")
    _log(
        logger,
        "ERROR",
        "4: [runtime.cpp::deserializeCudaEngine::65] Error Code 4: Internal Error (Engine deserialization failed.)",
    )


def _deserialize(logger: Any, data: bytes, host_code: bool) -> Any:
    """deserialize_cuda_engine: None and the release's log line on refusal (PF [messages], KI section 4)."""
    from tensorrt import _facts

    mine = T["__trt_matrix_double__"]
    major = int(mine.split(".")[0])
    verdict = _facts.verdict(data, mine, host_code)
    if verdict is not None:
        _refuse(logger, verdict)
        return None
    found = _plan.read_payload(data)
    if found is None:
        _log(
            logger,
            "ERROR",
            "the TensorRT double cannot run a plan that real TensorRT built (no double payload); refused",
        )
        return None
    meta, onnx_bytes = found
    engine = T["ICudaEngine"]()
    engine._meta, engine._onnx, engine._data = meta, onnx_bytes, data
    engine._inputs, engine._outputs = _graph_io(onnx_bytes)
    engine._outputs = _plugins.engine_outputs(meta) or engine._outputs  # a plugin ends the network
    engine._major = major
    _faults.remember_context(engine)
    return engine


class ICudaEngineModel(_Owned):
    _LINE = (
        "3: [engine.cpp::~Engine::1144] Error Code 3: API Usage Error (Parameter check failed at: "
        "runtime/api/engine.cpp::~Engine::1144, condition: mExecutionContextCounter.use_count() == 1. Destroying "
        "an engine object before destroying objects it created leads to undefined behavior.\n)"
    )  # KI section 1 (destroy-order-engine)

    def _io(self) -> list[Any]:
        return [(n, s, d, True) for n, s, d in self._inputs] + [(n, s, d, False) for n, s, d in self._outputs]

    def _find(self, name: str) -> Any:
        for entry in self._io():
            if entry[0] == name:
                return entry
        return None

    @property
    def num_io_tensors(self) -> int:
        return len(self._io())

    def get_tensor_name(self, index: int) -> Any:
        io = self._io()
        return io[index][0] if 0 <= index < len(io) else None

    def get_tensor_mode(self, name: str) -> Any:
        found = self._find(name)
        mode = T["TensorIOMode"]
        return mode.NONE if found is None else (mode.INPUT if found[3] else mode.OUTPUT)

    def get_tensor_shape(self, name: str) -> Any:
        found = self._find(name)
        return T["Dims"](found[1] if found is not None else ())

    def get_tensor_dtype(self, name: str) -> Any:
        found = self._find(name)
        return getattr(T["DataType"], found[2] if found else "FLOAT")

    @property
    def num_bindings(self) -> int:
        return len(self._io())

    def get_binding_name(self, index: int) -> Any:
        io = self._io()  # not through get_tensor_name: 8.4 has the binding API only
        return io[index][0] if 0 <= index < len(io) else None

    def get_binding_index(self, name: str) -> int:
        """-1 for a name that is no binding (ICudaEngine.get_binding_index docs, 8.x)."""
        return next((i for i, e in enumerate(self._io()) if e[0] == name), -1)

    def _binding(self, index: Any) -> Any:  # 8.x overloads: an index or a binding name
        return self._io()[self.get_binding_index(index) if isinstance(index, str) else int(index)]

    def get_binding_shape(self, index: Any) -> Any:
        return T["Dims"](self._binding(index)[1])

    def get_binding_dtype(self, index: Any) -> Any:
        return getattr(T["DataType"], self._binding(index)[2])

    def binding_is_input(self, index: Any) -> bool:
        return bool(self._binding(index)[3])

    def serialize(self) -> Any:
        return T["IHostMemory"](self._data)

    def create_engine_inspector(self) -> Any:
        return _inspector.create(self)  # _inspector.py

    def _new_context(self) -> Any:
        context = T["IExecutionContext"]()
        context._engine, context._addresses, context._session = self, {}, None  # keep_alive<0,1>
        self._adopt(context)
        self._logger = getattr(getattr(self, "_runtime", None), "_logger", None)
        return context

    def _create_execution_context_8(self) -> Any:
        return self._new_context()

    @by_release(v8=_create_execution_context_8)
    def create_execution_context(self, strategy: Any = _STATIC) -> Any:
        """8.x takes no strategy; 10.x/11.x default to STATIC (signatures/), the only strategy modelled."""
        return self._new_context()


class IExecutionContextModel:
    """Execution reads inputs from and writes outputs to the CUDA double's memory; ONNX Runtime computes."""

    @property
    def engine(self) -> Any:
        return self._engine

    def _logger(self) -> Any:
        return getattr(getattr(self._engine, "_runtime", None), "_logger", None)

    def _error(self, text: str) -> bool:
        _log(self._logger(), "ERROR", text)
        return False

    def set_tensor_address(self, name: str, memory: int) -> bool:
        """False and an error line for a name that is not an I/O tensor (IExecutionContext docs)."""
        if self._engine._find(name) is None:
            return self._error(
                f"3: [executionContext.cpp::setTensorAddress::177] Error Code 3: API Usage Error (Parameter check failed, condition: mEngine.bindingNameToIndex(tensorName) != -1. Given invalid tensor name: {name})"
            )
        self._addresses[name] = int(memory)
        return True

    def get_tensor_address(self, name: str) -> int:
        return int(self._addresses.get(name, 0))

    def execute_v2(self, bindings: Any) -> bool:
        _faults.execute_v2_entry()
        if _faults.wrong_context(self):
            return False
        io = self._engine._io()
        if len(bindings) != len(io):
            return self._error(
                f"3: Error Code 3: API Usage Error (bindings has {len(bindings)} pointers, the engine has {len(io)} I/O tensors)"
            )
        return self._run({e[0]: int(p) for e, p in zip(io, bindings)})

    def execute_async_v2(self, bindings: Any, stream_handle: int, input_consumed: Any = None) -> bool:
        from cuda.bindings import runtime

        if not runtime.valid_stream(stream_handle):
            return self._error(
                "1: [reformat.cpp::executeCutensor::384] Error Code 1: Cuda Runtime (invalid resource handle)"
            )
        return self.execute_v2(bindings)

    def execute_async_v3(self, stream_handle: int) -> bool:
        """Every I/O tensor needs an address set first (execute_async_v3 docs)."""
        from cuda.bindings import runtime

        missing = [e[0] for e in self._engine._io() if not self._addresses.get(e[0])]
        if missing:
            return self._error(
                f"3: [executionContext.cpp::enqueueV3::2666] Error Code 3: API Usage Error (Parameter check failed, condition: mContext.profileObliviousBindings.at(profileObliviousIndex) || getPtrOrNull(mOutputAllocators, profileObliviousIndex). Neither address or allocator is set for output tensor {missing[0]}. Call setOutputTensorAddress, setTensorAddress or setOutputAllocator before enqueue/execute.)"
            )
        if not runtime.valid_stream(stream_handle):
            return self._error(
                "1: [reformat.cpp::executeCutensor::384] Error Code 1: Cuda Runtime (invalid resource handle)"
            )
        if _faults.wrong_context(self):
            return False
        if _faults.v3_zeros(self):
            return True
        return self._run(dict(self._addresses))

    def _run(self, pointers: dict[str, int]) -> bool:
        import onnxruntime

        from cuda.bindings import runtime

        if self._session is None:
            self._session = onnxruntime.InferenceSession(self._engine._onnx, providers=["CPUExecutionProvider"])
        feeds = {}
        try:
            for name, shape, dtype, is_input in self._engine._io():
                count = int(np.prod([max(d, 1) for d in shape]))
                nbytes = count * np.dtype(_NP[dtype]).itemsize
                view = runtime.device_view(pointers[name], nbytes)
                if is_input:
                    feeds[name] = np.frombuffer(view, dtype=_NP[dtype], count=count).reshape(shape).copy()
            names = [o.name for o in self._session.get_outputs()]
            values = _plugins.run(self._engine._meta, dict(zip(names, self._session.run(None, feeds))))
            for name, _shape, dtype in self._engine._outputs:
                out = np.ascontiguousarray(values[name].astype(_NP[dtype]))
                runtime.device_view(pointers[name], out.nbytes)[:] = out.tobytes()
        except runtime.IllegalAddress as exc:
            return self._error(
                f"1: [executionContext.cpp::enqueue] Error Code 1: Cuda Runtime (an illegal memory access was encountered: {exc})"
            )
        return True


MODELS = {
    "ILogger": ILoggerModel,
    "Logger": LoggerModel,
    "Builder": BuilderModel,
    "INetworkDefinition": INetworkDefinitionModel,
    "IBuilderConfig": IBuilderConfigModel,
    "OnnxParser": OnnxParserModel,
    "ParserError": ParserErrorModel,
    "IHostMemory": IHostMemoryModel,
    "Runtime": RuntimeModel,
    "ICudaEngine": ICudaEngineModel,
    "IExecutionContext": IExecutionContextModel,
}

from tensorrt import _inspector, _int8, _netdef, _plugins  # noqa: E402  (they need this module's helpers)

MODELS.update(_int8.MODELS)
MODELS.update(_inspector.MODELS)
MODELS.update(_netdef.MODELS)  # the network-definition API (replaces the parser-only INetworkDefinition)
MODELS.update(_plugins.MODELS)
FUNCTIONS.update(_plugins.FUNCTIONS)
