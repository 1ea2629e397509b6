"""The model registry: one place that says, per model, what goes in, what comes out and how to read it.

Contract: `get(name)` returns the `ModelSpec` of one of `NAMES` (the same names as
`matrix.suite.cells.MODELS`): input name and shape, output names, shapes and roles, the
pre-processing recipe, strides and anchors, whether it has landmarks, which outputs carry the
"is an object" scores, the default weights, where the published shapes come from, and `program()`
(the model program every backend builds from). `spec.at_size(h, w)` gives the same model at another
input size (tests use small ones). `decode(spec, outputs, letterbox, threshold)` and
`object_scores(spec, outputs)` are the post-processing. Imports with numpy only (Python 3.8), so
the suite and the INT8 checks use it inside the images.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import numpy as np

from matrix.errors import UserError
from matrix.models import postprocess, preprocess
from matrix.models.nets import retinaface, scrfd, yolov5
from matrix.models.nets.ops import Ops

NAMES = ("retinaface-mnet", "retinaface-r50", "scrfd-500m", "scrfd-2.5g", "yolov5s")


@dataclasses.dataclass(frozen=True)
class OutputSpec:
    name: str
    shape: tuple[int, ...]
    role: str  # "boxes", "scores", "landmarks" or "detections" (YOLOv5 rows: box, objectness, classes)
    stride: int | None = None  # for per-stride outputs (SCRFD)


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    name: str
    family: str  # "retinaface", "scrfd", "yolov5"
    variant: str  # "mobilenet0.25", "resnet50", "500m", "2.5g", "s"
    input_name: str
    input_shape: tuple[int, int, int, int]
    outputs: tuple[OutputSpec, ...]
    preprocess: preprocess.Preprocess
    strides: tuple[int, ...]
    anchors: tuple[tuple[tuple[float, float], ...], ...]  # per stride: anchor (w, h) in input pixels
    anchors_per_cell: int
    has_landmarks: bool
    score_outputs: tuple[str, ...]
    score_threshold: float  # default for `models detect`
    nms_threshold: float
    netdef: bool  # a tensorrtx-style network-definition builder exists (netdef.py)
    weights_default: str  # "synthetic": deterministic seeded weights; real ones come from --weights
    weights_formats: tuple[str, ...]
    published: str  # where the compared-against output layout comes from

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    @property
    def height(self) -> int:
        return self.input_shape[2]

    @property
    def width(self) -> int:
        return self.input_shape[3]

    def at_size(self, height: int, width: int) -> ModelSpec:
        """The same model at another input size (multiples of 32)."""
        if height % 32 or width % 32 or height <= 0 or width <= 0:
            raise UserError(f"input size {height}x{width}: height and width must be positive multiples of 32")
        return _make(self.name, height, width)

    def program(self) -> Callable[[Ops], None]:
        """The model program: call it with a backend (`Ops`) to build or run the network."""
        h, w = self.height, self.width
        if self.family == "retinaface":
            cfg_r = retinaface.RetinaFaceConfig(self.variant, h, w)
            return lambda ops: retinaface.build(ops, cfg_r)
        if self.family == "scrfd":
            cfg_s = scrfd.ScrfdConfig(self.variant, h, w)
            return lambda ops: scrfd.build(ops, cfg_s)
        cfg_y = yolov5.YoloConfig(h, w, self.anchors)
        return lambda ops: yolov5.build(ops, cfg_y)

    def with_anchors(self, anchors: tuple[tuple[tuple[float, float], ...], ...]) -> ModelSpec:
        return dataclasses.replace(self, anchors=anchors)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["outputs"] = [dict(dataclasses.asdict(o), shape=list(o.shape)) for o in self.outputs]
        return d


def _retinaface(name: str, variant: str, h: int, w: int) -> ModelSpec:
    n = retinaface.num_anchors(h, w)
    return ModelSpec(
        name=name,
        family="retinaface",
        variant=variant,
        input_name=retinaface.INPUT_NAME,
        input_shape=(1, 3, h, w),
        outputs=(
            OutputSpec("loc", (1, n, 4), "boxes"),
            OutputSpec("conf", (1, n, 2), "scores"),
            OutputSpec("landms", (1, n, 10), "landmarks"),
        ),
        preprocess=dataclasses.replace(preprocess.RETINAFACE, height=h, width=w),
        strides=retinaface.STEPS,
        anchors=tuple(tuple((float(s), float(s)) for s in sizes) for sizes in retinaface.MIN_SIZES),
        anchors_per_cell=retinaface.ANCHORS_PER_CELL,
        has_landmarks=True,
        score_outputs=("conf",),
        score_threshold=0.5,
        nms_threshold=0.4,
        netdef=True,
        weights_default="synthetic",
        weights_formats=(".pth", ".wts"),
        published=(
            "biubug6/Pytorch_Retinaface convert_to_onnx.py (RetinaFace phase='test', --long_side 640): input "
            "'input0' [1,3,640,640]; outputs loc [1,16800,4], conf [1,16800,2] (softmax), "
            "landms [1,16800,10] "
            "(the export names only the first, 'output0'; the others get numbers, so this project names them "
            "loc/conf/landms as detect.py does)"
        ),
    )


def _scrfd(name: str, variant: str, h: int, w: int) -> ModelSpec:
    outs = []
    for kind, width, role in (("score", 1, "scores"), ("bbox", 4, "boxes"), ("kps", 10, "landmarks")):
        for s in scrfd.STRIDES:
            outs.append(OutputSpec(f"{kind}_{s}", (1, (h // s) * (w // s) * 2, width), role, s))
    return ModelSpec(
        name=name,
        family="scrfd",
        variant=variant,
        input_name=scrfd.INPUT_NAME,
        input_shape=(1, 3, h, w),
        outputs=tuple(outs),
        preprocess=dataclasses.replace(preprocess.SCRFD, height=h, width=w),
        strides=scrfd.STRIDES,
        anchors=tuple(((float(b), float(b)), (2.0 * b, 2.0 * b)) for b in scrfd.BASE_SIZES),
        anchors_per_cell=scrfd.ANCHORS_PER_CELL,
        has_landmarks=True,
        score_outputs=tuple(f"score_{s}" for s in scrfd.STRIDES),
        score_threshold=0.5,
        nms_threshold=0.4,
        netdef=False,
        weights_default="synthetic",
        weights_formats=(".onnx",),
        published=(
            "deepinsight/insightface detection/scrfd/tools/scrfd2onnx.py (opset 11, batch dim per PR #1593): "
            "input 'input.1' [1,3,640,640]; outputs score_8/16/32 [1,12800|3200|800,1] (sigmoid), "
            "bbox_8/16/32 [1,N,4], kps_8/16/32 [1,N,10]; insightface's model_zoo/scrfd.py reads them by "
            "position (scores, then boxes, then keypoints), with or without the batch dim"
        ),
    )


def _yolov5(name: str, h: int, w: int) -> ModelSpec:
    return ModelSpec(
        name=name,
        family="yolov5",
        variant="s",
        input_name=yolov5.INPUT_NAME,
        input_shape=(1, 3, h, w),
        outputs=(OutputSpec("output", (1, yolov5.num_rows(h, w), yolov5.NO), "detections"),),
        preprocess=dataclasses.replace(preprocess.YOLOV5, height=h, width=w),
        strides=yolov5.STRIDES,
        anchors=yolov5.ANCHORS,
        anchors_per_cell=3,
        has_landmarks=False,
        score_outputs=("output",),
        score_threshold=0.25,
        nms_threshold=0.45,
        netdef=True,
        weights_default="synthetic",
        weights_formats=(".wts",),
        published=(
            "ultralytics/yolov5 v6.0 export.py (--include onnx, opset 12/13): input 'images' [1,3,640,640]; "
            "output 'output' [1,25200,85] (decoded xywh, objectness, 80 classes). The v6.0 export also "
            "listed the three raw Detect maps [1,3,80|40|20,80|40|20,85] as extra unnamed outputs; they "
            "are intermediate tensors here. tensorrtx's yolov5 ends in its YoloLayer plugin instead"
        ),
    )


def _make(name: str, h: int = 640, w: int = 640) -> ModelSpec:
    if name == "retinaface-mnet":
        return _retinaface(name, "mobilenet0.25", h, w)
    if name == "retinaface-r50":
        return _retinaface(name, "resnet50", h, w)
    if name == "scrfd-500m":
        return _scrfd(name, "500m", h, w)
    if name == "scrfd-2.5g":
        return _scrfd(name, "2.5g", h, w)
    if name == "yolov5s":
        return _yolov5(name, h, w)
    raise UserError("unknown model {!r}; the models are: {}".format(name, ", ".join(NAMES)))


_SPECS = {n: _make(n) for n in NAMES}


def names() -> list[str]:
    return list(NAMES)


def get(name: str) -> ModelSpec:
    """The spec of a model by name (also accepts the family name 'scrfd' as scrfd-500m's layout)."""
    if name == "scrfd":
        return _SPECS["scrfd-500m"]
    if name not in _SPECS:
        raise UserError("unknown model {!r}; the models are: {}".format(name, ", ".join(NAMES)))
    return _SPECS[name]


def decode(
    spec: ModelSpec,
    outputs: dict[str, np.ndarray],
    box: preprocess.Letterbox,
    threshold: float | None = None,
    nms_threshold: float | None = None,
) -> list[postprocess.Detection]:
    """Outputs (by name) of one image -> detections in that image's pixels."""
    t = spec.score_threshold if threshold is None else threshold
    n = spec.nms_threshold if nms_threshold is None else nms_threshold
    if spec.family == "retinaface":
        return postprocess.decode_retinaface(
            outputs,
            box,
            spec.height,
            spec.width,
            spec.strides,
            retinaface.MIN_SIZES,
            retinaface.VARIANCE,
            t,
            n,
        )
    if spec.family == "scrfd":
        return postprocess.decode_scrfd(
            outputs, box, spec.height, spec.width, spec.strides, spec.anchors_per_cell, t, n
        )
    return postprocess.decode_yolov5(outputs, box, t, n)


def object_scores(spec: ModelSpec, outputs: dict[str, np.ndarray]) -> np.ndarray:
    """One FP32 object score per anchor (RetinaFace conf[:, 1]; SCRFD sigmoid scores; YOLOv5 obj x cls)."""
    return postprocess.object_scores(spec.family, outputs, spec.strides)
