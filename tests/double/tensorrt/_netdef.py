# mypy: disable-error-code="attr-defined,has-type"
# (model classes are copied into the types __init__._make_class builds, which give them their state)
"""The network-definition API of the double (tensorrtx style): INetworkDefinition.add_*, ITensor, the layer
classes, Weights. NOT TensorRT.

A network records its layers; shapes follow TensorRT's documented rules for each layer (Python API
documentation of each I*Layer, "Layers" in the Developer Guide: output size of convolution and pooling
`(in + 2 * pad - k) // s + 1`, rounded up under PaddingMode.EXPLICIT_ROUND_UP; shuffle's 0 copies the
input dimension and -1 is inferred; slice's output is its `shape`; the plugin's output is what
IPluginV2.get_output_shape gives for the inputs without the batch, the batch prepended (explicit batch)).
The ideas follow tests/unit/models/fake_trt.py, the layer model written for the netdef tests.

At build time `export(network)` writes the network as an ONNX graph of the same computation (each layer's
documented semantics as ONNX operators, initialisers from the Weights as they are at build time, which is
when TensorRT reads them). That graph is what the engine runs (ONNX Runtime, as for parsed networks),
calibrates and fake-quantizes (_int8.py). A plugin layer is no ONNX operator: the graph stops at the
plugin's inputs, and the plugin is kept beside it (_plugins.py runs it on the graph's outputs).
Defaults cited per attribute below: the Python API documentation of the layer classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tensorrt import _model

T = _model.T
OPSET = 13


def _dims(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value))


class _Strict:
    """pybind11 classes without dynamic attributes: assigning a name the class lacks is an AttributeError
    (as the real bindings answer `layer.stride_nd = ...` on a release without stride_nd)."""

    def __setattr__(self, key: str, value: Any) -> None:
        if not key.startswith("_") and not hasattr(type(self), key):
            raise AttributeError(f"'tensorrt.{type(self).__qualname__}' object has no attribute '{key}'")
        object.__setattr__(self, key, value)


_FLOAT = _model.EnumDefault("DataType", "FLOAT")


_FLOAT = _model.EnumDefault("DataType", "FLOAT")


# --- Weights ------------------------------------------------------------------------------------------
class WeightsModel:
    def __init__(self, type: Any = _FLOAT) -> None:
        """Weights() (empty, FLOAT) or, pybind11's second overload, Weights(a: numpy.ndarray): the array is
        referenced, not copied, and must outlive the build (Weights docs)."""
        if isinstance(type, np.ndarray):
            self._array: np.ndarray | None = type
            self._type = T["DataType"].FLOAT if type.dtype == np.float32 else _np_type(type.dtype)
        else:
            self._array, self._type = None, _model._resolve(type)

    @property
    def size(self) -> int:
        return 0 if self._array is None else int(self._array.size)

    @property
    def nbytes(self) -> int:
        return 0 if self._array is None else int(self._array.nbytes)

    @property
    def dtype(self) -> Any:
        return self._type

    def numpy(self) -> Any:
        return None if self._array is None else self._array

    def __len__(self) -> int:
        return self.size


def _np_type(dtype: Any) -> Any:
    for name, np_type in _model._NP.items():
        if np.dtype(np_type) == np.dtype(dtype):
            return getattr(T["DataType"], name)
    raise TypeError(f"Weights: unsupported numpy dtype {dtype}")


def _values(weights: Any) -> np.ndarray:
    """What TensorRT reads at build time: the array as it is then, as float32."""
    if weights is None or getattr(weights, "_array", None) is None:
        return np.zeros(0, np.float32)
    return np.asarray(weights._array, dtype=np.float32).reshape(-1)


# --- tensors ------------------------------------------------------------------------------------------
class ITensorModel(_Strict):
    _layer: Any = None
    _index = 0

    @property
    def name(self) -> str:
        return str(self._name)

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def shape(self) -> Any:
        return T["Dims"](self._shape())

    def _shape(self) -> tuple[int, ...]:
        if self._layer is None:
            return tuple(self._input_shape)
        shapes: list[tuple[int, ...]] = self._layer._output_shapes()
        return shapes[self._index]

    @property
    def dtype(self) -> Any:
        return self.__dict__.get("_dtype") or T["DataType"].FLOAT

    @property
    def is_network_input(self) -> bool:
        return self._layer is None

    @property
    def is_network_output(self) -> bool:
        return any(t is self for t in self._network._outputs)


def _tensor(network: Any, name: str, layer: Any = None, index: int = 0) -> Any:
    tensor = T["ITensor"]()
    tensor._network, tensor._layer, tensor._index, tensor._name = network, layer, index, name
    return tensor


# --- layers -------------------------------------------------------------------------------------------
class ILayerModel(_Strict):
    """What every layer has (ILayer docs): name, type, inputs/outputs, precision and output types."""

    _TYPE = ""

    @property
    def name(self) -> str:
        return str(self._name)

    @name.setter
    def name(self, value: str) -> None:
        self._name = str(value)

    @property
    def type(self) -> Any:
        return getattr(T["LayerType"], self._TYPE)

    @property
    def num_inputs(self) -> int:
        return len(self._inputs)

    @property
    def num_outputs(self) -> int:
        return len(self._outputs)

    def get_input(self, index: int) -> Any:
        return self._inputs[index] if 0 <= index < len(self._inputs) else None

    def get_output(self, index: int) -> Any:
        return self._outputs[index] if 0 <= index < len(self._outputs) else None

    def set_input(self, index: int, tensor: Any) -> None:
        self._inputs[index] = tensor
        self._network._changed()

    @property
    def precision(self) -> Any:
        return self.__dict__.get("_precision") or T["DataType"].FLOAT

    @precision.setter
    def precision(self, value: Any) -> None:
        self._precision = value

    @property
    def precision_is_set(self) -> bool:
        return self.__dict__.get("_precision") is not None

    def reset_precision(self) -> None:
        self._precision = None

    def set_output_type(self, index: int, dtype: Any) -> None:
        self.__dict__.setdefault("_output_types", {})[int(index)] = dtype

    def get_output_type(self, index: int) -> Any:
        return self.__dict__.get("_output_types", {}).get(int(index)) or T["DataType"].FLOAT

    def output_type_is_set(self, index: int) -> bool:
        return int(index) in self.__dict__.get("_output_types", {})

    def reset_output_type(self, index: int) -> None:
        self.__dict__.get("_output_types", {}).pop(int(index), None)

    def _set(self, key: str, value: Any) -> None:
        self.__dict__.setdefault("_attrs", {})[key] = value
        self._network._changed()

    def _get(self, key: str, default: Any = None) -> Any:
        return self.__dict__.get("_attrs", {}).get(key, default)

    def _output_shapes(self) -> list[tuple[int, ...]]:
        net = self._network
        cached = self.__dict__.get("_shape_cache")
        if cached is None or cached[0] != net._revision:
            cached = (net._revision, [self._infer([t._shape() for t in self._inputs])])
            self._shape_cache = cached
        return list(cached[1])

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        raise NotImplementedError


def _prop(key: str, default: Any = None, convert: Any = None) -> property:
    def get(self: Any) -> Any:
        value = self._get(key, default() if callable(default) else default)
        return T["Dims"](value) if isinstance(value, tuple) else value

    def put(self: Any, value: Any) -> None:
        self._set(key, convert(value) if convert is not None else value)

    return property(get, put)


def _pair_prop(key: str, fill: int) -> property:
    """2-D legacy properties (stride, padding: DimsHW) over the same state as their _nd forms."""
    return _prop(key, (fill, fill), _dims)


class IConvolutionLayerModel(ILayerModel):
    _TYPE = "CONVOLUTION"
    stride_nd = _prop("stride", (1, 1), _dims)
    padding_nd = _prop("padding", (0, 0), _dims)
    dilation_nd = _prop("dilation", (1, 1), _dims)
    stride = _pair_prop("stride", 1)
    padding = _pair_prop("padding", 0)
    dilation = _pair_prop("dilation", 1)
    num_groups = _prop("groups", 1, int)
    num_output_maps = _prop("maps", 0, int)
    kernel_size_nd = _prop("kernel_shape", (1, 1), _dims)
    kernel = _prop("kernel")
    bias = _prop("bias")

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        n, c, h, w = shapes[0]
        (kh, kw), (sh, sw) = self._get("kernel_shape"), self._get("stride", (1, 1))
        ph, pw = self._get("padding", (0, 0))
        groups, maps = self._get("groups", 1), self._get("maps")
        if c % groups or _values(self._get("kernel")).size != maps * (c // groups) * kh * kw:
            raise ValueError(
                f"{self.name}: kernel weights do not fit {maps} maps of {c // max(groups, 1)}x{kh}x{kw}"
                " (IConvolutionLayer: kernel count = maps * C/groups * kH * kW)"
            )
        return (n, maps, (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1)


class IScaleLayerModel(ILayerModel):
    _TYPE = "SCALE"
    mode = _prop("mode")
    shift = _prop("shift")
    scale = _prop("scale")
    power = _prop("power")
    channel_axis = _prop("channel_axis", 1, int)

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return tuple(shapes[0])


class IActivationLayerModel(ILayerModel):
    _TYPE = "ACTIVATION"
    alpha = _prop("alpha", 0.0, float)
    beta = _prop("beta", 0.0, float)

    @property
    def type(self) -> Any:  # IActivationLayer.type is the ActivationType (it shadows ILayer.type)
        return self._get("activation")

    @type.setter
    def type(self, value: Any) -> None:
        self._set("activation", value)

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        return tuple(shapes[0])


class IElementWiseLayerModel(ILayerModel):
    _TYPE = "ELEMENTWISE"
    op = _prop("op")

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        a, b = shapes
        if len(a) != len(b) or any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
            raise ValueError(f"{self.name}: operands {a} and {b} must have one rank and broadcast (IElementWiseLayer)")
        return tuple(max(x, y) for x, y in zip(a, b))


class IPoolingLayerModel(ILayerModel):
    _TYPE = "POOLING"
    stride_nd = _prop("stride", (1, 1), _dims)  # docs: default (1, 1)
    padding_nd = _prop("padding", (0, 0), _dims)
    window_size_nd = _prop("window", (1, 1), _dims)
    stride = _pair_prop("stride", 1)
    padding = _pair_prop("padding", 0)
    window_size = _pair_prop("window", 1)
    padding_mode = _prop("padding_mode", lambda: T["PaddingMode"].EXPLICIT_ROUND_DOWN)
    average_count_excludes_padding = _prop("excludes_padding", True, bool)  # docs: default true

    @property
    def type(self) -> Any:  # IPoolingLayer.type is the PoolingType
        return self._get("pooling")

    @type.setter
    def type(self, value: Any) -> None:
        self._set("pooling", value)

    def _strides(self) -> tuple[int, ...]:
        return tuple(self._get("stride", (1, 1)))

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        n, c, h, w = shapes[0]
        (kh, kw), (sh, sw) = self._get("window"), self._strides()
        ph, pw = self._get("padding", (0, 0))
        up = _enum_name(self.padding_mode) in ("EXPLICIT_ROUND_UP", "SAME_UPPER", "SAME_LOWER")

        def out(size: int, k: int, s: int, p: int) -> int:
            return (size + 2 * p - k + (s - 1 if up else 0)) // s + 1

        return (n, c, out(h, kh, sh, ph), out(w, kw, sw, pw))


class IResizeLayerModel(ILayerModel):
    _TYPE = "RESIZE"
    shape = _prop("shape", lambda: None, _dims)
    scales = _prop("scales", lambda: None, lambda v: tuple(float(x) for x in v))
    resize_mode = _prop("mode", lambda: _interp("NEAREST"))
    coordinate_transformation = _prop("coords", lambda: T["ResizeCoordinateTransformation"].ASYMMETRIC)
    nearest_rounding = _prop("rounding", lambda: T["ResizeRoundMode"].FLOOR)

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        if self._get("shape") is not None:
            return tuple(self._get("shape"))
        scales = self._get("scales")
        if scales is None:
            raise ValueError(f"{self.name}: set the output shape or the scales (IResizeLayer)")
        return tuple(int(np.floor(d * s)) for d, s in zip(shapes[0], scales))


def _interp(member: str) -> Any:
    enum = T["_space"].get("InterpolationMode") or T["_space"].get("ResizeMode")
    return getattr(enum, member)


class IConcatenationLayerModel(ILayerModel):
    _TYPE = "CONCATENATION"

    @property
    def axis(self) -> int:
        """Docs: the default axis is the number of dimensions minus three, or 0 below three dimensions."""
        rank = len(self._inputs[0]._shape())
        return int(self._get("axis", rank - 3 if rank >= 3 else 0))

    @axis.setter
    def axis(self, value: int) -> None:
        self._set("axis", int(value))

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        axis, ref = self.axis, shapes[0]
        for s in shapes:
            if len(s) != len(ref) or any(s[i] != ref[i] for i in range(len(ref)) if i != axis):
                raise ValueError(f"{self.name}: inputs {shapes} differ outside axis {axis} (IConcatenationLayer)")
        return tuple(sum(s[axis] for s in shapes) if i == axis else ref[i] for i in range(len(ref)))


class IShuffleLayerModel(ILayerModel):
    _TYPE = "SHUFFLE"
    first_transpose = _prop("first", lambda: None, _dims)
    reshape_dims = _prop("reshape", lambda: None, _dims)
    second_transpose = _prop("second", lambda: None, _dims)
    zero_is_placeholder = _prop("zero_is_placeholder", True, bool)  # docs: default true

    def _reshaped(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        dims = self._get("reshape")
        if dims is None:
            return shape
        zero = self._get("zero_is_placeholder", True)
        dims = [shape[i] if d == 0 and zero else d for i, d in enumerate(dims)]
        total = int(np.prod(shape))
        known = int(np.prod([d for d in dims if d != -1]))
        out = tuple(total // known if d == -1 else d for d in dims)
        if int(np.prod(out)) != total:
            raise ValueError(f"{self.name}: reshape {dims} changes the volume of {shape} (IShuffleLayer)")
        return out

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        shape = shapes[0]
        if self._get("first") is not None:
            shape = tuple(shape[i] for i in self._get("first"))
        shape = self._reshaped(shape)
        if self._get("second") is not None:
            shape = tuple(shape[i] for i in self._get("second"))
        return shape


class ISoftMaxLayerModel(ILayerModel):
    _TYPE = "SOFTMAX"
    axes = _prop("axes", lambda: None, int)

    def _axis(self, rank: int) -> int:
        axes = self._get("axes")
        if axes is None:  # docs: the default is the channel axis (1) in explicit-batch networks
            return 1
        if bin(axes).count("1") != 1:
            raise ValueError(f"{self.name}: softmax axes must name exactly one axis (ISoftMaxLayer)")
        return int(axes).bit_length() - 1

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        self._axis(len(shapes[0]))
        return tuple(shapes[0])


class IConstantLayerModel(ILayerModel):
    _TYPE = "CONSTANT"
    shape = _prop("shape", (), _dims)
    weights = _prop("weights")

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        shape = tuple(self._get("shape"))
        if _values(self._get("weights")).size != int(np.prod(shape)):
            raise ValueError(f"{self.name}: weights do not fill shape {shape} (IConstantLayer)")
        return shape


class ISliceLayerModel(ILayerModel):
    _TYPE = "SLICE"
    start = _prop("start", (), _dims)
    shape = _prop("shape", (), _dims)
    stride = _prop("stride", (), _dims)

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        for st, sz, sd, dim in zip(self._get("start"), self._get("shape"), self._get("stride"), shapes[0]):
            if st < 0 or st + (sz - 1) * sd >= dim:
                raise ValueError(f"{self.name}: slice out of bounds of {shapes[0]} (ISliceLayer, STRICT_BOUNDS)")
        return tuple(self._get("shape"))


class IPluginV2LayerModel(ILayerModel):
    _TYPE = "PLUGIN_V2"

    @property
    def plugin(self) -> Any:
        return self._get("plugin")

    def _infer(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        per_item = self._get("plugin")._output_shape([s[1:] for s in shapes])
        return (shapes[0][0], *per_item)


_KINDS = {
    "IConvolutionLayer": "Convolution",
    "IScaleLayer": "Scale",
    "IActivationLayer": "Activation",
    "IElementWiseLayer": "ElementWise",
    "IPoolingLayer": "Pooling",
    "IResizeLayer": "Resize",
    "IConcatenationLayer": "Concatenation",
    "IShuffleLayer": "Shuffle",
    "ISoftMaxLayer": "Softmax",
    "IConstantLayer": "Constant",
    "ISliceLayer": "Slice",
    "IPluginV2Layer": "PluginV2",
}


# --- the network --------------------------------------------------------------------------------------
class INetworkDefinitionModel(_model.INetworkDefinitionModel):  # type: ignore[misc]
    """The network-definition half of INetworkDefinition (the parser half is _model's)."""

    def _state(self) -> dict[str, Any]:
        d = self.__dict__
        if "_layers" not in d:
            d["_layers"], d["_inputs"], d["_outputs"], d["_revision"] = [], [], [], 0
        return d

    def _changed(self) -> None:
        self._state()["_revision"] += 1

    def _add(self, qual: str, inputs: list[Any], **attrs: Any) -> Any:
        state = self._state()
        for t in inputs:
            if getattr(t, "_network", None) is not self:
                raise TypeError(f"{qual}: an input is not a tensor of this network")
        layer = T[qual]()
        index = len(state["_layers"])
        layer._network, layer._inputs, layer._attrs = self, list(inputs), dict(attrs)
        layer._name = f"(Unnamed Layer* {index}) [{_KINDS[qual]}]"  # TensorRT's default names
        layer._outputs = [_tensor(self, f"{layer._name}_output", layer, 0)]
        state["_layers"].append(layer)
        self._changed()
        return layer

    @property
    def num_layers(self) -> int:
        return len(self._state()["_layers"])

    def get_layer(self, index: int) -> Any:
        layers = self._state()["_layers"]
        return layers[index] if 0 <= index < len(layers) else None

    @property
    def num_inputs(self) -> int:
        return super().num_inputs if self._onnx else len(self._state()["_inputs"])

    @property
    def num_outputs(self) -> int:
        return super().num_outputs if self._onnx else len(self._state()["_outputs"])

    def get_input(self, index: int) -> Any:
        inputs = self._state()["_inputs"]
        return inputs[index] if 0 <= index < len(inputs) else None

    def get_output(self, index: int) -> Any:
        outputs = self._state()["_outputs"]
        return outputs[index] if 0 <= index < len(outputs) else None

    def add_input(self, name: str, dtype: Any, shape: Any) -> Any:
        tensor = _tensor(self, name)
        tensor._input_shape, tensor._dtype = _dims(shape), dtype
        self._state()["_inputs"].append(tensor)
        return tensor

    def mark_output(self, tensor: Any) -> None:
        outputs = self._state()["_outputs"]
        if not any(t is tensor for t in outputs):
            outputs.append(tensor)

    def add_convolution_nd(
        self, input: Any, num_output_maps: int, kernel_shape: Any, kernel: Any, bias: Any = None
    ) -> Any:
        return self._add(
            "IConvolutionLayer", [input], maps=int(num_output_maps), kernel_shape=_dims(kernel_shape),
            kernel=kernel, bias=bias,
        )  # fmt: skip

    def add_convolution(
        self, input: Any, num_output_maps: int, kernel_shape: Any, kernel: Any, bias: Any = None
    ) -> Any:
        return self.add_convolution_nd(input, num_output_maps, kernel_shape, kernel, bias)

    def add_scale(self, input: Any, mode: Any, shift: Any = None, scale: Any = None, power: Any = None) -> Any:
        channels = input._shape()[1]
        want = {"UNIFORM": 1, "CHANNEL": channels, "ELEMENTWISE": int(np.prod(input._shape()[1:]))}[mode.name]
        for what, w in (("shift", shift), ("scale", scale), ("power", power)):
            if _values(w).size not in (0, want):
                raise ValueError(f"add_scale: {what} has {_values(w).size} values, {mode.name} mode needs {want}")
        return self._add("IScaleLayer", [input], mode=mode, shift=shift, scale=scale, power=power)

    def add_activation(self, input: Any, type: Any) -> Any:
        return self._add("IActivationLayer", [input], activation=type)

    def add_elementwise(self, input1: Any, input2: Any, op: Any) -> Any:
        return self._add("IElementWiseLayer", [input1, input2], op=op)

    def add_pooling_nd(self, input: Any, type: Any, window_size: Any) -> Any:
        return self._add("IPoolingLayer", [input], pooling=type, window=_dims(window_size))

    def add_pooling(self, input: Any, type: Any, window_size: Any) -> Any:
        return self.add_pooling_nd(input, type, window_size)

    def add_resize(self, input: Any) -> Any:
        return self._add("IResizeLayer", [input])

    def add_concatenation(self, inputs: Any) -> Any:
        return self._add("IConcatenationLayer", list(inputs))

    def add_shuffle(self, input: Any) -> Any:
        return self._add("IShuffleLayer", [input])

    def add_softmax(self, input: Any) -> Any:
        return self._add("ISoftMaxLayer", [input])

    def add_constant(self, shape: Any, weights: Any) -> Any:
        return self._add("IConstantLayer", [], shape=_dims(shape), weights=weights)

    def add_slice(self, input: Any, start: Any, shape: Any, stride: Any) -> Any:
        return self._add("ISliceLayer", [input], start=_dims(start), shape=_dims(shape), stride=_dims(stride))

    def add_plugin_v2(self, inputs: Any, plugin: Any) -> Any:
        return self._add("IPluginV2Layer", list(inputs), plugin=plugin)


MODELS: dict[str, type] = {
    "INetworkDefinition": INetworkDefinitionModel,
    "ITensor": ITensorModel,
    "ILayer": ILayerModel,
    "Weights": WeightsModel,
    **{qual: globals()[f"{qual}Model"] for qual in _KINDS},
}
DUNDERS = ("__setattr__",)  # copied onto the built classes (__init__._make_class)


def bind(space: dict[str, Any]) -> None:
    """Module attributes the bindings define as DataType aliases (tensorrt.float32, ... : Python API docs,
    "Data types"), where the release has them."""
    aliases = {"float32": "FLOAT", "float16": "HALF", "int8": "INT8", "int32": "INT32", "bool": "BOOL",
               "uint8": "UINT8", "int64": "INT64", "bfloat16": "BF16", "fp8": "FP8", "int4": "INT4"}  # fmt: skip
    for alias, member in aliases.items():
        if alias in space and member in getattr(space.get("DataType"), "__members__", {}):
            space[alias] = getattr(space["DataType"], member)


# --- export to ONNX -----------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.node_names: set[str] = set()
        self.count = 0

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"{hint}__{self.count}"

    def name(self, tensor: Any) -> str:
        key = id(tensor)
        if key not in self.names:
            base = tensor.name or "tensor"
            name = base if base not in self.used else self.fresh(base)
            self.used.add(name)
            self.names[key] = name
        return self.names[key]

    def const(self, hint: str, value: Any, dtype: Any = np.float32) -> str:
        from onnx import numpy_helper

        name = self.fresh(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, layer_name: str = "", **attrs: Any) -> str:
        from onnx import helper

        name = layer_name or self.fresh(op)
        if name in self.node_names:  # ONNX needs unique node names; TensorRT lets layers share one
            name = self.fresh(name)
        self.node_names.add(name)
        self.nodes.append(helper.make_node(op, inputs, [output], name=name, **attrs))
        return output


def _scale(w: _Writer, layer: Any, x: str, out: str) -> None:
    """IScaleLayer docs: out = (in * scale + shift) ^ power, per mode (UNIFORM, CHANNEL, ELEMENTWISE)."""
    shape = layer._inputs[0]._shape()
    mode = layer._get("mode").name
    target = {"UNIFORM": (), "CHANNEL": (1, shape[1]) + (1,) * (len(shape) - 2), "ELEMENTWISE": (1, *shape[1:])}[mode]
    steps = []
    for key, op, identity in (("scale", "Mul", 1.0), ("shift", "Add", 0.0), ("power", "Pow", 1.0)):
        values = _values(layer._get(key))
        if values.size and not np.all(values == identity):
            steps.append((op, values.reshape(target)))
    if not steps:
        steps.append(("Mul", np.ones(target, np.float32)))
    for i, (op, values) in enumerate(steps):
        last = i == len(steps) - 1
        x = w.node(op, [x, w.const(f"{layer.name}.{op}", values)], out if last else w.fresh("scale"),
                   layer.name if last else "")  # fmt: skip


def _emit(w: _Writer, layer: Any) -> None:
    qual = type(layer).__qualname__
    ins = [w.name(t) for t in layer._inputs]
    out, name = w.name(layer._outputs[0]), layer.name
    if qual == "IConvolutionLayer":
        shape = layer._inputs[0]._shape()
        maps, groups, (kh, kw) = layer._get("maps"), layer._get("groups", 1), layer._get("kernel_shape")
        kernel = _values(layer._get("kernel")).reshape(maps, shape[1] // groups, kh, kw)
        args = [ins[0], w.const(f"{name}.kernel", kernel)]
        bias = _values(layer._get("bias"))
        if bias.size:
            args.append(w.const(f"{name}.bias", bias))
        (ph, pw) = layer._get("padding", (0, 0))
        w.node("Conv", args, out, name, kernel_shape=[kh, kw], strides=list(layer._get("stride", (1, 1))),
               pads=[ph, pw, ph, pw], group=groups, dilations=list(layer._get("dilation", (1, 1))))  # fmt: skip
    elif qual == "IScaleLayer":
        _scale(w, layer, ins[0], out)
    elif qual == "IActivationLayer":
        kind = _enum_name(layer._get("activation"))
        if kind == "RELU":
            w.node("Relu", ins, out, name)
        elif kind == "SIGMOID":
            w.node("Sigmoid", ins, out, name)
        elif kind == "LEAKY_RELU":
            w.node("LeakyRelu", ins, out, name, alpha=float(layer._get("alpha", 0.0)))
        else:
            raise T["NotModelled"](f"the TensorRT double does not model ActivationType.{kind}")
    elif qual == "IElementWiseLayer":
        ops = {"SUM": "Add", "PROD": "Mul", "SUB": "Sub", "DIV": "Div", "MAX": "Max", "MIN": "Min"}
        kind = _enum_name(layer._get("op"))
        if kind not in ops:
            raise T["NotModelled"](f"the TensorRT double does not model ElementWiseOperation.{kind}")
        w.node(ops[kind], ins, out, name)
    elif qual == "IPoolingLayer":
        (ph, pw) = layer._get("padding", (0, 0))
        attrs = {"kernel_shape": list(layer._get("window")), "strides": list(layer._strides()), "pads": [ph, pw, ph, pw],
                 "ceil_mode": int(_enum_name(layer.padding_mode) == "EXPLICIT_ROUND_UP")}  # fmt: skip
        kind = _enum_name(layer._get("pooling"))
        if kind == "MAX":
            w.node("MaxPool", ins, out, name, **attrs)
        elif kind == "AVERAGE":
            excl = layer._get("excludes_padding", True)
            w.node("AveragePool", ins, out, name, count_include_pad=0 if excl else 1, **attrs)
        else:
            raise T["NotModelled"](f"the TensorRT double does not model PoolingType.{kind}")
    elif qual == "IResizeLayer":
        coords = {"ASYMMETRIC": "asymmetric", "ALIGN_CORNERS": "align_corners", "HALF_PIXEL": "half_pixel"}
        rounding = {"FLOOR": "floor", "CEIL": "ceil", "HALF_UP": "round_prefer_ceil", "HALF_DOWN": "round_prefer_floor"}
        mode = {"NEAREST": "nearest", "LINEAR": "linear"}[_enum_name(layer.resize_mode)]
        sizes = w.const(f"{name}.sizes", layer._outputs[0]._shape(), np.int64)
        w.node("Resize", [ins[0], "", "", sizes], out, name, mode=mode,
               coordinate_transformation_mode=coords[_enum_name(layer.coordinate_transformation)],
               nearest_mode=rounding[_enum_name(layer.nearest_rounding)])  # fmt: skip
    elif qual == "IConcatenationLayer":
        w.node("Concat", ins, out, name, axis=layer.axis)
    elif qual == "IShuffleLayer":
        x = ins[0]
        steps = [k for k in ("first", "reshape", "second") if layer._get(k) is not None] or ["reshape"]
        for i, key in enumerate(steps):
            target, node_name = (out, name) if i == len(steps) - 1 else (w.fresh("shuffle"), "")
            if key == "reshape":  # the resolved dims (0 and -1 as IShuffleLayer resolves them)
                shape = layer._inputs[0]._shape()
                if layer._get("first") is not None:
                    shape = tuple(shape[i] for i in layer._get("first"))
                dims = layer._reshaped(shape)
                x = w.node("Reshape", [x, w.const(f"{name}.shape", list(dims), np.int64)], target, node_name)
            else:
                x = w.node("Transpose", [x], target, node_name, perm=list(layer._get(key)))
    elif qual == "ISoftMaxLayer":
        w.node("Softmax", ins, out, name, axis=layer._axis(len(layer._inputs[0]._shape())))
    elif qual == "IConstantLayer":
        value = _values(layer._get("weights")).reshape(layer._get("shape"))
        w.node("Identity", [w.const(f"{name}.weights", value)], out, name)
    elif qual == "ISliceLayer":
        start, size, stride = layer._get("start"), layer._get("shape"), layer._get("stride")
        ends = [s + (n - 1) * d + 1 for s, n, d in zip(start, size, stride)]
        args = [ins[0], w.const(f"{name}.starts", start, np.int64), w.const(f"{name}.ends", ends, np.int64),
                w.const(f"{name}.axes", list(range(len(start))), np.int64), w.const(f"{name}.steps", stride, np.int64)]  # fmt: skip
        w.node("Slice", args, out, name)
    else:
        raise T["NotModelled"](f"the TensorRT double does not model {qual} in a built network")


def export(network: Any) -> tuple[bytes, dict[str, Any]]:
    """(ONNX bytes, plan metadata) of a network definition. The graph's outputs are the network's outputs
    and, for each plugin layer, its inputs; metadata["plugins"] describes the plugin layers (_plugins.py)."""
    import onnx
    from onnx import TensorProto, helper

    from tensorrt import _plugins

    state = network._state()
    if not state["_outputs"]:
        return b"", {}
    w = _Writer()
    graph_inputs = [
        helper.make_tensor_value_info(w.name(t), TensorProto.FLOAT, list(t._shape())) for t in state["_inputs"]
    ]
    plugins = []
    for layer in state["_layers"]:
        if type(layer).__qualname__ == "IPluginV2Layer":
            plugins.append(_plugins.describe(layer, [w.name(t) for t in layer._inputs], w.name(layer._outputs[0])))
        else:
            _emit(w, layer)
    plugin_outputs = {p["output"] for p in plugins}
    wanted = [w.name(t) for t in state["_outputs"] if w.name(t) not in plugin_outputs]
    wanted += [name for p in plugins for name in p["inputs"] if name not in wanted]
    shapes = {w.name(t): t._shape() for layer in state["_layers"] for t in layer._inputs + layer._outputs}
    graph_outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(shapes[n])) for n in wanted]
    graph = helper.make_graph(w.nodes, "netdef", graph_inputs, graph_outputs, w.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="trt-double")
    model.ir_version = 8
    onnx.checker.check_model(model)
    meta: dict[str, Any] = {"netdef_layers": len(state["_layers"])}
    if plugins:
        meta["plugins"] = plugins
        meta["outputs"] = [[w.name(t), list(t._shape()), "FLOAT"] for t in state["_outputs"]]
    return model.SerializeToString(), meta
