"""tensorrtx-style network definitions: RetinaFace and YOLOv5 built layer by layer with the TensorRT API.

Contract: `build_network(trt, network, name, weights)` adds a registry model to an explicit-batch
`INetworkDefinition` (see `create_network`) with add_input, add_convolution_nd, add_scale (batch norm,
unfused, as tensorrtx does), add_activation, add_elementwise, add_resize, add_pooling_nd,
add_concatenation, add_shuffle, add_softmax, add_slice and add_constant, and marks the same outputs,
with the same names and shapes, as the ONNX model. `decode_plugin=` (RetinaFace only) ends the network
in the RetinaFaceDecode_TRTM plugin instead (output `prob`, [1, 1 + 15 * anchors]). API differences
between releases are found by feature detection (hasattr), never by version numbers. The returned
`Netdef` keeps the weight arrays alive until the engine is built (TensorRT reads them then). The
`tensorrt` module is an argument; this module imports numpy only (Python 3.8).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from matrix.errors import UserError
from matrix.models import registry
from matrix.models.nets import retinaface
from matrix.models.nets.ops import DictSource, Ops, Shape, pad_of, yolo_anchor_grid, yolo_grid

PLUGIN_OUTPUT = "prob"  # tensorrtx's output blob name


@dataclasses.dataclass
class Netdef:
    outputs: list[str]
    keep_alive: list[np.ndarray]
    layers: int
    api: dict[str, str]  # which API each feature used, e.g. {"convolution": "add_convolution_nd"}


def create_network(trt: Any, builder: Any) -> Any:
    """An explicit-batch network: the EXPLICIT_BATCH flag where it exists (8.x-10.x), none in 11.x."""
    flags = getattr(trt, "NetworkDefinitionCreationFlag", None)
    explicit = getattr(flags, "EXPLICIT_BATCH", None) if flags is not None else None
    return builder.create_network(0 if explicit is None else 1 << int(explicit))


class TrtOps(Ops):
    def __init__(self, trt: Any, network: Any, source: DictSource, name_layers: bool = True) -> None:
        super().__init__(source)
        self.trt = trt
        self.net = network
        self.name_layers = name_layers
        self.keep: list[np.ndarray] = []
        self.layers = 0
        self.output_names: list[str] = []
        self.api: dict[str, str] = {}
        interp = getattr(trt, "InterpolationMode", None) or getattr(trt, "ResizeMode", None)
        if interp is None:
            raise UserError("this tensorrt has neither InterpolationMode nor ResizeMode: cannot add a resize")
        self._interp: Any = interp

    # --- plumbing ------------------------------------------------------------------------------
    def _weights(self, arr: np.ndarray) -> Any:
        a = np.ascontiguousarray(arr, dtype=np.float32)
        self.keep.append(a)
        return self.trt.Weights(a)

    def _done(self, layer: Any, name: str) -> Any:
        if layer is None:
            raise UserError(f"TensorRT returned no layer for {name}")
        self.layers += 1
        if self.name_layers:
            layer.name = name
        return layer.get_output(0)

    def _set(self, layer: Any, nd: str, legacy: str, value: Any) -> None:
        setattr(layer, nd if hasattr(layer, nd) else legacy, value)

    def shape(self, x: Any) -> Shape:
        return tuple(int(d) for d in x.shape)

    def input(self, name: str, shape: Shape) -> Any:
        self.api["input"] = "add_input"
        return self.net.add_input(name, self.trt.float32, tuple(shape))

    def output(self, x: Any, name: str) -> Any:
        x.name = name
        self.net.mark_output(x)
        self.output_names.append(name)
        return x

    # --- layers --------------------------------------------------------------------------------
    def _conv(self, x: Any, name: str, w: np.ndarray, b: np.ndarray | None, k: int, s: int, p: int, groups: int) -> Any:
        bias = self._weights(b) if b is not None else self.trt.Weights()
        if hasattr(self.net, "add_convolution_nd"):
            self.api["convolution"] = "add_convolution_nd"
            layer = self.net.add_convolution_nd(x, int(w.shape[0]), (k, k), self._weights(w), bias)
        else:
            self.api["convolution"] = "add_convolution"
            layer = self.net.add_convolution(x, int(w.shape[0]), (k, k), self._weights(w), bias)
        self._set(layer, "stride_nd", "stride", (s, s))
        self._set(layer, "padding_nd", "padding", (p, p))
        layer.num_groups = groups
        return self._done(layer, name)

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
        cin = self.shape(x)[1]
        w = self.weight(conv + ".weight", (out_ch, cin // groups, k, k))
        y = self._conv(x, conv, w, None, k, s, pad_of(k, p), groups)
        gamma, beta, mean, var = (a.astype(np.float64) for a in self.bn_params(bn, out_ch))
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
        layer = self.net.add_scale(
            y,
            self.trt.ScaleMode.CHANNEL,
            self._weights(shift),
            self._weights(scale),
            self._weights(np.ones(out_ch)),
        )
        return self._done(layer, bn)

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
        cin = self.shape(x)[1]
        w = self.weight(name + ".weight", (out_ch, cin // groups, k, k))
        b = self.weight(name + ".bias", (out_ch,))
        return self._conv(x, name, w, b, k, s, pad_of(k, p), groups)

    def act(self, x: Any, kind: str, alpha: float = 0.0) -> Any:
        A = self.trt.ActivationType
        if kind == "silu":  # no SiLU activation in 8.x: x * sigmoid(x), as tensorrtx's yolov5
            sig = self.act(x, "sigmoid")
            return self._done(self.net.add_elementwise(x, sig, self.trt.ElementWiseOperation.PROD), "silu")
        kinds = {"relu": A.RELU, "leaky": A.LEAKY_RELU, "sigmoid": A.SIGMOID}
        layer = self.net.add_activation(x, kinds[kind])
        if kind == "leaky":
            layer.alpha = float(alpha)
        return self._done(layer, kind)

    def add(self, a: Any, b: Any) -> Any:
        return self._done(self.net.add_elementwise(a, b, self.trt.ElementWiseOperation.SUM), "add")

    def scale(self, x: Any, name: str) -> Any:
        s = self.weight(name + ".scale", ()).reshape(1)
        layer = self.net.add_scale(
            x, self.trt.ScaleMode.UNIFORM, self.trt.Weights(), self._weights(s), self.trt.Weights()
        )
        return self._done(layer, name)

    def concat(self, xs: Sequence[Any], axis: int = 1) -> Any:
        layer = self.net.add_concatenation(list(xs))
        layer.axis = axis if axis >= 0 else len(self.shape(xs[0])) + axis
        return self._done(layer, "concat")

    def upsample_like(self, x: Any, ref: Any) -> Any:
        layer = self.net.add_resize(x)
        layer.shape = self.shape(x)[:2] + self.shape(ref)[2:]
        layer.resize_mode = self._interp.NEAREST
        self.api["resize"] = "InterpolationMode" if hasattr(self.trt, "InterpolationMode") else "ResizeMode"
        rct = getattr(self.trt, "ResizeCoordinateTransformation", None)
        if rct is not None:  # PyTorch's nearest: asymmetric coordinates, floor rounding
            layer.coordinate_transformation = rct.ASYMMETRIC
            layer.nearest_rounding = self.trt.ResizeRoundMode.FLOOR
        return self._done(layer, "upsample")

    def _pool(self, x: Any, kind: Any, k: int) -> Any:
        if hasattr(self.net, "add_pooling_nd"):
            self.api["pooling"] = "add_pooling_nd"
            return self.net.add_pooling_nd(x, kind, (k, k))
        self.api["pooling"] = "add_pooling"
        return self.net.add_pooling(x, kind, (k, k))

    def maxpool(self, x: Any, k: int, s: int, p: int) -> Any:
        layer = self._pool(x, self.trt.PoolingType.MAX, k)
        self._set(layer, "stride_nd", "stride", (s, s))
        self._set(layer, "padding_nd", "padding", (p, p))
        return self._done(layer, "maxpool")

    def avgpool_ceil(self, x: Any, k: int) -> Any:
        layer = self._pool(x, self.trt.PoolingType.AVERAGE, k)
        self._set(layer, "stride_nd", "stride", (k, k))
        layer.padding_mode = self.trt.PaddingMode.EXPLICIT_ROUND_UP  # ceil_mode=True
        layer.average_count_excludes_padding = True
        return self._done(layer, "avgpool")

    def _shuffle(
        self,
        x: Any,
        reshape: tuple[int, ...],
        first: tuple[int, ...] | None = None,
        second: tuple[int, ...] | None = None,
    ) -> Any:
        layer = self.net.add_shuffle(x)
        if first is not None:
            layer.first_transpose = first
        layer.reshape_dims = reshape
        if second is not None:
            layer.second_transpose = second
        return self._done(layer, "shuffle")

    def rows(self, x: Any, width: int) -> Any:
        n = self.shape(x)[0]
        return self._shuffle(x, (n, -1, width), first=(0, 2, 3, 1))

    def softmax_last(self, x: Any) -> Any:
        layer = self.net.add_softmax(x)
        layer.axes = 1 << (len(self.shape(x)) - 1)
        return self._done(layer, "softmax")

    def _const(self, value: np.ndarray) -> Any:
        arr = np.ascontiguousarray(value, dtype=np.float32)
        return self._done(self.net.add_constant(arr.shape, self._weights(arr)), "constant")

    def _slice_last(self, x: Any, start: int, end: int) -> Any:
        shape = self.shape(x)
        begin = (0,) * (len(shape) - 1) + (start,)
        size = (*shape[:-1], end - start)
        return self._done(self.net.add_slice(x, begin, size, (1,) * len(shape)), "slice")

    def yolo_decode(self, x: Any, stride: int, anchors: Sequence[tuple[float, float]]) -> Any:
        n, c, h, w = self.shape(x)
        na = len(anchors)
        no = c // na
        E = self.trt.ElementWiseOperation
        y = self._shuffle(x, (n, na, no, h, w), second=(0, 1, 3, 4, 2))
        y = self.act(y, "sigmoid")
        sxy, swh, rest = self._slice_last(y, 0, 2), self._slice_last(y, 2, 4), self._slice_last(y, 4, no)
        xy = self._done(
            self.net.add_elementwise(sxy, self._const(np.full((1, 1, 1, 1, 1), 2.0 * stride)), E.PROD), "xy"
        )
        xy = self._done(self.net.add_elementwise(xy, self._const((yolo_grid(h, w, na) - 0.5) * stride), E.SUM), "xy")
        sq = self._done(self.net.add_elementwise(swh, swh, E.PROD), "wh")
        wh = self._done(self.net.add_elementwise(sq, self._const(4.0 * yolo_anchor_grid(h, w, anchors)), E.PROD), "wh")
        cat = self.concat([xy, wh, rest], axis=4)
        return self._shuffle(cat, (n, -1, no))

    def plugin(self, inputs: Sequence[Any], plugin: Any) -> Any:
        self.api["plugin"] = "add_plugin_v2"
        return self._done(self.net.add_plugin_v2(list(inputs), plugin), "decode_plugin")


def build_network(
    trt: Any,
    network: Any,
    name: str,
    weights: dict[str, np.ndarray],
    *,
    height: int = 640,
    width: int = 640,
    decode_plugin: Any = None,
    anchors: tuple[tuple[tuple[float, float], ...], ...] | None = None,
    name_layers: bool = True,
) -> Netdef:
    """Adds model `name` (retinaface-mnet, retinaface-r50 or yolov5s) to `network`.

    weights: state-dict names -> arrays (`weights.load(...).tensors`, `weights.synthetic(...).tensors`
    or a .wts read with `wts.read_wts` and checked with `weights.check`). decode_plugin: a plugin object
    from `plugin.create` (RetinaFace only)."""
    spec = registry.get(name)
    if not spec.netdef:
        raise UserError(
            "{} has no network-definition builder (the netdef models: {})".format(
                name, ", ".join(n for n in registry.names() if registry.get(n).netdef)
            )
        )
    if (height, width) != (spec.height, spec.width):
        spec = spec.at_size(height, width)
    if anchors is not None:
        spec = spec.with_anchors(anchors)
    ops = TrtOps(trt, network, DictSource(weights, f"weights for {name}"), name_layers)
    if decode_plugin is not None:
        if spec.family != "retinaface":
            raise UserError(f"the decode plugin is RetinaFace's; {name} has none")
        cfg = retinaface.RetinaFaceConfig(spec.variant, spec.height, spec.width)
        levels = [ops.concat([b, c, m], axis=1) for b, c, m in retinaface.head_maps(ops, cfg)]
        ops.output(ops.plugin(levels, decode_plugin), PLUGIN_OUTPUT)
    else:
        spec.program()(ops)
    return Netdef(outputs=ops.output_names, keep_alive=ops.keep, layers=ops.layers, api=dict(ops.api))


def plugin_output_shape(height: int = 640, width: int = 640) -> tuple[int, int]:
    """The decode plugin's output [1, 1 + 15 * anchors] for an input of height x width."""
    return (1, 1 + 15 * retinaface.num_anchors(height, width))


__all__ = ["PLUGIN_OUTPUT", "Netdef", "TrtOps", "build_network", "create_network", "plugin_output_shape"]
