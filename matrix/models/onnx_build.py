"""The ONNX backend: a model program written out with `onnx.helper`, opset 13, IR version 7.

Contract: `build_onnx(name, weights, ...)` returns an `onnx.ModelProto` for a registry model and a
weight dict (state-dict names), deterministic: the same arguments give byte-identical
`SerializeToString()`. Batch norm is folded into the preceding convolution (as torch.onnx.export
does in eval mode); convolutions, activations, resizes and reshapes are those PyTorch's exporter
emits for the published models. Opset 13: the first opset with per-channel QuantizeLinear/
DequantizeLinear (the explicit INT8 path needs axis=0 scales), which TensorRT's ONNX parser has
read since 8.0 (its 8.0.1 release notes add per-axis Q/DQ), so 8.4 through 11.x all take it;
the published exports used 11-13. IR version 7 is the one that shipped with opset 13 (onnx 1.8),
so an older parser never meets a newer IR than it knows. Host only: onnx is imported inside the functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from matrix.models.nets.ops import Ops, Shape, WeightSource, conv_out, pad_of, yolo_anchor_grid, yolo_grid

if TYPE_CHECKING:
    import onnx

    from matrix.models.registry import ModelSpec
    from matrix.models.weights import Weights

OPSET = 13
IR_VERSION = 7


class T:
    """A tensor in the graph being written: its name and static NCHW (or other) shape."""

    def __init__(self, name: str, shape: Shape) -> None:
        self.name = name
        self.shape = tuple(int(d) for d in shape)


class OnnxOps(Ops):
    def __init__(self, source: WeightSource) -> None:
        super().__init__(source)
        from onnx import TensorProto, helper, numpy_helper

        self._helper = helper
        self._numpy_helper = numpy_helper
        self._float = TensorProto.FLOAT
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []
        self.inputs: list[Any] = []
        self.outputs: list[Any] = []
        self._names: dict[str, int] = {}

    # --- plumbing ------------------------------------------------------------------------------
    def _fresh(self, base: str) -> str:
        n = self._names.get(base, 0)
        self._names[base] = n + 1
        return base if n == 0 else f"{base}_{n}"

    def _const(self, name: str, value: np.ndarray) -> str:
        cname = self._fresh(name)
        self.initializers.append(self._numpy_helper.from_array(np.ascontiguousarray(value), cname))
        return cname

    def _node(self, op: str, inputs: Sequence[str], base: str, shape: Shape, **attrs: Any) -> T:
        out = self._fresh(base)
        self.nodes.append(self._helper.make_node(op, list(inputs), [out], name=out, **attrs))
        return T(out, shape)

    def shape(self, x: Any) -> Shape:
        return tuple(x.shape)

    def input(self, name: str, shape: Shape) -> Any:
        self.inputs.append(self._helper.make_tensor_value_info(name, self._float, list(shape)))
        self._names[name] = 1
        return T(name, shape)

    def output(self, x: Any, name: str) -> Any:
        """Names the producing node's output `name` (as torch.onnx.export's output_names do)."""
        if name in self._names:
            raise ValueError(f"output name {name} is taken")
        self._names[name] = 1
        for node in self.nodes:
            node.output[:] = [name if o == x.name else o for o in node.output]
            node.input[:] = [name if i == x.name else i for i in node.input]
        self.outputs.append(self._helper.make_tensor_value_info(name, self._float, list(x.shape)))
        return T(name, x.shape)

    # --- layers --------------------------------------------------------------------------------
    def _conv(self, x: T, name: str, w: np.ndarray, b: np.ndarray, k: int, s: int, p: int, groups: int) -> T:
        wn = self._const(name + ".weight", w.astype(np.float32))
        bn = self._const(name + ".bias", b.astype(np.float32))
        shape = self.conv_out_shape(x, w.shape[0], k, s, p)
        return self._node(
            "Conv",
            [x.name, wn, bn],
            name,
            shape,
            kernel_shape=[k, k],
            strides=[s, s],
            pads=[p, p, p, p],
            dilations=[1, 1],
            group=groups,
        )

    def conv_bn(
        self,
        x: Any,
        conv: str,
        bn: str,
        out_ch: int,
        k: int,
        s: int = 1,
        p: int | None = None,
        groups: int = 1,
        eps: float = 1e-5,
    ) -> Any:
        w = self.weight(conv + ".weight", (out_ch, x.shape[1] // groups, k, k)).astype(np.float64)
        gamma, beta, mean, var = (a.astype(np.float64) for a in self.bn_params(bn, out_ch))
        scale = gamma / np.sqrt(var + eps)
        return self._conv(x, conv, w * scale.reshape(-1, 1, 1, 1), beta - mean * scale, k, s, pad_of(k, p), groups)

    def conv(
        self,
        x: Any,
        name: str,
        out_ch: int,
        k: int,
        s: int = 1,
        p: int | None = None,
        groups: int = 1,
        role: str = "",
    ) -> Any:
        w = self.weight(name + ".weight", (out_ch, x.shape[1] // groups, k, k))
        b = self.weight(name + ".bias", (out_ch,))
        return self._conv(x, name, w, b, k, s, pad_of(k, p), groups)

    def act(self, x: Any, kind: str, alpha: float = 0.0) -> Any:
        if kind == "relu":
            return self._node("Relu", [x.name], x.name + "/relu", x.shape)
        if kind == "leaky":
            return self._node("LeakyRelu", [x.name], x.name + "/leaky", x.shape, alpha=float(alpha))
        if kind == "sigmoid":
            return self._node("Sigmoid", [x.name], x.name + "/sigmoid", x.shape)
        if kind == "silu":  # torch.nn.SiLU exports as Sigmoid + Mul below opset 14 (no SiLU op in ONNX)
            sig = self._node("Sigmoid", [x.name], x.name + "/sigmoid", x.shape)
            return self._node("Mul", [x.name, sig.name], x.name + "/silu", x.shape)
        raise ValueError(kind)

    def add(self, a: Any, b: Any) -> Any:
        return self._node("Add", [a.name, b.name], a.name + "/add", a.shape)

    def scale(self, x: Any, name: str) -> Any:
        c = self._const(name + ".scale", self.weight(name + ".scale", ()).astype(np.float32))
        return self._node("Mul", [x.name, c], name, x.shape)

    def concat(self, xs: Sequence[Any], axis: int = 1) -> Any:
        shape = list(xs[0].shape)
        shape[axis] = sum(t.shape[axis] for t in xs)
        return self._node("Concat", [t.name for t in xs], xs[0].name + "/concat", tuple(shape), axis=axis)

    def upsample_like(self, x: Any, ref: Any) -> Any:
        fy, fx = ref.shape[2] // x.shape[2], ref.shape[3] // x.shape[3]
        scales = self._const(x.name + "/up.scales", np.array([1.0, 1.0, fy, fx], dtype=np.float32))
        shape = (x.shape[0], x.shape[1], x.shape[2] * fy, x.shape[3] * fx)
        return self._node(
            "Resize",
            [x.name, "", scales],
            x.name + "/up",
            shape,
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )

    def maxpool(self, x: Any, k: int, s: int, p: int) -> Any:
        n, c, h, w = x.shape
        shape = (n, c, conv_out(h, k, s, p), conv_out(w, k, s, p))
        return self._node(
            "MaxPool",
            [x.name],
            x.name + "/maxpool",
            shape,
            kernel_shape=[k, k],
            strides=[s, s],
            pads=[p, p, p, p],
        )

    def avgpool_ceil(self, x: Any, k: int) -> Any:
        n, c, h, w = x.shape
        shape = (n, c, -(-h // k), -(-w // k))
        return self._node(
            "AveragePool",
            [x.name],
            x.name + "/avgpool",
            shape,
            kernel_shape=[k, k],
            strides=[k, k],
            ceil_mode=1,
            count_include_pad=0,
        )

    def _reshape(self, x: T, shape: Sequence[int], out_shape: Shape, base: str) -> T:
        s = self._const(base + ".shape", np.array(list(shape), dtype=np.int64))
        return self._node("Reshape", [x.name, s], base, out_shape)

    def rows(self, x: Any, width: int) -> Any:
        n, c, h, w = x.shape
        t = self._node("Transpose", [x.name], x.name + "/nhwc", (n, h, w, c), perm=[0, 2, 3, 1])
        return self._reshape(t, [n, -1, width], (n, h * w * c // width, width), x.name + "/rows")

    def softmax_last(self, x: Any) -> Any:
        return self._node("Softmax", [x.name], x.name + "/softmax", x.shape, axis=-1)

    def _slice_last(self, x: T, start: int, end: int, base: str) -> T:
        starts = self._const(base + ".starts", np.array([start], dtype=np.int64))
        ends = self._const(base + ".ends", np.array([end], dtype=np.int64))
        axes = self._const(base + ".axes", np.array([-1], dtype=np.int64))
        shape = (*x.shape[:-1], end - start)
        return self._node("Slice", [x.name, starts, ends, axes], base, shape)

    def yolo_decode(self, x: Any, stride: int, anchors: Sequence[tuple[float, float]]) -> Any:
        n, c, h, w = x.shape
        na = len(anchors)
        no = c // na
        base = x.name + "/decode"
        r = self._reshape(x, [n, na, no, h, w], (n, na, no, h, w), base + "/split")
        t = self._node("Transpose", [r.name], base + "/perm", (n, na, h, w, no), perm=[0, 1, 3, 4, 2])
        y = self._node("Sigmoid", [t.name], base + "/sigmoid", t.shape)
        sxy = self._slice_last(y, 0, 2, base + "/xy")
        swh = self._slice_last(y, 2, 4, base + "/wh")
        rest = self._slice_last(y, 4, no, base + "/conf")
        # xy = (2σ - 0.5 + grid) * stride ; wh = (2σ)² * anchor, with the constants folded
        two_s = self._const(base + "/xy.gain", np.array(2.0 * stride, dtype=np.float32))
        offs = self._const(base + "/xy.offset", ((yolo_grid(h, w, na) - 0.5) * stride).astype(np.float32))
        xy = self._node("Mul", [sxy.name, two_s], base + "/xy.mul", sxy.shape)
        xy = self._node("Add", [xy.name, offs], base + "/xy.add", sxy.shape)
        sq = self._node("Mul", [swh.name, swh.name], base + "/wh.sq", swh.shape)
        gain = self._const(base + "/wh.gain", (4.0 * yolo_anchor_grid(h, w, anchors)).astype(np.float32))
        wh = self._node("Mul", [sq.name, gain], base + "/wh.mul", swh.shape)
        cat = self._node("Concat", [xy.name, wh.name, rest.name], base + "/cat", y.shape, axis=-1)
        return self._reshape(cat, [n, -1, no], (n, na * h * w, no), base + "/rows")

    # --- the model -----------------------------------------------------------------------------
    def model(self, graph_name: str, doc: str, metadata: dict[str, str]) -> onnx.ModelProto:
        helper = self._helper
        graph = helper.make_graph(self.nodes, graph_name, self.inputs, self.outputs, self.initializers)
        model: onnx.ModelProto = helper.make_model(
            graph,
            producer_name="trt-matrix",
            opset_imports=[helper.make_opsetid("", OPSET)],
            doc_string=doc,
        )
        model.ir_version = IR_VERSION
        for key in sorted(metadata):
            entry = model.metadata_props.add()
            entry.key = key
            entry.value = metadata[key]
        return model


def build_onnx(spec: ModelSpec, weights: Weights) -> onnx.ModelProto:
    """The ONNX model of a registry model with the given weights (deterministic)."""
    from matrix.models.nets.ops import DictSource

    if weights.anchors is not None:
        spec = spec.with_anchors(weights.anchors)
    ops = OnnxOps(DictSource(weights.tensors, weights.label))
    spec.program()(ops)
    doc = (
        f"{spec.name} ({spec.family} {spec.variant}), weights {weights.label}. "
        "Built by trt-matrix (matrix/models) with onnx.helper."
    )
    metadata = {
        "trt_matrix.model": spec.name,
        "trt_matrix.weights": weights.label,
        "trt_matrix.weights_sha256": weights.sha256,
    }
    return ops.model(spec.name, doc, metadata)
