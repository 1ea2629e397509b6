"""Accuracy of reduced-precision outputs (INT8, FP16) against the FP32 reference, on the host and in images.

Contract: `outputs(spec, actual, reference, object_score)` gives per output name the max abs error
and cosine over all anchors (compare.output_metrics) and, under "objects", the same over only the
anchors whose FP32 object score is >= object_score (box regressions at background anchors are noise
that reduced precision does not keep). `match(reference_dets, actual_dets)` pairs detections one to
one at IoU >= 0.5 (greedy, highest score first); `detections(pairs)` sums over photos into recall
(FP32 detections found) and precision (detections that FP32 also made). `verdict(...)` lists the
problems against a thresholds table (compare.for_precision). Python 3.8, numpy only.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from matrix.models import compare, registry
from matrix.models.postprocess import Detection, iou
from matrix.models.registry import ModelSpec

IOU_MIN = 0.5


def _rows(array: np.ndarray, rows: int, name: str) -> np.ndarray:
    arr = np.asarray(array)
    if rows == 0 or arr.size % rows:
        raise ValueError(f"output {name} has {arr.size} values: not {rows} anchors of equal width")
    return arr.reshape(rows, -1)


def anchor_scores(spec: ModelSpec, reference: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For each output, the FP32 object score of each of its rows (one row per anchor)."""
    out: dict[str, np.ndarray] = {}
    shared: np.ndarray | None = None
    for o in spec.outputs:
        if spec.family == "scrfd" and o.stride is not None:
            scores = np.asarray(reference[f"score_{o.stride}"], dtype=np.float32).reshape(-1)
        else:
            if shared is None:
                shared = np.asarray(registry.object_scores(spec, dict(reference)), dtype=np.float32).reshape(-1)
            scores = shared
        out[o.name] = scores
    return out


def _subset(actual: np.ndarray, reference: np.ndarray, mask: np.ndarray) -> dict[str, Any]:
    a, r = actual[mask], reference[mask]
    result: dict[str, Any] = {"anchors": int(mask.sum())}
    if result["anchors"] == 0:
        return result
    if not np.all(np.isfinite(a)):
        result["finite"] = False
        return result
    diff = np.abs(a.astype(np.float64) - r.astype(np.float64))
    result["max_abs"] = float(diff.max())
    result["cosine"] = compare.cosine(a, r)
    return result


def outputs(
    spec: ModelSpec,
    actual: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    object_score: float = 0.5,
) -> dict[str, dict[str, Any]]:
    """Per output of one photo: all-anchor metrics, plus "objects" over the anchors FP32 calls objects."""
    return outputs_over(spec, [(actual, reference)], object_score)


def outputs_over(
    spec: ModelSpec,
    pairs: Sequence[tuple[Mapping[str, np.ndarray], Mapping[str, np.ndarray]]],
    object_score: float = 0.5,
) -> dict[str, dict[str, Any]]:
    """The same over several photos: each output's anchors of every photo taken together.

    Shapes that differ from the reference are reported (compare.compare), never reshaped to fit."""
    if not pairs:
        raise ValueError("no outputs to compare")
    names = sorted(set(pairs[0][0]) | set(pairs[0][1]))
    bad = {n for n in names for a, r in pairs if n in a and n in r and np.shape(a[n]) != np.shape(r[n])}
    bad |= {n for n in names for a, r in pairs if (n in a) != (n in r)}
    if bad:
        return compare.compare(pairs[0][0], pairs[0][1])
    actual_rows: dict[str, list[np.ndarray]] = {n: [] for n in names}
    reference_rows: dict[str, list[np.ndarray]] = {n: [] for n in names}
    masks: dict[str, list[np.ndarray]] = {n: [] for n in names}
    for actual, reference in pairs:
        scores = anchor_scores(spec, reference)
        for n in names:
            rows = scores[n].size if n in scores else 1
            actual_rows[n].append(_rows(actual[n], rows, n))
            reference_rows[n].append(_rows(reference[n], rows, n))
            if n in scores:
                masks[n].append(scores[n] >= object_score)
    joined_a = {n: np.concatenate(v) for n, v in actual_rows.items()}
    joined_r = {n: np.concatenate(v) for n, v in reference_rows.items()}
    metrics = compare.compare(joined_a, joined_r)
    for n, m in metrics.items():
        if masks[n] and "missing" not in m:
            m["objects"] = _subset(joined_a[n], joined_r[n], np.concatenate(masks[n]))
    return metrics


def match(reference: Sequence[Detection], actual: Sequence[Detection], iou_min: float = IOU_MIN) -> int:
    """How many detections pair up one to one at IoU >= iou_min (actual taken by descending score)."""
    if not reference or not actual:
        return 0
    ious = iou(np.array([d.box for d in actual]), np.array([d.box for d in reference]))
    taken = np.zeros(len(reference), dtype=bool)
    matched = 0
    for i in np.argsort([-d.score for d in actual], kind="stable"):
        candidates = np.where(~taken & (ious[i] >= iou_min), ious[i], -1.0)
        j = int(np.argmax(candidates))
        if candidates[j] >= iou_min:
            taken[j] = True
            matched += 1
    return matched


