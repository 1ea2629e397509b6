"""Post-processing: IoU and NMS, priors and anchors in the published order, decoding, plugin rows."""

from __future__ import annotations

from itertools import product

import numpy as np
import pytest

from matrix.models import postprocess as pp
from matrix.models.nets import retinaface
from matrix.models.preprocess import Letterbox

IDENTITY = Letterbox(scale=1.0, pad_x=0.0, pad_y=0.0, image_width=640, image_height=640)


def test_iou_and_nms() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10]], np.float32)
    assert pp.iou(boxes[:1], boxes[1:2])[0, 0] == pytest.approx(81 / 119)
    assert pp.iou(boxes[:1], boxes[2:3])[0, 0] == 0.0
    keep = pp.nms(boxes, np.array([0.9, 0.8, 0.7, 0.95]), 0.5)
    assert keep.tolist() == [3, 2]


def _priorbox_loops(h: int, w: int) -> np.ndarray:
    """Pytorch_Retinaface's PriorBox.forward, restated as its loops (the order the heads' rows use)."""
    anchors = []
    for k, step in enumerate(retinaface.STEPS):
        for i, j in product(range(-(-h // step)), range(-(-w // step))):
            for size in retinaface.MIN_SIZES[k]:
                anchors += [(j + 0.5) * step / w, (i + 0.5) * step / h, size / w, size / h]
    return np.array(anchors, np.float32).reshape(-1, 4)


def test_retinaface_priors_follow_pytorch_retinaface() -> None:
    np.testing.assert_allclose(
        pp.retinaface_priors(64, 96, retinaface.STEPS, retinaface.MIN_SIZES), _priorbox_loops(64, 96)
    )
    assert pp.retinaface_priors(640, 640, retinaface.STEPS, retinaface.MIN_SIZES).shape == (16800, 4)


def test_retinaface_zero_regressions_give_the_priors() -> None:
    priors = pp.retinaface_priors(64, 64, retinaface.STEPS, retinaface.MIN_SIZES)
    n = priors.shape[0]
    boxes, pts = pp.retinaface_boxes(np.zeros((1, n, 4)), np.zeros((1, n, 10)), priors, (0.1, 0.2), 64, 64)
    assert boxes[0].tolist() == pytest.approx([4 - 8, 4 - 8, 4 + 8, 4 + 8])  # first cell, 16 px anchor
    assert pts[1].tolist() == pytest.approx([4.0, 4.0] * 5)  # landmarks at the prior's centre
    conf = np.zeros((1, n, 2), np.float32)
    conf[0, 1] = [0.1, 0.9]
    dets = pp.decode_retinaface(
        {"loc": np.zeros((1, n, 4)), "conf": conf, "landms": np.zeros((1, n, 10))},
        Letterbox(2.0, 0.0, 0.0, 32, 32), 64, 64, retinaface.STEPS, retinaface.MIN_SIZES, (0.1, 0.2), 0.5,
    )  # fmt: skip
    assert len(dets) == 1 and dets[0].score == pytest.approx(0.9)
    assert dets[0].box == pytest.approx((0.0, 0.0, 10.0, 10.0))  # (-12, -12, 20, 20) / 2, clipped at 0
    assert dets[0].landmarks is not None and dets[0].landmarks[0] == pytest.approx((2.0, 2.0))


def test_scrfd_centres_follow_insightface() -> None:
    # insightface: np.stack(np.mgrid[:h, :w][::-1], axis=-1) * stride, each repeated per anchor
    h, w, stride = 3, 4, 8
    grid = np.stack(list(np.mgrid[:h, :w][::-1]), axis=-1).astype(np.float32)
    ref = np.stack([(grid * stride).reshape(-1, 2)] * 2, axis=1).reshape(-1, 2)
    np.testing.assert_array_equal(pp.scrfd_centres(h * stride, w * stride, stride, 2), ref)


def test_scrfd_decodes_distances_times_stride() -> None:
    n = {8: 128, 16: 32, 32: 8}
    outs = {}
    for s, k in n.items():
        outs[f"score_{s}"] = np.zeros((1, k, 1), np.float32)
        outs[f"bbox_{s}"] = np.ones((1, k, 4), np.float32)
        outs[f"kps_{s}"] = np.zeros((1, k, 10), np.float32)
    outs["score_16"][0, 10 * 2 + 1] = 0.8  # cell 10 of the 4x4 map: (x=2, y=2) -> centre (32, 32)
    dets = pp.decode_scrfd({k: v[0] for k, v in outs.items()}, IDENTITY, 64, 64, (8, 16, 32), 2, 0.5)
    assert len(dets) == 1
    assert dets[0].box == pytest.approx((16.0, 16.0, 48.0, 48.0))
    assert dets[0].landmarks is not None and dets[0].landmarks[4] == pytest.approx((32.0, 32.0))


def test_yolov5_confidence_is_objectness_times_class() -> None:
    rows = np.zeros((1, 3, 85), np.float32)
    rows[0, 0, :5] = [100, 100, 20, 40, 0.9]
    rows[0, 0, 5 + 7] = 0.8
    rows[0, 1, :5] = [102, 100, 20, 40, 0.9]
    rows[0, 1, 5 + 7] = 0.5  # same class, overlapping, lower: suppressed
    rows[0, 2, :5] = [101, 100, 20, 40, 0.3]
    rows[0, 2, 5 + 2] = 0.9  # 0.27 < 0.25? no: 0.27 > 0.25, other class: kept beside
    dets = pp.decode_yolov5({"output": rows}, IDENTITY, 0.25)
    assert [(d.class_id, round(d.score, 3)) for d in dets] == [(7, 0.72), (2, 0.27)]
    assert dets[0].box == pytest.approx((90.0, 80.0, 110.0, 120.0))
    scores = pp.object_scores("yolov5", {"output": rows})
    assert scores.tolist() == pytest.approx([0.72, 0.45, 0.27])


def test_plugin_rows_are_read_back() -> None:
    row = np.zeros(1 + 15 * 4, np.float32)
    row[0] = 2
    row[1:16] = [10, 10, 30, 30, 0.9] + [20, 20] * 5
    row[16:31] = [11, 11, 31, 31, 0.6] + [21, 21] * 5
    assert pp.plugin_records(row).shape == (2, 15)
    dets = pp.decode_plugin_output(row, IDENTITY, 0.5)
    assert len(dets) == 1 and dets[0].score == pytest.approx(0.9)
    row[0] = 5
    with pytest.raises(ValueError, match="room for 4"):
        pp.plugin_records(row)
