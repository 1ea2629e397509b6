"""A recording stand-in for the parts of the TensorRT Python API that `matrix.models.netdef` calls.

What it is: `fake_trt(profile)` returns a module-like object with the enums, `Weights` and plugin
field classes, and `FakeNetwork` records every `add_*` call, checks its arguments (tensors of this
network, weight counts that fit the layer, attributes the real layer class has) and propagates
shapes by TensorRT's documented rules. Layers only accept the attributes named in their profile,
so a misspelt or release-specific attribute fails here as it would in the bindings. `PROFILES`
names, per release line, which API names exist; `test_netdef.py` checks those names against
NVIDIA's pybind11 sources at the matching tags. fake_trt_run.py interprets the recorded layers
with numpy under the same documented semantics, to check which weights and wiring the builder
produced.

What it is not: TensorRT. Nothing here says whether TensorRT builds or runs these networks, how
it computes, or that a release accepts them; only a GPU run inside an image can say that.
"""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

Shape = Tuple[int, ...]

# Names that exist per release line (checked against python/src at the tags in test_netdef.py).
PROFILES: dict[str, dict[str, Any]] = {
    "8.4": {
        "tag": "8.4.3",
        "conv_legacy": True,
        "conv_nd": True,
        "resize_enum": ("ResizeMode",),
        "explicit_flag": True,
    },
    "8.6": {
        "tag": "v8.6.1",
        "conv_legacy": True,
        "conv_nd": True,
        "resize_enum": ("ResizeMode", "InterpolationMode"),
        "explicit_flag": True,
    },
    "10.0": {
        "tag": "v10.0.1",
        "conv_legacy": False,
        "conv_nd": True,
        "resize_enum": ("InterpolationMode",),
        "explicit_flag": True,
    },
    "10.8": {
        "tag": "v10.8.0",
        "conv_legacy": False,
        "conv_nd": True,
        "resize_enum": ("InterpolationMode",),
        "explicit_flag": True,
    },
    "11.1": {
        "tag": "v11.1",
        "conv_legacy": False,
        "conv_nd": True,
        "resize_enum": ("InterpolationMode",),
        "explicit_flag": False,
    },
    # not a release: 8.x's legacy calls only, to exercise the builder's fallback branch
    "legacy-only": {
        "tag": None,
        "conv_legacy": True,
        "conv_nd": False,
        "resize_enum": ("ResizeMode",),
        "explicit_flag": True,
    },
}


class Recording:
    """A namespace (the module, an enum) that remembers which of its names were read."""

    def __init__(self, name: str, used: set[str], **members: Any) -> None:
        object.__setattr__(self, "__name__", name)
        object.__setattr__(self, "_used", used)
        object.__setattr__(self, "_members", dict(members))

    def __getattr__(self, key: str) -> Any:
        members = object.__getattribute__(self, "_members")
        if key not in members:
            raise AttributeError(key)
        object.__getattribute__(self, "_used").add(key)
        return members[key]

    def __setattr__(self, key: str, value: Any) -> None:
        object.__getattribute__(self, "_members")[key] = value


def _enum(used: set[str], name: str, *members: str) -> Any:
    return Recording(name, used, **{m: f"{name}.{m}" for m in members})


class Weights:
    def __init__(self, a: np.ndarray | None = None) -> None:
        self.array = None if a is None else np.ascontiguousarray(a, dtype=np.float32)

    @property
    def size(self) -> int:
        return 0 if self.array is None else int(self.array.size)


class FakeTensor:
    def __init__(
        self,
        network: FakeNetwork,
        layer: FakeLayer | None,
        shape: Shape | None = None,
        name: str = "",
    ) -> None:
        self.network = network
        self.layer = layer
        self._shape = shape
        self.name = name

    @property
    def shape(self) -> Shape:
        return self._shape if self.layer is None else self.layer.infer()  # type: ignore[return-value]


ATTRS: dict[str, tuple[str, ...]] = {
    "convolution": ("stride_nd", "padding_nd", "num_groups"),
    "convolution_legacy": ("stride", "padding", "num_groups"),
    "scale": (),
    "activation": ("alpha", "beta"),
    "elementwise": (),
    "resize": ("shape", "scales", "resize_mode", "coordinate_transformation", "nearest_rounding"),
    "pooling": ("stride_nd", "padding_nd", "padding_mode", "average_count_excludes_padding"),
    "pooling_legacy": ("stride", "padding", "padding_mode", "average_count_excludes_padding"),
    "concatenation": ("axis",),
    "shuffle": ("first_transpose", "reshape_dims", "second_transpose"),
    "softmax": ("axes",),
    "constant": (),
    "slice": (),
    "plugin_v2": (),
}