def detections(
    pairs: Sequence[tuple[str, Sequence[Detection], Sequence[Detection]]], iou_min: float = IOU_MIN
) -> dict[str, Any]:
    """(photo, FP32 detections, reduced-precision detections) per photo -> recall and precision."""
    per: list[dict[str, Any]] = []
    n_ref = n_act = n_match = 0
    for name, ref, act in pairs:
        k = match(ref, act, iou_min)
        per.append({"image": name, "fp32": len(ref), "actual": len(act), "matched": k})
        n_ref, n_act, n_match = n_ref + len(ref), n_act + len(act), n_match + k
    return {
        "iou": iou_min,
        "images": len(pairs),
        "fp32": n_ref,
        "actual": n_act,
        "matched": n_match,
        "recall": None if n_ref == 0 else n_match / n_ref,
        "precision": None if n_act == 0 else n_match / n_act,
        "per_image": per,
    }


def limits(precision: str, model: str, synthetic: bool) -> dict[str, Any]:
    """thresholds.toml [<precision>] with [<precision>.<model>] over it, or [<precision>.synthetic] when
    the weights are synthetic (where that table exists)."""
    table = compare.thresholds().get(precision, {})
    key = "synthetic" if synthetic and isinstance(table.get("synthetic"), dict) else model
    return compare.for_precision(precision, key)


def judged(limits: Mapping[str, Any]) -> bool:
    return limits.get("judge_accuracy", True) is not False


def verdict(
    output_metrics: Mapping[str, Mapping[str, Any]],
    detection: Mapping[str, Any] | None,
    limits: Mapping[str, Any],
) -> list[str]:
    """Problems against the limits (cosine_min, max_abs_max, object_cosine_min, recall_min, precision_min).

    With judge_accuracy = false only NaN/Inf, all-zero and missing outputs are problems."""
    if not judged(limits):
        return compare.verdict(output_metrics, {})
    problems = compare.verdict(output_metrics, limits)
    for name, m in output_metrics.items():
        obj = m.get("objects")
        if not obj or not obj.get("anchors"):
            continue
        if obj.get("finite") is False:
            continue  # the all-anchor verdict already says NaN/Inf
        if "object_cosine_min" in limits and obj["cosine"] < float(limits["object_cosine_min"]):
            problems.append(
                "{}: cosine over {} object anchors {:.4f} < {}".format(
                    name, obj["anchors"], obj["cosine"], limits["object_cosine_min"]
                )
            )
        if "object_max_abs_max" in limits and obj["max_abs"] > float(limits["object_max_abs_max"]):
            problems.append(
                "{}: max |diff| over object anchors {:.4g} > {}".format(
                    name, obj["max_abs"], limits["object_max_abs_max"]
                )
            )
    if detection is not None:
        recall, precision = detection.get("recall"), detection.get("precision")
        if recall is not None and "recall_min" in limits and recall < float(limits["recall_min"]):
            problems.append(
                "recall {:.3f} ({} of {} FP32 detections) < {}".format(
                    recall, detection["matched"], detection["fp32"], limits["recall_min"]
                )
            )
        if recall is None and detection.get("actual"):
            problems.append("{} detection(s) where FP32 finds none".format(detection["actual"]))
        elif precision is not None and "precision_min" in limits and precision < float(limits["precision_min"]):
            problems.append(
                "precision {:.3f} ({} of {} detections match FP32) < {}".format(
                    precision, detection["matched"], detection["actual"], limits["precision_min"]
                )
            )
    return problems


def summary(
    output_metrics: Mapping[str, Mapping[str, Any]],
    detection: Mapping[str, Any] | None,
    limits: Mapping[str, Any] | None = None,
) -> str:
    """One line for a cell's reason: the worst cosines and the detection scores (and whether judged)."""
    cos = [m["cosine"] for m in output_metrics.values() if "cosine" in m]
    obj = [m["objects"]["cosine"] for m in output_metrics.values() if m.get("objects", {}).get("cosine") is not None]
    parts = []
    if cos:
        parts.append(f"cosine >= {min(cos):.4f}")
    if obj:
        parts.append(f"object-anchor cosine >= {min(obj):.4f}")
    if detection is not None and detection.get("recall") is not None:
        parts.append(
            "recall {:.3f} precision {} at IoU {}".format(
                detection["recall"],
                "n/a" if detection.get("precision") is None else "{:.3f}".format(detection["precision"]),
                detection["iou"],
            )
        )
    text = ", ".join(parts) or "no accuracy measured"
    if limits is not None and not judged(limits):
        text += " (recorded, not judged: synthetic weights, see thresholds.toml [int8.synthetic])"
    return text
