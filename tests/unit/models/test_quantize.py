"""Explicit INT8 on the host: Q/DQ models from ONNX Runtime's quantizer run in ONNX Runtime, are valid for
TensorRT's parser, and (real RetinaFace weights) keep the FP32 detections on the fixture photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import images, registry

pytest.importorskip("onnx", reason="building ONNX is host-side")
pytest.importorskip("onnxruntime", reason="ONNX Runtime quantizes on the host only")
pytest.importorskip("PIL", reason="Pillow reads the photos on the host")

from matrix.models import accuracy, quantize, quantize_model, quantize_sweep, reference, tomlload
from tests.unit.models.conftest import fixture_file


def fixture_photos() -> list[Path]:
    return images.images_in(fixture_file("images", "matplotlib__grace_hopper.jpg").parent)


def test_real_retinaface_qdq_keeps_the_fp32_detections(mnet_weights: Path, tmp_path: Path) -> None:
    result = quantize_model.run("retinaface-mnet", tmp_path, mnet_weights, eval_photos=fixture_photos())
    limits = accuracy.limits("int8", "retinaface-mnet", synthetic=False)
    det = result["detection"]
    print(
        f"Q/DQ RetinaFace-mnet on {det['images']} fixture photos: recall {det['recall']:.3f} precision "
        f"{det['precision']:.3f} ({det['matched']} of {det['fp32']} FP32 faces, {det['actual']} INT8 detections)"
    )
    assert det["images"] == 9 and det["fp32"] >= 9
    assert det["recall"] >= limits["recall_min"], f"recall {det['recall']:.3f} < {limits['recall_min']}"
    assert det["precision"] >= limits["precision_min"], f"precision {det['precision']:.3f}"
    for name, m in result["outputs"].items():
        assert m["objects"]["cosine"] >= limits["object_cosine_min"], (name, m)
        assert m["cosine"] >= limits["cosine_min"], (name, m)
    assert result["tensorrt_problems"] == []
    path = Path(result["qdq_onnx"])
    assert path == tmp_path / "retinaface-mnet.qdq.onnx" and path.is_file()
    assert result["weights"] == f"file:{mnet_weights.name}"


def test_scrfd_qdq_runs_in_onnx_runtime_and_suits_tensorrt(tmp_path: Path) -> None:
    import onnx

    result = quantize_model.run("scrfd-500m", tmp_path, calib_count=4)
    qdq = Path(result["qdq_onnx"]).read_bytes()
    onnx.checker.check_model(onnx.load_from_string(qdq), full_check=True)
    ops = {n.op_type for n in onnx.load_from_string(qdq).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    spec = registry.get("scrfd-500m")
    x = reference.calibration_batches(spec, images.bundled_photos(), 1)[0]
    outs = reference.Runner(spec, reference.session(qdq), "q").outputs(x)
    assert set(outs) == set(spec.output_names)
    assert all(np.all(np.isfinite(v)) and np.any(v) for v in outs.values())
    assert result["tensorrt_problems"] == []
    assert set(result["detection"]) >= {"recall", "precision"} and result["calibration"]["samples"] == 4


def test_onnx_runtime_defaults_are_not_what_tensorrt_takes() -> None:
    spec = registry.get("retinaface-mnet").at_size(64, 64)
    model = reference.model_bytes(spec, reference.resolve_weights(spec, None))
    samples = [np.random.default_rng(i).standard_normal(spec.input_shape).astype(np.float32) for i in range(2)]
    qdq = quantize.quantize(model, samples, quantize_sweep.ORT_DEFAULTS)
    problems = quantize.tensorrt_problems(qdq)
    assert any("non-zero zero point (TensorRT quantizes symmetrically)" in p for p in problems)
    assert any("dequantizes INT32" in p for p in problems)  # quantized biases
    assert quantize.tensorrt_problems(quantize.quantize(model, samples, quantize.Settings())) == []


def test_per_channel_scales_need_opset_13() -> None:
    import onnx

    spec = registry.get("retinaface-mnet").at_size(64, 64)
    model = reference.model_bytes(spec, reference.resolve_weights(spec, None))
    lowered = quantize_sweep.lower_to_opset11(model)
    x = np.random.default_rng(0).standard_normal(spec.input_shape).astype(np.float32)
    a = reference.Runner(spec, reference.session(model), "13").outputs(x)
    b = reference.Runner(spec, reference.session(lowered), "11").outputs(x)
    for name in spec.output_names:  # the lowering is exact: the opset-11 model is the same model
        np.testing.assert_array_equal(a[name], b[name])
    qdq = quantize.quantize(lowered, [x], quantize.Settings(per_channel=True))
    assert any("per-axis scales need opset 13, the model is opset 11" in p for p in quantize.tensorrt_problems(qdq))
    with pytest.raises(
        onnx.checker.ValidationError, match="Unrecognized attribute: axis for operator DequantizeLinear"
    ):
        onnx.checker.check_model(onnx.load_from_string(qdq), full_check=True)
    with pytest.raises(Exception, match="INVALID_GRAPH"):
        reference.session(qdq)


def test_distribution_with_asymmetric_activations_floods_the_detections(mnet_weights: Path) -> None:
    """The measured failure behind the settings: ONNX Runtime's 'Distribution' calibration with its default
    asymmetric activations turns 9 faces into thousands of boxes (symmetric, it equals MinMax)."""
    spec = registry.get("retinaface-mnet")
    w = reference.resolve_weights(spec, mnet_weights)
    model = reference.model_bytes(spec, w)
    calib = quantize_model.calibration_samples(spec, images.bundled_photos(), 16)
    photos = fixture_photos()[:3]
    row = quantize_sweep.measure(
        "retinaface-mnet", model, w.label, calib, photos, "d", quantize_sweep.CANDIDATES[1][1], 13, 0.5
    )
    print(f"distribution, asymmetric: {row['qdq_detections']} detections for {row['fp32_detections']} FP32 faces")
    assert row["qdq_detections"] > 100 * row["fp32_detections"] > 0
    assert row["precision"] < 0.05


def test_the_chosen_settings_are_the_best_measured() -> None:
    recorded = tomlload.load(quantize.SETTINGS_FILE)
    rows = recorded["measurement"]
    real = [r for r in rows if r["model"] == "retinaface-mnet" and r["weights"].startswith("file:")]
    assert real, "qdq.toml has no real-weights measurements: run the sweep (see its [measured].commands)"
    best = quantize_sweep.best(real, "retinaface-mnet")
    chosen = quantize.load_settings().to_json()
    for key in (
        "method",
        "per_channel",
        "moving_average",
        "symmetric_activations",
        "symmetric_weights",
        "quantize_bias",
        "dedicated_qdq_pair",
        "op_types",
    ):
        assert chosen[key] == best[key], (key, best["candidate"])
    assert {r["candidate"] for r in real} == {label for label, _, _ in quantize_sweep.CANDIDATES}


def test_bad_settings_and_models_are_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="method 'Median' is not one of"):
        quantize.Settings(method="Median")
    bad = tmp_path / "qdq.toml"
    bad.write_text("[settings]\nmethod = 'MinMax'\nspeed = 3\n")
    with pytest.raises(UserError, match="unknown settings speed"):
        quantize.load_settings(bad)
    with pytest.raises(UserError, match="yolov5s is not an INT8 model"):
        quantize.int8_spec("yolov5s")
