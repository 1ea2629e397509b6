"""qdq (tier 0): the explicit-INT8 model (ONNX Runtime's Q/DQ) is valid for TensorRT and close to FP32.

Uses the run's exported artifacts/models/<name>/ (model.qdq.onnx, eval.npz; exporting into scratch
when the run has none), then: the Q/DQ nodes are what TensorRT's parser takes (symmetric INT8,
per-axis only at opset 13: quantize.tensorrt_problems); ONNX Runtime runs the Q/DQ model on every
evaluation photo; its outputs (all anchors and object anchors) and its detections (recall and
precision at IoU 0.5 against the stored FP32 detections) are judged against thresholds.toml
[int8.<model>]. The images build the same model.qdq.onnx in the `int8 ... qdq` cells.
"""

from __future__ import annotations

import json
import time
from typing import Any

from matrix.hostchecks import model_folder
from matrix.suite.outcome import CheckContext, Fail, Outcome


def run(ctx: CheckContext) -> Outcome:
    import onnx

    from matrix.models import accuracy, evalset, quantize, reference, registry

    name = ctx.cell.model
    spec = registry.get(name)
    folder = model_folder(ctx, name, ("meta.json", quantize.QDQ_MODEL, "eval.npz", "eval.json"))
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    qdq = (folder / quantize.QDQ_MODEL).read_bytes()
    onnx.checker.check_model(onnx.load_from_string(qdq), full_check=True)
    limits = accuracy.limits("int8", name, bool(meta["weights"].get("synthetic", False)))
    refused = quantize.tensorrt_problems(qdq)
    problems = [quantize.problem_summary(refused)] if refused else []
    started = time.perf_counter()
    runner = reference.Runner(spec, reference.session(qdq), meta["weights"]["label"])
    photos = evalset.load(folder)
    pairs, det_pairs = [], []
    for photo in photos:
        out = runner.outputs(photo.input)
        pairs.append((out, photo.outputs))
        det_pairs.append((photo.name, photo.fp32_detections(spec), registry.decode(spec, out, photo.letterbox)))
    ort_s = time.perf_counter() - started
    outputs = accuracy.outputs_over(spec, pairs, float(limits["object_score"]))
    detection = accuracy.detections(det_pairs)
    problems += accuracy.verdict(outputs, detection, limits)
    qdq_meta = folder / quantize.QDQ_META
    measurements: dict[str, Any] = {
        "weights": meta["weights"]["label"],
        "qdq_bytes": len(qdq),
        "tensorrt_problems": refused[:20],
        "qdq": json.loads(qdq_meta.read_text(encoding="utf-8")) if qdq_meta.is_file() else None,
        "eval_images": [p.name for p in photos],
        "ort_s": round(ort_s, 2),
        "outputs": outputs,
        "detection": detection,
        "limits": limits,
    }
    if problems:
        raise Fail("; ".join(problems[:4]), measurements=measurements)
    return Outcome(
        "pass",
        "Q/DQ model valid for TensorRT; on {} photo(s): {} ({} weights)".format(
            len(photos), accuracy.summary(outputs, detection, limits), meta["weights"]["label"]
        ),
        measurements=measurements,
    )
