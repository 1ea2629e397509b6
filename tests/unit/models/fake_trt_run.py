"""A numpy interpreter of the layers `fake_trt.FakeNetwork` recorded (test support).

`run(network, inputs)` evaluates them in order under TensorRT's documented layer semantics, to
check which weights and wiring `matrix.models.netdef` produced. It is not TensorRT and says nothing
about how TensorRT computes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from matrix.models.nets.numpy_ops import conv2d
from tests.unit.models.fake_trt import FakeLayer, FakeNetwork, Shape, Weights


def _w(weights: Weights) -> np.ndarray | None:
    return weights.array


def run(network: FakeNetwork, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    values: dict[int, np.ndarray] = {id(t): inputs[t.name].astype(np.float32) for t in network.inputs}
    for layer in network.layers:
        xs = [values[id(t)] for t in layer.inputs]
        values[id(layer.output)] = _eval(layer, xs)
    return {t.name: values[id(t)] for t in network.outputs}


def _eval(layer: FakeLayer, xs: list[np.ndarray]) -> np.ndarray:
    out: np.ndarray = np.asarray(_eval_any(layer, xs), dtype=np.float32)
    return out


def _eval_any(layer: FakeLayer, xs: list[np.ndarray]) -> Any:
    k = layer.kind.replace("_legacy", "")
    p = layer.params
    if k == "convolution":
        c = xs[0].shape[1]
        g = layer.a("num_groups", 1)
        kh, kw = p["kernel_shape"]
        w = _w(p["kernel"]).reshape(p["out"], c // g, kh, kw)  # type: ignore[union-attr]
        s = tuple(layer.a("stride_nd") or layer.a("stride") or (1, 1))
        pad = tuple(layer.a("padding_nd") or layer.a("padding") or (0, 0))
        return conv2d(xs[0], w, _w(p["bias"]), s[0], pad[0], g)
    if k == "scale":
        shape = (1, -1, 1, 1)
        shift, scale, power = (_w(p[n]) for n in ("shift", "scale", "power"))
        y = xs[0] * (scale.reshape(shape) if scale is not None else 1.0) + (
            shift.reshape(shape) if shift is not None else 0.0
        )
        return (y ** power.reshape(shape) if power is not None else y).astype(np.float32)
    if k == "activation":
        t = p["type"]
        if t.endswith("LEAKY_RELU"):
            return np.where(xs[0] >= 0, xs[0], xs[0] * np.float32(layer.a("alpha", 0.01))).astype(np.float32)
        if t.endswith("RELU"):
            return np.maximum(xs[0], 0)
        return (1.0 / (1.0 + np.exp(-np.clip(xs[0], -60.0, 60.0)))).astype(np.float32)
    if k == "elementwise":
        return (xs[0] + xs[1] if p["op"].endswith("SUM") else xs[0] * xs[1]).astype(np.float32)
    if k == "resize":
        out = layer.a("shape")
        fy, fx = out[2] // xs[0].shape[2], out[3] // xs[0].shape[3]
        return np.repeat(np.repeat(xs[0], fy, axis=2), fx, axis=3)
    if k == "pooling":
        from matrix.models.nets.numpy_ops import NumpyOps
        from matrix.models.nets.ops import SpecSource

        ops = NumpyOps(SpecSource())
        kk = p["window"][0]
        if p["type"].endswith("MAX"):
            s = tuple(layer.a("stride_nd") or layer.a("stride"))
            pad = tuple(layer.a("padding_nd") or layer.a("padding") or (0, 0))
            return ops.maxpool(xs[0], kk, s[0], pad[0])
        return ops.avgpool_ceil(xs[0], kk)
    if k == "concatenation":
        return np.concatenate(xs, axis=layer.a("axis"))
    if k == "shuffle":
        y = xs[0]
        if layer.a("first_transpose") is not None:
            y = y.transpose(layer.a("first_transpose"))
        if layer.a("reshape_dims") is not None:
            y = y.reshape(layer.infer() if layer.a("second_transpose") is None else _pre_second(layer))
        if layer.a("second_transpose") is not None:
            y = y.transpose(layer.a("second_transpose"))
        return np.ascontiguousarray(y)
    if k == "softmax":
        axis = layer.a("axes").bit_length() - 1
        e = np.exp(xs[0] - xs[0].max(axis=axis, keepdims=True))
        return (e / e.sum(axis=axis, keepdims=True)).astype(np.float32)
    if k == "constant":
        return np.asarray(_w(p["weights"])).reshape(p["shape"])
    if k == "slice":
        idx = tuple(slice(st, st + sz * sd, sd) for st, sz, sd in zip(p["start"], p["size"], p["stride"]))
        return np.ascontiguousarray(xs[0][idx])
    raise ValueError(f"no numpy meaning for a {k} layer here")


def _pre_second(layer: FakeLayer) -> Shape:
    out = layer.infer()
    inv = np.argsort(layer.a("second_transpose"))
    return tuple(out[i] for i in inv)
