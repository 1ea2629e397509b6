"""YOLOv5s v6.0 as a model program: ultralytics' `models/yolov5s.yaml` at v6.0, as tensorrtx builds it.

Contract: `build(ops, cfg)` adds the network (depth 0.33, width 0.50: 6x6 stem conv, C3 blocks,
SPPF, PANet head, SiLU, BN eps 1e-3) and marks one output, `output` [1, 3*(80²+40²+20²), 85] for a
640 input: ultralytics' Detect in inference mode (sigmoid, xy = (2σ - 0.5 + grid) * stride,
wh = (2σ)² * anchor, then objectness and 80 class scores), input `images`. Weight names are the
ultralytics state-dict names (`model.N...`) that tensorrtx's gen_wts.py writes. Anchors default to
the v6.0 ones; a weights file's `model.24.anchor_grid` may override them (see `anchors_from`).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from matrix.models.nets.ops import ROLE_YOLO, Ops

STRIDES = (8, 16, 32)
ANCHORS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((10.0, 13.0), (16.0, 30.0), (33.0, 23.0)),
    ((30.0, 61.0), (62.0, 45.0), (59.0, 119.0)),
    ((116.0, 90.0), (156.0, 198.0), (373.0, 326.0)),
)
NUM_CLASSES = 80
NO = NUM_CLASSES + 5
INPUT_NAME = "images"
OUTPUT_NAMES = ("output",)
BN_EPS = 1e-3
# Tensors a yolov5 state dict or .wts may carry that are not weights of a layer.
EXTRA_TENSORS = ("model.24.anchors", "model.24.anchor_grid")


@dataclasses.dataclass(frozen=True)
class YoloConfig:
    height: int = 640
    width: int = 640
    anchors: tuple[tuple[tuple[float, float], ...], ...] = ANCHORS


def num_rows(height: int, width: int) -> int:
    return sum(3 * (height // s) * (width // s) for s in STRIDES)


def anchors_from(weights: dict[str, np.ndarray]) -> tuple[tuple[tuple[float, float], ...], ...] | None:
    """Anchors in pixels from `model.24.anchor_grid` ([3, 1, 3, 1, 1, 2], tensorrtx gen_wts) or
    `model.24.anchors` ([3, 3, 2], in units of the stride, ultralytics); None when neither is there."""
    if "model.24.anchor_grid" in weights:
        a = np.asarray(weights["model.24.anchor_grid"], dtype=np.float64).reshape(3, 3, 2)
    elif "model.24.anchors" in weights:
        a = np.asarray(weights["model.24.anchors"], dtype=np.float64).reshape(3, 3, 2)
        a = a * np.asarray(STRIDES, dtype=np.float64).reshape(3, 1, 1)
    else:
        return None
    return tuple(tuple((float(w), float(h)) for w, h in level) for level in a)


def _conv(ops: Ops, x: Any, name: str, out: int, k: int, s: int = 1, p: int | None = None) -> Any:
    y = ops.conv_bn(x, name + ".conv", name + ".bn", out, k, s, k // 2 if p is None else p, eps=BN_EPS)
    return ops.act(y, "silu")


def _c3(ops: Ops, x: Any, name: str, out: int, n: int, shortcut: bool = True) -> Any:
    hidden = out // 2
    a = _conv(ops, x, name + ".cv1", hidden, 1)
    for j in range(n):
        m = f"{name}.m.{j}"
        y = _conv(ops, _conv(ops, a, m + ".cv1", hidden, 1), m + ".cv2", hidden, 3)
        a = ops.add(a, y) if shortcut else y
    b = _conv(ops, x, name + ".cv2", hidden, 1)
    return _conv(ops, ops.concat([a, b], axis=1), name + ".cv3", out, 1)


def _sppf(ops: Ops, x: Any, name: str, out: int) -> Any:
    cin = ops.shape(x)[1]
    a = _conv(ops, x, name + ".cv1", cin // 2, 1)
    y1 = ops.maxpool(a, 5, 1, 2)
    y2 = ops.maxpool(y1, 5, 1, 2)
    y3 = ops.maxpool(y2, 5, 1, 2)
    return _conv(ops, ops.concat([a, y1, y2, y3], axis=1), name + ".cv2", out, 1)


def detect_maps(ops: Ops, cfg: YoloConfig) -> Sequence[Any]:
    """The three Detect convolutions' outputs [1, 255, H/s, W/s], strides 8, 16, 32."""
    x = ops.input(INPUT_NAME, (1, 3, cfg.height, cfg.width))
    x = _conv(ops, x, "model.0", 32, 6, 2, 2)
    x = _conv(ops, x, "model.1", 64, 3, 2)
    x = _c3(ops, x, "model.2", 64, 1)
    x = _conv(ops, x, "model.3", 128, 3, 2)
    p3 = _c3(ops, x, "model.4", 128, 2)
    x = _conv(ops, p3, "model.5", 256, 3, 2)
    p4 = _c3(ops, x, "model.6", 256, 3)
    x = _conv(ops, p4, "model.7", 512, 3, 2)
    x = _c3(ops, x, "model.8", 512, 1)
    x = _sppf(ops, x, "model.9", 512)
    h10 = _conv(ops, x, "model.10", 256, 1)
    x = _c3(ops, ops.concat([ops.upsample_like(h10, p4), p4]), "model.13", 256, 1, shortcut=False)
    h14 = _conv(ops, x, "model.14", 128, 1)
    out17 = _c3(ops, ops.concat([ops.upsample_like(h14, p3), p3]), "model.17", 128, 1, shortcut=False)
    x = _conv(ops, out17, "model.18", 128, 3, 2)
    out20 = _c3(ops, ops.concat([x, h14]), "model.20", 256, 1, shortcut=False)
    x = _conv(ops, out20, "model.21", 256, 3, 2)
    out23 = _c3(ops, ops.concat([x, h10]), "model.23", 512, 1, shortcut=False)
    return [
        ops.conv(f, f"model.24.m.{i}", 3 * NO, 1, 1, 0, role=ROLE_YOLO) for i, f in enumerate((out17, out20, out23))
    ]


def build(ops: Ops, cfg: YoloConfig) -> None:
    maps = detect_maps(ops, cfg)
    levels = [ops.yolo_decode(m, s, a) for m, s, a in zip(maps, STRIDES, cfg.anchors)]
    ops.output(ops.concat(levels, axis=1), "output")
