"""`trt-matrix quantize`: a model's Q/DQ ONNX from its weights, measured against its FP32 reference.

Contract: `run(name, out_dir, ...)` resolves the weights, builds the FP32 model (matrix.models.reference),
quantizes it with the chosen settings (matrix.models.quantize), writes `<out>/<name>.qdq.onnx` and returns
what the command prints. `calibration_samples(spec, photos, count)` gives the [1, 3, H, W] inputs the
quantizer and the sweep calibrate on. It sits above both `reference` and `quantize`, so neither imports
the other's caller. Host only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matrix.errors import UserError
from matrix.models import compare, images, quantize, reference
from matrix.models.registry import ModelSpec


def calibration_samples(spec: ModelSpec, photos: Sequence[Path], count: int) -> list[np.ndarray]:
    """`count` [1, 3, H, W] inputs: the photos, then their augmentations (reference.calibration_batches)."""
    batches = reference.calibration_batches(spec, photos, count)
    return [b[i : i + 1] for b in batches for i in range(b.shape[0])]


def run(
    name: str,
    out_dir: Path,
    weights: Path | None = None,
    calib_photos: Sequence[Path] | None = None,
    eval_photos: Sequence[Path] | None = None,
    calib_count: int | None = None,
    settings: quantize.Settings | None = None,
) -> dict[str, Any]:
    """`trt-matrix quantize`: writes <out>/<name>.qdq.onnx and returns what it prints."""
    spec = quantize.int8_spec(name)
    chosen = settings or quantize.load_settings()
    count = chosen.calib_samples if calib_count is None else calib_count
    if count < 1:
        raise UserError("--calib-count must be at least 1")
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out {out_dir}: exists and is not a folder")
    w = reference.resolve_weights(spec, weights)
    model = reference.model_bytes(spec, w)
    calib = list(calib_photos) if calib_photos else images.bundled_photos()
    evals = list(eval_photos) if eval_photos else calib
    log: list[str] = []
    qdq = quantize.quantize(model, calibration_samples(spec, calib, count), chosen, log)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.qdq.onnx"
    path.write_bytes(qdq)
    fp32_run = reference.Runner(spec, reference.session(model), w.label)
    qdq_run = reference.Runner(spec, reference.session(qdq), w.label)
    evaluation = quantize.evaluate(
        spec, fp32_run.outputs, qdq_run.outputs, evals, float(compare.for_precision("int8", name)["object_score"])
    )
    return {
        "model": name,
        "qdq_onnx": str(path),
        "weights": w.label,
        **quantize.brief(evaluation),
        "tensorrt_problems": quantize.tensorrt_problems(qdq),
        "settings": chosen.to_json(),
        "calibration": {"images": [p.name for p in calib], "samples": count},
        "eval_images": [p.name for p in evals],
        "versions": quantize.versions(),
    }
