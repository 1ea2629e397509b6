"""RetinaFace (mobilenet0.25 and ResNet-50) as a model program, layer for layer as Pytorch_Retinaface.

Contract: `build(ops, cfg)` adds the network to a backend and marks its three outputs, in the order
and layout of Pytorch_Retinaface's `RetinaFace(phase='test')` (and its convert_to_onnx.py export):
`loc` [1, A, 4], `conf` [1, A, 2] (softmax, column 1 = face), `landms` [1, A, 10], with A = 2 anchors
per cell over strides 8/16/32 (min sizes 16/32, 64/128, 256/512). Weight names are that repository's
state-dict names (which tensorrtx's retinaface `.wts` files also use). `head_maps(ops, cfg)` stops
before the row reshape, for the decode-plugin network of `netdef.py`. Python 3.8, numpy only.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from matrix.models.nets.ops import ROLE_LOGIT_PAIR, ROLE_REG, Ops

MIN_SIZES = ((16, 32), (64, 128), (256, 512))
STEPS = (8, 16, 32)
VARIANCE = (0.1, 0.2)
ANCHORS_PER_CELL = 2
INPUT_NAME = "input0"
OUTPUT_NAMES = ("loc", "conf", "landms")


@dataclasses.dataclass(frozen=True)
class RetinaFaceConfig:
    backbone: str  # "mobilenet0.25" or "resnet50"
    height: int = 640
    width: int = 640

    @property
    def out_channels(self) -> int:
        return 64 if self.backbone == "mobilenet0.25" else 256

    @property
    def leaky(self) -> float:
        # Pytorch_Retinaface: FPN and SSH use LeakyReLU(0.1) when out_channels <= 64, else ReLU
        return 0.1 if self.out_channels <= 64 else 0.0


def num_anchors(height: int, width: int) -> int:
    return sum(-(-height // s) * -(-width // s) * ANCHORS_PER_CELL for s in STEPS)


def _act(ops: Ops, x: Any, leaky: float) -> Any:
    return ops.act(x, "leaky", leaky) if leaky > 0 else ops.act(x, "relu")


def _conv_bn(ops: Ops, x: Any, name: str, out: int, k: int, s: int, leaky: float | None) -> Any:
    y = ops.conv_bn(x, name + ".0", name + ".1", out, k, s, k // 2)
    return y if leaky is None else _act(ops, y, leaky)


def _conv_dw(ops: Ops, x: Any, name: str, out: int, s: int) -> Any:
    cin = ops.shape(x)[1]
    y = ops.act(ops.conv_bn(x, name + ".0", name + ".1", cin, 3, s, 1, groups=cin), "leaky", 0.1)
    return ops.act(ops.conv_bn(y, name + ".3", name + ".4", out, 1, 1, 0), "leaky", 0.1)


def mobilenet025(ops: Ops, x: Any) -> tuple[Any, Any, Any]:
    x = _conv_bn(ops, x, "body.stage1.0", 8, 3, 2, 0.1)
    for i, (out, s) in enumerate(((16, 1), (32, 2), (32, 1), (64, 2), (64, 1)), start=1):
        x = _conv_dw(ops, x, f"body.stage1.{i}", out, s)
    c3 = x
    for i in range(6):
        x = _conv_dw(ops, x, f"body.stage2.{i}", 128, 2 if i == 0 else 1)
    c4 = x
    for i in range(2):
        x = _conv_dw(ops, x, f"body.stage3.{i}", 256, 2 if i == 0 else 1)
    return c3, c4, x


def _bottleneck(ops: Ops, x: Any, name: str, width: int, stride: int) -> Any:
    cin = ops.shape(x)[1]
    y = ops.act(ops.conv_bn(x, name + ".conv1", name + ".bn1", width, 1, 1, 0), "relu")
    y = ops.act(ops.conv_bn(y, name + ".conv2", name + ".bn2", width, 3, stride, 1), "relu")
    y = ops.conv_bn(y, name + ".conv3", name + ".bn3", width * 4, 1, 1, 0)
    if stride != 1 or cin != width * 4:
        x = ops.conv_bn(x, name + ".downsample.0", name + ".downsample.1", width * 4, 1, stride, 0)
    return ops.act(ops.add(y, x), "relu")


def resnet50(ops: Ops, x: Any) -> tuple[Any, Any, Any]:
    x = ops.act(ops.conv_bn(x, "body.conv1", "body.bn1", 64, 7, 2, 3), "relu")
    x = ops.maxpool(x, 3, 2, 1)
    feats: list[Any] = []
    for li, (blocks, width) in enumerate(((3, 64), (4, 128), (6, 256), (3, 512)), start=1):
        for b in range(blocks):
            stride = 2 if (b == 0 and li > 1) else 1
            x = _bottleneck(ops, x, f"body.layer{li}.{b}", width, stride)
        feats.append(x)
    return feats[1], feats[2], feats[3]


def _ssh(ops: Ops, x: Any, name: str, out: int, leaky: float) -> Any:
    c3 = _conv_bn(ops, x, name + ".conv3X3", out // 2, 3, 1, None)
    c5_1 = _conv_bn(ops, x, name + ".conv5X5_1", out // 4, 3, 1, leaky)
    c5 = _conv_bn(ops, c5_1, name + ".conv5X5_2", out // 4, 3, 1, None)
    c7_2 = _conv_bn(ops, c5_1, name + ".conv7X7_2", out // 4, 3, 1, leaky)
    c7 = _conv_bn(ops, c7_2, name + ".conv7x7_3", out // 4, 3, 1, None)
    return ops.act(ops.concat([c3, c5, c7], axis=1), "relu")


def features(ops: Ops, cfg: RetinaFaceConfig) -> list[Any]:
    """Backbone, FPN and SSH: the three feature maps the heads read (strides 8, 16, 32)."""
    x = ops.input(INPUT_NAME, (1, 3, cfg.height, cfg.width))
    c3, c4, c5 = mobilenet025(ops, x) if cfg.backbone == "mobilenet0.25" else resnet50(ops, x)
    out, leaky = cfg.out_channels, cfg.leaky
    o1 = _conv_bn(ops, c3, "fpn.output1", out, 1, 1, leaky)
    o2 = _conv_bn(ops, c4, "fpn.output2", out, 1, 1, leaky)
    o3 = _conv_bn(ops, c5, "fpn.output3", out, 1, 1, leaky)
    o2 = _conv_bn(ops, ops.add(o2, ops.upsample_like(o3, o2)), "fpn.merge2", out, 3, 1, leaky)
    o1 = _conv_bn(ops, ops.add(o1, ops.upsample_like(o2, o1)), "fpn.merge1", out, 3, 1, leaky)
    return [_ssh(ops, f, f"ssh{i + 1}", out, leaky) for i, f in enumerate((o1, o2, o3))]


def head_maps(ops: Ops, cfg: RetinaFaceConfig) -> list[tuple[Any, Any, Any]]:
    """Per level: (bbox [1, 8, H, W], class logits [1, 4, H, W], landmarks [1, 20, H, W])."""
    maps = []
    for i, f in enumerate(features(ops, cfg)):
        box = ops.conv(f, f"BboxHead.{i}.conv1x1", ANCHORS_PER_CELL * 4, 1, 1, 0, role=ROLE_REG)
        cls = ops.conv(f, f"ClassHead.{i}.conv1x1", ANCHORS_PER_CELL * 2, 1, 1, 0, role=ROLE_LOGIT_PAIR)
        ldm = ops.conv(f, f"LandmarkHead.{i}.conv1x1", ANCHORS_PER_CELL * 10, 1, 1, 0, role=ROLE_REG)
        maps.append((box, cls, ldm))
    return maps


def build(ops: Ops, cfg: RetinaFaceConfig) -> None:
    maps = head_maps(ops, cfg)
    loc = ops.concat([ops.rows(b, 4) for b, _, _ in maps], axis=1)
    conf = ops.softmax_last(ops.concat([ops.rows(c, 2) for _, c, _ in maps], axis=1))
    landms = ops.concat([ops.rows(m, 10) for _, _, m in maps], axis=1)
    ops.output(loc, "loc")
    ops.output(conf, "conf")
    ops.output(landms, "landms")
