"""Post-processing: raw outputs to detections (priors, anchor decoding, landmarks, NMS), in numpy.

Contract: `decode_retinaface`, `decode_scrfd` and `decode_yolov5` turn a model's outputs (by the
registry's output names; batch dimension 1 or absent) into `Detection`s in the image's pixels,
sorted by score. RetinaFace as Pytorch_Retinaface's detect.py (priors, variances 0.1/0.2, softmax
column 1, NMS 0.4); SCRFD as insightface's `SCRFD.detect` (anchor centres at (x, y) * stride, two
per cell, distances times stride, NMS 0.4); YOLOv5 as ultralytics' non_max_suppression (obj * cls,
class-aware NMS 0.45, at most 300). `object_scores` gives each anchor's FP32 "is an object" score,
for accuracy comparisons. Python 3.8, numpy only.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from matrix.models.preprocess import Letterbox


@dataclasses.dataclass(frozen=True)
class Detection:
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in image pixels
    score: float
    landmarks: tuple[tuple[float, float], ...] | None = None
    class_id: int | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"box": [round(v, 2) for v in self.box], "score": round(self.score, 5)}
        if self.landmarks is not None:
            out["landmarks"] = [[round(x, 2), round(y, 2)] for x, y in self.landmarks]
        if self.class_id is not None:
            out["class_id"] = self.class_id
        return out


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of boxes a [N, 4] against b [M, 4] (x1 y1 x2 y2) -> [N, M]."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = np.clip(a[:, 2] - a[:, 0], 0, None) * np.clip(a[:, 3] - a[:, 1], 0, None)
    area_b = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression; indices kept, highest score first."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    keep: list[int] = []
    boxes = np.asarray(boxes, dtype=np.float64)
    while order.size:
        i = int(order[0])
        keep.append(i)
        if order.size == 1:
            break
        overlap = iou(boxes[i : i + 1], boxes[order[1:]])[0]
        order = order[1:][overlap <= threshold]
    return np.asarray(keep, dtype=np.int64)


def _rows(a: np.ndarray, width: int) -> np.ndarray:
    """Drop a leading batch dimension of 1: [1, N, w] or [N, w] -> [N, w]."""
    arr = np.asarray(a, dtype=np.float32)
    return arr.reshape(-1, width)


def _finish(
    boxes: np.ndarray,
    scores: np.ndarray,
    landmarks: np.ndarray | None,
    classes: np.ndarray | None,
    box: Letterbox,
) -> list[Detection]:
    boxes = box.to_image(boxes)
    boxes[:, 0::2] = np.clip(boxes[:, 0::2], 0, box.image_width)
    boxes[:, 1::2] = np.clip(boxes[:, 1::2], 0, box.image_height)
    lms = box.to_image(landmarks) if landmarks is not None else None
    out = []
    for i in range(boxes.shape[0]):
        out.append(
            Detection(
                box=tuple(float(v) for v in boxes[i]),  # type: ignore[arg-type]
                score=float(scores[i]),
                landmarks=None
                if lms is None
                else tuple((float(lms[i, j]), float(lms[i, j + 1])) for j in range(0, 10, 2)),
                class_id=None if classes is None else int(classes[i]),
            )
        )
    return out


# --- RetinaFace -----------------------------------------------------------------------------------
def retinaface_priors(height: int, width: int, steps: Sequence[int], min_sizes: Sequence[Sequence[int]]) -> np.ndarray:
    """Prior boxes [A, 4] as (cx, cy, w, h), normalised to the input, in Pytorch_Retinaface's order."""
    out = []
    for step, sizes in zip(steps, min_sizes):
        fh, fw = -(-height // step), -(-width // step)
        cy, cx = np.meshgrid((np.arange(fh) + 0.5) * step / height, (np.arange(fw) + 0.5) * step / width, indexing="ij")
        per = [np.stack([cx, cy, np.full_like(cx, s / width), np.full_like(cy, s / height)], axis=-1) for s in sizes]
        out.append(np.stack(per, axis=2).reshape(-1, 4))  # cell-major, then anchor size
    return np.concatenate(out, axis=0).astype(np.float32)


def retinaface_boxes(
    loc: np.ndarray,
    landms: np.ndarray,
    priors: np.ndarray,
    variance: tuple[float, float],
    height: int,
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Decoded boxes [A, 4] and landmarks [A, 10] in model-input pixels."""
    loc = _rows(loc, 4).astype(np.float64)
    ldm = _rows(landms, 10).astype(np.float64)
    p = priors.astype(np.float64)
    centre = p[:, :2] + loc[:, :2] * variance[0] * p[:, 2:]
    size = p[:, 2:] * np.exp(loc[:, 2:] * variance[1])
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1)
    pts = p[:, None, :2] + ldm.reshape(-1, 5, 2) * variance[0] * p[:, None, 2:]
    scale = np.array([width, height], dtype=np.float64)
    return (boxes * np.tile(scale, 2)).astype(np.float32), (pts * scale).reshape(-1, 10).astype(np.float32)


def decode_retinaface(
    outputs: dict[str, np.ndarray],
    box: Letterbox,
    height: int,
    width: int,
    steps: Sequence[int],
    min_sizes: Sequence[Sequence[int]],
    variance: tuple[float, float],
    threshold: float,
    nms_threshold: float = 0.4,
    top_k: int = 5000,
    keep_top_k: int = 750,
) -> list[Detection]:
    priors = retinaface_priors(height, width, steps, min_sizes)
    boxes, landms = retinaface_boxes(outputs["loc"], outputs["landms"], priors, variance, height, width)
    scores = _rows(outputs["conf"], 2)[:, 1]
    idx = np.where(scores > threshold)[0]
    idx = idx[np.argsort(-scores[idx], kind="stable")][:top_k]
    keep = idx[nms(boxes[idx], scores[idx], nms_threshold)][:keep_top_k]
    return _finish(boxes[keep], scores[keep], landms[keep], None, box)


# --- SCRFD -----------------------------------------------------------------------------------------
def scrfd_centres(height: int, width: int, stride: int, per_cell: int) -> np.ndarray:
    """Anchor centres [N, 2] (x, y) in input pixels: (col, row) * stride, each repeated per anchor."""
    fh, fw = height // stride, width // stride
    ys, xs = np.mgrid[:fh, :fw]
    centres = (np.stack([xs, ys], axis=-1).astype(np.float32) * stride).reshape(-1, 2)
    return np.repeat(centres, per_cell, axis=0)


def scrfd_level(
    score: np.ndarray,
    bbox: np.ndarray,
    kps: np.ndarray | None,
    height: int,
    width: int,
    stride: int,
    per_cell: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One stride's (scores [N], boxes [N, 4], keypoints [N, 10]) in input pixels."""
    centres = scrfd_centres(height, width, stride, per_cell)
    s = _rows(score, 1)[:, 0]
    d = _rows(bbox, 4) * stride
    boxes = np.concatenate([centres - d[:, :2], centres + d[:, 2:]], axis=1)
    pts = None
    if kps is not None:
        k = _rows(kps, 10) * stride
        pts = (np.tile(centres, 5) + k).astype(np.float32)
    return s, boxes.astype(np.float32), pts


def decode_scrfd(
    outputs: dict[str, np.ndarray],
    box: Letterbox,
    height: int,
    width: int,
    strides: Sequence[int],
    per_cell: int,
    threshold: float,
    nms_threshold: float = 0.4,
) -> list[Detection]:
    all_s, all_b, all_k = [], [], []
    for stride in strides:
        kps = outputs.get(f"kps_{stride}")
        s, b, k = scrfd_level(
            outputs[f"score_{stride}"],
            outputs[f"bbox_{stride}"],
            kps,
            height,
            width,
            stride,
            per_cell,
        )
        sel = s >= threshold
        all_s.append(s[sel])
        all_b.append(b[sel])
        if k is not None:
            all_k.append(k[sel])
    scores = np.concatenate(all_s)
    boxes = np.concatenate(all_b)
    kpss = np.concatenate(all_k) if all_k else None
    keep = nms(boxes, scores, nms_threshold)
    return _finish(boxes[keep], scores[keep], None if kpss is None else kpss[keep], None, box)


# --- YOLOv5 ----------------------------------------------------------------------------------------
def decode_yolov5(
    outputs: dict[str, np.ndarray],
    box: Letterbox,
    threshold: float,
    nms_threshold: float = 0.45,
    max_det: int = 300,
) -> list[Detection]:
    rows = _rows(outputs["output"], outputs["output"].shape[-1]).astype(np.float64)
    rows = rows[rows[:, 4] > threshold]
    conf = rows[:, 5:] * rows[:, 4:5]
    cls = conf.argmax(axis=1)
    score = conf[np.arange(conf.shape[0]), cls]
    sel = score > threshold
    rows, cls, score = rows[sel], cls[sel], score[sel]
    xy, wh = rows[:, :2], rows[:, 2:4]
    boxes = np.concatenate([xy - wh / 2, xy + wh / 2], axis=1)
    offset = boxes + (cls.astype(np.float64) * 4096.0)[:, None]  # class-aware NMS, as ultralytics' max_wh
    keep = nms(offset, score, nms_threshold)[:max_det]
    return _finish(boxes[keep].astype(np.float32), score[keep], None, cls[keep], box)


def object_scores(family: str, outputs: dict[str, np.ndarray], strides: Sequence[int] = (8, 16, 32)) -> np.ndarray:
    """Per-anchor FP32 'this is an object' score, one value per anchor/row, in output order."""
    if family == "retinaface":
        return _rows(outputs["conf"], 2)[:, 1]
    if family == "scrfd":
        return np.concatenate([_rows(outputs[f"score_{s}"], 1)[:, 0] for s in strides])
    if family == "yolov5":
        rows = _rows(outputs["output"], outputs["output"].shape[-1])
        scores: np.ndarray = rows[:, 4] * rows[:, 5:].max(axis=1)
        return scores
    raise ValueError(f"unknown family {family}")


# --- the decode plugin's output (netdef.build_network(..., decode_plugin=...)) ----------------------
PLUGIN_RECORD = 15


def plugin_records(row: np.ndarray) -> np.ndarray:
    """One item's plugin output row [1 + 15 * anchors] -> records [count, 15] (x1 y1 x2 y2 score, 5 x y)."""
    flat = np.asarray(row, dtype=np.float32).reshape(-1)
    count = round(float(flat[0]))
    capacity = (flat.size - 1) // PLUGIN_RECORD
    if not 0 <= count <= capacity:
        raise ValueError(f"plugin output says {count} records, room for {capacity}")
    return flat[1 : 1 + count * PLUGIN_RECORD].reshape(count, PLUGIN_RECORD)


def decode_plugin_output(
    row: np.ndarray, box: Letterbox, threshold: float, nms_threshold: float = 0.4, keep_top_k: int = 750
) -> list[Detection]:
    """Detections from the plugin's output row, with the threshold and NMS of `decode_retinaface`."""
    rec = plugin_records(row)
    rec = rec[rec[:, 4] > threshold]
    order = np.argsort(-rec[:, 4], kind="stable")
    rec = rec[order]
    keep = nms(rec[:, :4], rec[:, 4], nms_threshold)[:keep_top_k]
    return _finish(rec[keep, :4].copy(), rec[keep, 4], rec[keep, 5:].copy(), None, box)
