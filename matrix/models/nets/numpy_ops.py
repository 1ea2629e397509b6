"""A numpy backend for the model programs: runs them on the CPU, without onnx or TensorRT.

Contract: `NumpyOps(source).run(program, input)` evaluates a model program on an NCHW array and
returns its outputs by name, in float32, or in float64 with `dtype=np.float64` (synthetic-weight
calibration uses it, so that its statistics do not depend on the BLAS). Plain numpy convolutions:
slow, meant for the calibration pass and small inputs. It is also an implementation of every op
independent of ONNX Runtime, which tests compare ORT (and the recorded TensorRT layers) against.
A `WeightSource` may observe activations (`observe_bn`, `observe_head`). Python 3.8, numpy only.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from matrix.models.nets.ops import Ops, Shape, WeightSource, pad_of, yolo_anchor_grid, yolo_grid


def conv2d(
    x: np.ndarray, w: np.ndarray, b: np.ndarray | None, s: int, p: int, groups: int, dtype: type = np.float32
) -> np.ndarray:
    """Grouped 2-D cross-correlation, NCHW, as torch.nn.functional.conv2d, in `dtype`."""
    x = x.astype(dtype, copy=False)
    w = w.astype(dtype, copy=False)
    n, c, h, wd = x.shape
    o, cg, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p))) if p else x
    ho = (h + 2 * p - k) // s + 1
    wo = (wd + 2 * p - k) // s + 1
    sn, sc, sh, sw = xp.strides
    patches = np.lib.stride_tricks.as_strided(
        xp, shape=(n, c, ho, wo, k, k), strides=(sn, sc, sh * s, sw * s, sh, sw), writeable=False
    )
    if groups == 1:
        cols = patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
        out = cols @ w.reshape(o, -1).T
        out = out.reshape(n, ho, wo, o).transpose(0, 3, 1, 2)
    else:
        og = o // groups
        pg = patches.reshape(n, groups, cg, ho, wo, k, k)
        wg = w.reshape(groups, og, cg, k, k)
        out = np.einsum("ngchwij,gocij->ngohw", pg, wg, optimize=True).reshape(n, o, ho, wo)
    out = np.ascontiguousarray(out, dtype=dtype)
    if b is not None:
        out += b.reshape(1, -1, 1, 1).astype(dtype)
    return out


def _pool_windows(x: np.ndarray, k: int, s: int, ho: int, wo: int) -> np.ndarray:
    sn, sc, sh, sw = x.strides
    return np.lib.stride_tricks.as_strided(
        x,
        shape=(x.shape[0], x.shape[1], ho, wo, k, k),
        strides=(sn, sc, sh * s, sw * s, sh, sw),
        writeable=False,
    )


class NumpyOps(Ops):
    """Tensors are numpy arrays of `dtype` (float32 unless asked otherwise)."""

    def __init__(self, source: WeightSource, dtype: type = np.float32) -> None:
        super().__init__(source)
        self.dtype = dtype
        self.inputs: dict[str, np.ndarray] = {}
        self.outputs: dict[str, np.ndarray] = {}

    def run(self, program: Callable[[Ops], Any], x: np.ndarray) -> dict[str, np.ndarray]:
        self.inputs = {"": np.ascontiguousarray(x, dtype=self.dtype)}
        self.outputs = {}
        program(self)
        return dict(self.outputs)

    def shape(self, x: Any) -> Shape:
        return tuple(int(d) for d in x.shape)

    def input(self, name: str, shape: Shape) -> Any:
        x = self.inputs[""]
        if x.shape[1:] != tuple(shape[1:]):
            raise ValueError(f"input {name} has shape {x.shape}, the program wants {shape}")
        return x

    def output(self, x: Any, name: str) -> Any:
        self.outputs[name] = x
        return x

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
        cin = x.shape[1]
        w = self.weight(conv + ".weight", (out_ch, cin // groups, k, k))
        y = conv2d(x, w, None, s, pad_of(k, p), groups, self.dtype)
        self.source.observe_bn(bn, y)
        gamma, beta, mean, var = self.bn_params(bn, out_ch)
        scale = gamma / np.sqrt(var + eps)
        shift = beta - mean * scale
        return (y * scale.reshape(1, -1, 1, 1) + shift.reshape(1, -1, 1, 1)).astype(self.dtype)

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
        cin = x.shape[1]
        w = self.weight(name + ".weight", (out_ch, cin // groups, k, k))
        b = self.weight(name + ".bias", (out_ch,))
        y = conv2d(x, w, b, s, pad_of(k, p), groups, self.dtype)
        if role and self.source.observe_head(name, role, y):
            w = self.weight(name + ".weight", (out_ch, cin // groups, k, k))
            b = self.weight(name + ".bias", (out_ch,))
            y = conv2d(x, w, b, s, pad_of(k, p), groups, self.dtype)
        return y

    def act(self, x: Any, kind: str, alpha: float = 0.0) -> Any:
        if kind == "relu":
            return np.maximum(x, 0.0).astype(self.dtype)
        if kind == "leaky":
            return np.where(x >= 0, x, x * self.dtype(alpha)).astype(self.dtype)
        if kind == "sigmoid":
            return _sigmoid(x).astype(self.dtype)
        if kind == "silu":
            return (x * _sigmoid(x)).astype(self.dtype)
        raise ValueError(kind)

    def add(self, a: Any, b: Any) -> Any:
        return (a + b).astype(self.dtype)

    def scale(self, x: Any, name: str) -> Any:
        return (x * self.weight(name + ".scale", ())).astype(self.dtype)

    def concat(self, xs: Sequence[Any], axis: int = 1) -> Any:
        return np.concatenate(list(xs), axis=axis)

    def upsample_like(self, x: Any, ref: Any) -> Any:
        fy = ref.shape[2] // x.shape[2]
        fx = ref.shape[3] // x.shape[3]
        return np.repeat(np.repeat(x, fy, axis=2), fx, axis=3)

    def maxpool(self, x: Any, k: int, s: int, p: int) -> Any:
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf) if p else x
        ho = (x.shape[2] + 2 * p - k) // s + 1
        wo = (x.shape[3] + 2 * p - k) // s + 1
        return np.ascontiguousarray(_pool_windows(xp, k, s, ho, wo).max(axis=(4, 5)))

    def avgpool_ceil(self, x: Any, k: int) -> Any:
        h, w = x.shape[2], x.shape[3]
        ho, wo = -(-h // k), -(-w // k)
        ph, pw = ho * k - h, wo * k - w
        xp = np.pad(x, ((0, 0), (0, 0), (0, ph), (0, pw)))
        ones = np.pad(np.ones((1, 1, h, w), self.dtype), ((0, 0), (0, 0), (0, ph), (0, pw)))
        total = _pool_windows(xp, k, k, ho, wo).sum(axis=(4, 5))
        count = _pool_windows(ones, k, k, ho, wo).sum(axis=(4, 5))
        return (total / count).astype(self.dtype)

    def rows(self, x: Any, width: int) -> Any:
        n = x.shape[0]
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1).reshape(n, -1, width))

    def softmax_last(self, x: Any) -> Any:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return (e / e.sum(axis=-1, keepdims=True)).astype(self.dtype)

    def yolo_decode(self, x: Any, stride: int, anchors: Sequence[tuple[float, float]]) -> Any:
        n, c, h, w = x.shape
        na = len(anchors)
        no = c // na
        y: np.ndarray = _sigmoid(x.reshape(n, na, no, h, w).transpose(0, 1, 3, 4, 2)).astype(self.dtype)
        xy = (y[..., 0:2] * 2.0 - 0.5 + yolo_grid(h, w, na)) * float(stride)
        wh = (y[..., 2:4] * 2.0) ** 2 * yolo_anchor_grid(h, w, anchors)
        out = np.concatenate([xy, wh, y[..., 4:]], axis=-1)
        return np.ascontiguousarray(out.reshape(n, -1, no), dtype=self.dtype)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -60.0, 60.0)))
    return out


__all__ = ["NumpyOps", "conv2d"]
