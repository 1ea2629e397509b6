"""The tier-0 qdq check: the exported Q/DQ model is valid for TensorRT and judged against FP32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matrix.suite.cells import Cell
from matrix.suite.outcome import CheckContext, Fail

pytest.importorskip("onnxruntime", reason="the check runs ONNX Runtime on the host")
pytest.importorskip("PIL", reason="Pillow reads the photos on the host")

from matrix.hostchecks import qdq
from matrix.models import quantize, quantize_sweep, reference


def context(tmp_path: Path, model: str) -> CheckContext:
    scratch = tmp_path / "scratch"
    scratch.mkdir(exist_ok=True)
    return CheckContext(Cell.from_id(f"qdq:host>host:{model}:int8:ort"), "host", tmp_path / "artifacts", scratch)


def test_real_weights_pass_with_the_measurements(mnet_weights: Path, tmp_path: Path) -> None:
    reference.export_model("retinaface-mnet", tmp_path / "artifacts", weights_path=mnet_weights)
    outcome = qdq.run(context(tmp_path, "retinaface-mnet"))
    assert outcome.status == "pass", outcome.reason
    det = outcome.measurements["detection"]
    assert det["recall"] >= outcome.measurements["limits"]["recall_min"] and det["fp32"] == 3
    assert "recall 1.000" in outcome.reason and "not judged" not in outcome.reason
    assert outcome.measurements["weights"] == f"file:{mnet_weights.name}"


def test_a_qdq_model_tensorrt_would_refuse_fails(tmp_path: Path) -> None:
    out = reference.export_model("scrfd-500m", tmp_path / "artifacts", calib_count=2)
    model = (out / "model.onnx").read_bytes()
    samples = [np.load(p)[:1] for p in sorted((out / "calib").glob("batch_*.npy"))]
    (out / quantize.QDQ_MODEL).write_bytes(quantize.quantize(model, samples, quantize_sweep.ORT_DEFAULTS))
    with pytest.raises(Fail, match="non-zero zero point") as failed:
        qdq.run(context(tmp_path, "scrfd-500m"))
    assert failed.value.measurements["detection"]["fp32"] > 0


def test_synthetic_weights_are_measured_not_judged(tmp_path: Path) -> None:
    outcome = qdq.run(context(tmp_path, "scrfd-500m"))  # no artifacts: exports into scratch first
    assert outcome.status == "pass"
    assert "recorded, not judged: synthetic weights" in outcome.reason
    assert outcome.measurements["limits"]["judge_accuracy"] is False
    assert outcome.measurements["detection"]["recall"] is not None