class FakeLayer:
    def __init__(self, network: FakeNetwork, kind: str, inputs: Sequence[FakeTensor], **params: Any) -> None:
        object.__setattr__(self, "_allowed", set(ATTRS[kind]) | {"name"})
        object.__setattr__(self, "network", network)
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "inputs", list(inputs))
        object.__setattr__(self, "params", dict(params))
        object.__setattr__(self, "attrs", {})
        object.__setattr__(self, "_shape", None)
        object.__setattr__(self, "output", FakeTensor(network, self))
        for t in inputs:
            if not isinstance(t, FakeTensor) or t.network is not network:
                raise TypeError(f"{kind}: an input is not a tensor of this network")

    def __setattr__(self, key: str, value: Any) -> None:
        if key not in self._allowed:
            raise AttributeError(f"'{self.kind}' layer has no attribute '{key}'")
        self.attrs[key] = value
        object.__setattr__(self, "_shape", None)  # an attribute can change the output shape

    def __getattr__(self, key: str) -> Any:
        attrs = object.__getattribute__(self, "attrs")
        if key in object.__getattribute__(self, "_allowed"):
            return attrs.get(key)  # the real properties read back a default before they are set
        raise AttributeError("'{}' layer has no attribute '{}'".format(object.__getattribute__(self, "kind"), key))

    def get_output(self, i: int) -> FakeTensor:
        assert i == 0
        return self.output  # type: ignore[no-any-return]

    def a(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    # --- shape propagation, TensorRT's rules -----------------------------------------------------
    def infer(self) -> Shape:
        cached = object.__getattribute__(self, "_shape")
        if cached is None:
            cached = self._infer()
            object.__setattr__(self, "_shape", cached)
        return cached  # type: ignore[no-any-return]

    def _infer(self) -> Shape:
        shapes = [t.shape for t in self.inputs]
        k = self.kind.replace("_legacy", "")
        p = self.params
        if k == "convolution":
            n, c, h, w = shapes[0]
            kh, kw = p["kernel_shape"]
            s = tuple(self.a("stride_nd") or self.a("stride") or (1, 1))
            pad = tuple(self.a("padding_nd") or self.a("padding") or (0, 0))
            g = self.a("num_groups", 1)
            assert c % g == 0, f"channels {c} not divisible by groups {g}"
            assert p["kernel"].size == p["out"] * (c // g) * kh * kw, "kernel weight count"
            assert p["bias"].size in (0, p["out"]), "bias weight count"
            return (n, p["out"], (h + 2 * pad[0] - kh) // s[0] + 1, (w + 2 * pad[1] - kw) // s[1] + 1)
        if k == "scale":
            c = shapes[0][1]
            want = c if p["mode"].endswith("CHANNEL") else 1
            for wname in ("shift", "scale", "power"):
                assert p[wname].size in (0, want), "{} count {} for {} mode".format(wname, p[wname].size, p["mode"])
            return tuple(shapes[0])
        if k in ("activation", "softmax"):
            if k == "softmax":
                axes = self.a("axes")
                assert axes is not None and bin(axes).count("1") == 1, "softmax axes must be one axis"
            return tuple(shapes[0])
        if k == "elementwise":
            a, b = shapes
            assert len(a) == len(b), "elementwise operands must have the same rank"
            assert all(x == y or 1 in (x, y) for x, y in zip(a, b)), f"not broadcastable: {a} {b}"
            return tuple(max(x, y) for x, y in zip(a, b))
        if k == "resize":
            out = self.a("shape")
            assert out is not None and self.a("resize_mode") is not None
            return tuple(out)
        if k == "pooling":
            n, c, h, w = shapes[0]
            kh, kw = p["window"]
            s = tuple(self.a("stride_nd") or self.a("stride") or (1, 1))
            pad = tuple(self.a("padding_nd") or self.a("padding") or (0, 0))
            ceil = str(self.a("padding_mode", "")).endswith("EXPLICIT_ROUND_UP")

            def o(size: int, kk: int, ss: int, pp: int) -> int:
                return (size + 2 * pp - kk + (ss - 1 if ceil else 0)) // ss + 1

            return (n, c, o(h, kh, s[0], pad[0]), o(w, kw, s[1], pad[1]))
        if k == "concatenation":
            axis = self.a("axis")
            assert axis is not None, "set the axis explicitly"
            ref = shapes[0]
            assert all(len(s) == len(ref) and all(s[i] == ref[i] for i in range(len(ref)) if i != axis) for s in shapes)
            return tuple(sum(s[axis] for s in shapes) if i == axis else ref[i] for i in range(len(ref)))
        if k == "shuffle":
            shape = shapes[0]
            first = self.a("first_transpose")
            if first is not None:
                shape = tuple(shape[i] for i in first)
            dims = self.a("reshape_dims")
            if dims is not None:
                dims = [shape[i] if d == 0 else d for i, d in enumerate(dims)]
                total = int(np.prod(shape))
                known = int(np.prod([d for d in dims if d != -1]))
                shape = tuple(total // known if d == -1 else d for d in dims)
                assert int(np.prod(shape)) == total, "reshape changes the element count"
            second = self.a("second_transpose")
            if second is not None:
                shape = tuple(shape[i] for i in second)
            return tuple(shape)
        if k == "constant":
            assert p["weights"].size == int(np.prod(p["shape"])), "constant weight count"
            return tuple(p["shape"])
        if k == "slice":
            for st, sz, sd, dim in zip(p["start"], p["size"], p["stride"], shapes[0]):
                assert st >= 0 and st + (sz - 1) * sd < dim, "slice out of bounds"
            return tuple(p["size"])
        if k == "plugin_v2":
            # An IPluginV2IOExt sees its inputs without the batch dimension; TensorRT prepends it to the
            # plugin's output dims (explicit batch). The plugin object gives the per-item dims.
            per_item = p["plugin"].output_dims([s[1:] for s in shapes])
            return (shapes[0][0], *per_item)
        raise AssertionError(k)


class FakeNetwork:
    def __init__(self, profile: str) -> None:
        self.profile = PROFILES[profile]
        self.layers: list[FakeLayer] = []
        self.inputs: list[FakeTensor] = []
        self.outputs: list[FakeTensor] = []
        self.calls: list[str] = []
        if not self.profile["conv_legacy"]:
            self._hide("add_convolution", "add_pooling")
        if not self.profile["conv_nd"]:
            self._hide("add_convolution_nd", "add_pooling_nd")

    def _hide(self, *names: str) -> None:
        hidden = set(getattr(self, "_hidden", set())) | set(names)
        object.__setattr__(self, "_hidden", hidden)

    def __getattribute__(self, key: str) -> Any:
        if key in object.__getattribute__(self, "__dict__").get("_hidden", ()):
            raise AttributeError(key)
        return object.__getattribute__(self, key)

    def _layer(self, kind: str, inputs: Sequence[FakeTensor], **params: Any) -> FakeLayer:
        api = {"convolution": "add_convolution_nd", "convolution_legacy": "add_convolution"}.get(kind)
        api = api or {"pooling": "add_pooling_nd", "pooling_legacy": "add_pooling"}.get(kind, "add_" + kind)
        self.calls.append(api)
        layer = FakeLayer(self, kind, inputs, **params)
        self.layers.append(layer)
        return layer

    def add_input(self, name: str, dtype: Any, shape: Shape) -> FakeTensor:
        assert dtype == "float32" and all(int(d) > 0 for d in shape), "static float32 inputs only"
        t = FakeTensor(self, None, tuple(int(d) for d in shape), name)
        self.calls.append("add_input")
        self.inputs.append(t)
        return t

    def mark_output(self, t: FakeTensor) -> None:
        assert t.network is self and t.name, "outputs need a name"
        self.calls.append("mark_output")
        self.outputs.append(t)

    def add_convolution_nd(
        self, x: FakeTensor, out: int, kernel_shape: Shape, kernel: Weights, bias: Weights
    ) -> FakeLayer:
        return self._layer("convolution", [x], out=out, kernel_shape=tuple(kernel_shape), kernel=kernel, bias=bias)

    def add_convolution(
        self, x: FakeTensor, out: int, kernel_shape: Shape, kernel: Weights, bias: Weights
    ) -> FakeLayer:
        return self._layer(
            "convolution_legacy", [x], out=out, kernel_shape=tuple(kernel_shape), kernel=kernel, bias=bias
        )

    def add_scale(self, x: FakeTensor, mode: str, shift: Weights, scale: Weights, power: Weights) -> FakeLayer:
        return self._layer("scale", [x], mode=mode, shift=shift, scale=scale, power=power)

    def add_activation(self, x: FakeTensor, kind: str) -> FakeLayer:
        return self._layer("activation", [x], type=kind)

    def add_elementwise(self, a: FakeTensor, b: FakeTensor, op: str) -> FakeLayer:
        return self._layer("elementwise", [a, b], op=op)

    def add_resize(self, x: FakeTensor) -> FakeLayer:
        return self._layer("resize", [x])

    def add_pooling_nd(self, x: FakeTensor, kind: str, window: Shape) -> FakeLayer:
        return self._layer("pooling", [x], type=kind, window=tuple(window))

    def add_pooling(self, x: FakeTensor, kind: str, window: Shape) -> FakeLayer:
        return self._layer("pooling_legacy", [x], type=kind, window=tuple(window))

    def add_concatenation(self, xs: Sequence[FakeTensor]) -> FakeLayer:
        return self._layer("concatenation", list(xs))

    def add_shuffle(self, x: FakeTensor) -> FakeLayer:
        return self._layer("shuffle", [x])

    def add_softmax(self, x: FakeTensor) -> FakeLayer:
        return self._layer("softmax", [x])

    def add_constant(self, shape: Shape, weights: Weights) -> FakeLayer:
        return self._layer("constant", [], shape=tuple(shape), weights=weights)

    def add_slice(self, x: FakeTensor, start: Shape, size: Shape, stride: Shape) -> FakeLayer:
        return self._layer("slice", [x], start=tuple(start), size=tuple(size), stride=tuple(stride))

    def add_plugin_v2(self, xs: Sequence[FakeTensor], plugin: Any) -> FakeLayer:
        return self._layer("plugin_v2", list(xs), plugin=plugin)

    def used_names(self) -> set[str]:
        """Network methods called and layer attributes set (plus get_output, which every layer uses)."""
        names = set(self.calls) | {"get_output"}
        for layer in self.layers:
            names |= set(layer.attrs)
        return names

    def dangling(self) -> list[FakeLayer]:
        """Layers whose output nobody reads and that are not network outputs."""
        used = {id(t) for layer in self.layers for t in layer.inputs} | {id(t) for t in self.outputs}
        return [layer for layer in self.layers if id(layer.output) not in used]


class FakeBuilder:
    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.flags: int | None = None

    def create_network(self, flags: int) -> FakeNetwork:
        self.flags = flags
        return FakeNetwork(self.profile)


def fake_trt(profile: str) -> Any:
    """The stand-in module for a profile; `.used` collects every module, enum and member name read."""
    prof = PROFILES[profile]
    used: set[str] = set()
    mod = Recording(
        "tensorrt",
        used,
        float32="float32",
        Weights=Weights,
        ActivationType=_enum(used, "ActivationType", "RELU", "LEAKY_RELU", "SIGMOID"),
        ElementWiseOperation=_enum(used, "ElementWiseOperation", "SUM", "PROD"),
        ScaleMode=_enum(used, "ScaleMode", "CHANNEL", "UNIFORM"),
        PoolingType=_enum(used, "PoolingType", "MAX", "AVERAGE"),
        PaddingMode=_enum(used, "PaddingMode", "EXPLICIT_ROUND_UP"),
        ResizeCoordinateTransformation=_enum(used, "ResizeCoordinateTransformation", "ASYMMETRIC"),
        ResizeRoundMode=_enum(used, "ResizeRoundMode", "FLOOR"),
        NetworkDefinitionCreationFlag=(
            _enum(used, "NetworkDefinitionCreationFlag", "EXPLICIT_BATCH")
            if prof["explicit_flag"]
            else _enum(used, "NetworkDefinitionCreationFlag", "STRONGLY_TYPED")
        ),
    )
    if prof["explicit_flag"]:
        mod.NetworkDefinitionCreationFlag._members["EXPLICIT_BATCH"] = 0
    for name in prof["resize_enum"]:
        setattr(mod, name, _enum(used, name, "NEAREST"))
    object.__setattr__(mod, "used", used)
    return mod
