"""SCRFD 500M and 2.5G with keypoints (insightface `scrfd_500m_bnkps` / `scrfd_2.5g_bnkps`) as a program.

Contract: `build(ops, cfg)` adds the network and marks the 9 outputs in the order and layout of
insightface's `tools/scrfd2onnx.py` export: `score_8, score_16, score_32` [1, N_s, 1] (sigmoid),
`bbox_8, bbox_16, bbox_32` [1, N_s, 4] (distances in units of the stride), `kps_8, kps_16, kps_32`
[1, N_s, 10], N_s = 2 anchors x H/s x W/s, input `input.1`. The architecture follows the configs
(`configs/scrfd/scrfd_{500m,2.5g}_bnkps.py`): 500M = MobileNetV1 backbone (stage planes 16..288),
PAFPN 16 channels, depthwise-separable head; 2.5G = ResNetV1e BasicBlock backbone (24/48/48/80),
PAFPN 24 channels, plain conv head with a learned box scale per stride. Head: 2 stacked 64-channel
BN+ReLU convs shared by class and box, per stride. Weight names follow the mmdet state dict.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from matrix.models.nets.ops import ROLE_LOGIT, ROLE_REG, Ops

STRIDES = (8, 16, 32)
ANCHORS_PER_CELL = 2
BASE_SIZES = (16, 64, 256)  # anchor base size per stride; scales (1, 2): sizes 16/32, 64/128, 256/512
INPUT_NAME = "input.1"
OUTPUT_NAMES = tuple(
    f"{kind}_{s}" for kind in ("score", "bbox", "kps") for s in STRIDES
)  # score_8 score_16 score_32 bbox_8 ... kps_32


@dataclasses.dataclass(frozen=True)
class ScrfdConfig:
    variant: str  # "500m" or "2.5g"
    height: int = 640
    width: int = 640

    @property
    def neck_channels(self) -> int:
        return 16 if self.variant == "500m" else 24

    @property
    def head_dw(self) -> bool:
        return self.variant == "500m"

    @property
    def use_scale(self) -> bool:
        return self.variant == "2.5g"  # scale_mode=2 in the 2.5G config, 0 in the 500M config


FEAT = 64  # head feat_channels
STACKED = 2


def _cbr(ops: Ops, x: Any, conv: str, bn: str, out: int, k: int, s: int = 1, groups: int = 1) -> Any:
    return ops.act(ops.conv_bn(x, conv, bn, out, k, s, k // 2, groups=groups), "relu")


def _dw(ops: Ops, x: Any, name: str, out: int, s: int) -> Any:
    cin = ops.shape(x)[1]
    y = _cbr(ops, x, name + ".0", name + ".1", cin, 3, s, groups=cin)
    return _cbr(ops, y, name + ".3", name + ".4", out, 1)


def mobilenet_v1(ops: Ops, x: Any) -> list[Any]:
    planes = (16, 16, 40, 72, 152, 288)
    blocks = (2, 3, 2, 6)
    x = _cbr(ops, x, "backbone.stem.0.0", "backbone.stem.0.1", planes[0], 3, 2)
    x = _dw(ops, x, "backbone.stem.1", planes[1], 1)
    outs = []
    for i, n in enumerate(blocks):
        for j in range(n):
            x = _dw(ops, x, f"backbone.layer{i + 1}.{j}", planes[i + 2], 2 if j == 0 else 1)
        outs.append(x)
    return outs


def _basic(ops: Ops, x: Any, name: str, planes: int, stride: int) -> Any:
    cin = ops.shape(x)[1]
    y = _cbr(ops, x, name + ".conv1", name + ".bn1", planes, 3, stride)
    y = ops.conv_bn(y, name + ".conv2", name + ".bn2", planes, 3, 1, 1)
    if stride != 1 or cin != planes:
        if stride != 1:
            x = ops.avgpool_ceil(x, stride)  # ResNetV1e avg_down: AvgPool then a 1x1 conv of stride 1
        x = ops.conv_bn(x, name + ".downsample.1", name + ".downsample.2", planes, 1, 1, 0)
    return ops.act(ops.add(y, x), "relu")


def resnet_v1e(ops: Ops, x: Any) -> list[Any]:
    x = _cbr(ops, x, "backbone.stem.0", "backbone.stem.1", 12, 3, 2)
    x = _cbr(ops, x, "backbone.stem.3", "backbone.stem.4", 12, 3, 1)
    x = _cbr(ops, x, "backbone.stem.6", "backbone.stem.7", 24, 3, 1)
    x = ops.maxpool(x, 2, 2, 0)  # no_pool33: MaxPool2d(2, 2)
    outs = []
    for i, (n, planes) in enumerate(zip((3, 5, 3, 2), (24, 48, 48, 80))):
        for j in range(n):
            stride = 2 if (j == 0 and i > 0) else 1
            x = _basic(ops, x, f"backbone.layer{i + 1}.{j}", planes, stride)
        outs.append(x)
    return outs


def pafpn(ops: Ops, inputs: list[Any], out: int) -> list[Any]:
    """mmdet PAFPN, start_level=1, no norm, no activation (ConvModule with bias)."""
    lat = [ops.conv(inputs[i + 1], f"neck.lateral_convs.{i}.conv", out, 1, 1, 0) for i in range(3)]
    for i in (2, 1):
        lat[i - 1] = ops.add(lat[i - 1], ops.upsample_like(lat[i], lat[i - 1]))
    inter = [ops.conv(lat[i], f"neck.fpn_convs.{i}.conv", out, 3, 1, 1) for i in range(3)]
    for i in range(2):
        inter[i + 1] = ops.add(inter[i + 1], ops.conv(inter[i], f"neck.downsample_convs.{i}.conv", out, 3, 2, 1))
    return [inter[0]] + [ops.conv(inter[i], f"neck.pafpn_convs.{i - 1}.conv", out, 3, 1, 1) for i in (1, 2)]


def _key(stride: int) -> str:
    return f"({stride}, {stride})"  # mmdet keys its per-stride ModuleDicts by str((s, s))


def build(ops: Ops, cfg: ScrfdConfig) -> None:
    x = ops.input(INPUT_NAME, (1, 3, cfg.height, cfg.width))
    feats = pafpn(ops, mobilenet_v1(ops, x) if cfg.variant == "500m" else resnet_v1e(ops, x), cfg.neck_channels)
    scores, boxes, kpss = [], [], []
    for level, (stride, f) in enumerate(zip(STRIDES, feats)):
        base = f"bbox_head.cls_stride_convs.{_key(stride)}"
        h = f
        for i in range(STACKED):
            name = f"{base}.{i}"
            if cfg.head_dw:
                cin = ops.shape(h)[1]
                h = _cbr(ops, h, name + ".depthwise_conv.conv", name + ".depthwise_conv.bn", cin, 3, groups=cin)
                h = _cbr(ops, h, name + ".pointwise_conv.conv", name + ".pointwise_conv.bn", FEAT, 1)
            else:
                h = _cbr(ops, h, name + ".conv", name + ".bn", FEAT, 3)
        cls = ops.conv(h, f"bbox_head.stride_cls.{_key(stride)}", ANCHORS_PER_CELL, 3, 1, 1, role=ROLE_LOGIT)
        reg = ops.conv(h, f"bbox_head.stride_reg.{_key(stride)}", ANCHORS_PER_CELL * 4, 3, 1, 1, role=ROLE_REG)
        if cfg.use_scale:
            reg = ops.scale(reg, f"bbox_head.scales.{level}")
        kps = ops.conv(h, f"bbox_head.stride_kps.{_key(stride)}", ANCHORS_PER_CELL * 10, 3, 1, 1, role=ROLE_REG)
        scores.append(ops.act(ops.rows(cls, 1), "sigmoid"))
        boxes.append(ops.rows(reg, 4))
        kpss.append(ops.rows(kps, 10))
    for name, t in zip(OUTPUT_NAMES, scores + boxes + kpss):
        ops.output(t, name)
