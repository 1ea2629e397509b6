"""Accuracy maths (3.8): per-output metrics over all anchors and object anchors, detection matching,
recall and precision, and the verdict against thresholds (including synthetic weights, not judged)."""

from __future__ import annotations

import numpy as np
import pytest

from matrix.models import accuracy, compare, registry
from matrix.models.postprocess import Detection


def small_retinaface() -> tuple[registry.ModelSpec, dict[str, np.ndarray]]:
    spec = registry.get("retinaface-mnet").at_size(64, 64)
    n = spec.outputs[0].shape[1]
    rng = np.random.default_rng(0)
    conf = np.zeros((1, n, 2), np.float32)
    conf[0, :, 1] = 0.01
    conf[0, :5, 1] = 0.9  # five object anchors
    conf[0, :, 0] = 1 - conf[0, :, 1]
    ref = {
        "loc": rng.standard_normal((1, n, 4)).astype(np.float32),
        "conf": conf,
        "landms": rng.standard_normal((1, n, 10)).astype(np.float32),
    }
    return spec, ref


def test_background_noise_does_not_hide_accurate_objects() -> None:
    spec, ref = small_retinaface()
    actual = {k: v.copy() for k, v in ref.items()}
    n = ref["loc"].shape[1]
    actual["loc"][0, 5:] = np.random.default_rng(1).standard_normal((n - 5, 4))  # background scrambled
    actual["loc"][0, :5] += 0.01
    m = accuracy.outputs(spec, actual, ref, object_score=0.5)
    assert m["loc"]["cosine"] < 0.5  # over all anchors: the noise dominates
    assert m["loc"]["objects"]["anchors"] == 5
    assert m["loc"]["objects"]["cosine"] > 0.999
    assert m["loc"]["objects"]["max_abs"] == pytest.approx(0.01, abs=1e-6)
    assert m["conf"]["max_abs"] == 0.0 and m["landms"]["objects"]["cosine"] == pytest.approx(1.0)


def test_scrfd_object_anchors_come_from_the_same_stride() -> None:
    spec = registry.get("scrfd-500m").at_size(64, 64)
    ref = {o.name: np.zeros(o.shape, np.float32) + 0.5 for o in spec.outputs}
    ref["score_8"][0, 3, 0] = 0.9
    ref["score_32"][0, 0, 0] = 0.8
    for name in ("score_16",):
        ref[name][...] = 0.1
    scores = accuracy.anchor_scores(spec, ref)
    assert (scores["bbox_8"] >= 0.6).sum() == 1 and (scores["kps_32"] >= 0.6).sum() == 1
    assert (scores["bbox_16"] >= 0.6).sum() == 0
    m = accuracy.outputs(spec, ref, ref, object_score=0.6)
    assert m["bbox_8"]["objects"]["anchors"] == 1 and m["bbox_16"]["objects"] == {"anchors": 0}


def test_several_photos_are_taken_together() -> None:
    spec, ref = small_retinaface()
    twice = [(ref, ref), ({k: v * 2 for k, v in ref.items()}, ref)]
    m = accuracy.outputs_over(spec, twice, 0.5)
    assert m["loc"]["shape"][0] == 2 * ref["loc"].shape[1]
    assert m["loc"]["objects"]["anchors"] == 10
    assert m["loc"]["cosine"] == pytest.approx(
        compare.cosine(np.concatenate([ref["loc"], 2 * ref["loc"]]), np.concatenate([ref["loc"], ref["loc"]]))
    )


def test_shape_mismatch_is_reported_not_reshaped() -> None:
    spec, ref = small_retinaface()
    bad = dict(ref, loc=ref["loc"][:, :-1])
    m = accuracy.outputs(spec, bad, ref)
    assert "shape_mismatch" in m["loc"]
    assert any("shape" in p for p in accuracy.verdict(m, None, {}))


def det(x: float, score: float = 0.9) -> Detection:
    return Detection(box=(x, 0.0, x + 10.0, 10.0), score=score)


def test_matching_is_one_to_one_at_iou_half() -> None:
    ref = [det(0), det(100)]
    assert accuracy.match(ref, [det(1), det(2, 0.5)]) == 1  # two boxes on one face: one match
    assert accuracy.match(ref, [det(0), det(100)]) == 2
    assert accuracy.match(ref, [det(4)]) == 0  # IoU 6/14 < 0.5
    assert accuracy.match(ref, []) == 0 and accuracy.match([], [det(0)]) == 0


def test_recall_and_precision_sum_over_photos() -> None:
    result = accuracy.detections([("a", [det(0), det(100)], [det(0)]), ("b", [det(0)], [det(0), det(50)])])
    assert (result["fp32"], result["actual"], result["matched"]) == (3, 3, 2)
    assert result["recall"] == pytest.approx(2 / 3) and result["precision"] == pytest.approx(2 / 3)
    empty = accuracy.detections([("a", [], [])])
    assert empty["recall"] is None and empty["precision"] is None


def test_verdict_names_each_shortfall() -> None:
    spec, ref = small_retinaface()
    actual = {k: v.copy() for k, v in ref.items()}
    actual["loc"][0, :5] *= -1
    m = accuracy.outputs(spec, actual, ref)
    d = accuracy.detections([("a", [det(0), det(100)], [det(0), det(300), det(400)])])
    limits = {"object_cosine_min": 0.97, "recall_min": 0.9, "precision_min": 0.9}
    problems = accuracy.verdict(m, d, limits)
    assert any(p.startswith("loc: cosine over 5 object anchors -1.0000 < 0.97") for p in problems)
    assert "recall 0.500 (1 of 2 FP32 detections) < 0.9" in problems
    assert "precision 0.333 (1 of 3 detections match FP32) < 0.9" in problems
    none_found = accuracy.detections([("a", [], [det(0)])])
    assert accuracy.verdict({}, none_found, limits) == ["1 detection(s) where FP32 finds none"]


def test_synthetic_weights_are_recorded_not_judged_but_nan_still_fails() -> None:
    limits = accuracy.limits("int8", "scrfd-500m", synthetic=True)
    assert limits["judge_accuracy"] is False
    real = accuracy.limits("int8", "retinaface-mnet", synthetic=False)
    assert real.get("judge_accuracy", True) is True and real["recall_min"] >= 0.9
    spec, ref = small_retinaface()
    bad = {k: -v for k, v in ref.items()}
    poor = accuracy.detections([("a", [det(0)], [])])
    assert accuracy.verdict(accuracy.outputs(spec, bad, ref), poor, limits) == []
    bad["loc"][0, 0, 0] = np.nan
    assert accuracy.verdict(accuracy.outputs(spec, bad, ref), poor, limits) == ["loc: 1 NaN/Inf values"]
    assert "not judged" in accuracy.summary({}, poor, limits)
