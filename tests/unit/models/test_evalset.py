"""The evaluation photos an export leaves for the INT8/FP16 accuracy cells (eval.npz, eval.json), and the
Q/DQ model beside them for the INT8 models: what `models export` writes and how the images read it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from matrix.models import evalset, images, registry

pytest.importorskip("onnx", reason="building ONNX is host-side")
pytest.importorskip("onnxruntime", reason="ONNX Runtime runs on the host only")
pytest.importorskip("PIL", reason="Pillow reads the photos on the host")

from matrix.models import quantize, reference
from matrix.models.preprocess import preprocess


def test_export_leaves_inputs_fp32_outputs_and_the_qdq_model(mnet_weights: Path, tmp_path: Path) -> None:
    photos = images.bundled_photos()
    out = reference.export_model("retinaface-mnet", tmp_path, weights_path=mnet_weights, calib_count=4)
    spec = registry.get("retinaface-mnet")
    loaded = evalset.load(out)
    assert [p.name for p in loaded] == [p.name for p in photos]
    runner = reference.Runner(spec, reference.session(out / "model.onnx"), "x")
    for photo, path in zip(loaded, photos):
        x, box = preprocess(images.read_image(path), spec.preprocess)
        np.testing.assert_array_equal(photo.input, x)  # exactly what the model's pre-processing gives
        assert photo.letterbox == box
        again = runner.outputs(photo.input)
        for name in spec.output_names:
            np.testing.assert_array_equal(photo.outputs[name], again[name])
    faces = [len(p.fp32_detections(spec)) for p in loaded]
    assert all(n >= 1 for n in faces), faces  # real weights find the face in each bundled photo
    index = json.loads((out / "eval.json").read_text())
    assert index["schema"] == evalset.SCHEMA and [e["fp32_detections"] for e in index["images"]] == faces
    meta = json.loads((out / quantize.QDQ_META).read_text())
    assert meta["calib_samples"] == 4 and meta["tensorrt_problems"] == []
    assert (out / quantize.QDQ_MODEL).stat().st_size > 0


def test_calibration_batches_are_each_models_own_preprocessing(tmp_path: Path) -> None:
    photos = images.bundled_photos()
    for name in ("retinaface-mnet", "scrfd-500m"):
        spec = registry.get(name)
        batches = reference.calibration_batches(spec, photos, 7)
        samples = np.concatenate(batches)
        for i in range(7):
            image = images.augment(images.read_image(photos[i % len(photos)]), i // len(photos))
            np.testing.assert_array_equal(samples[i : i + 1], preprocess(image, spec.preprocess)[0])
    rf = reference.calibration_batches(registry.get("retinaface-mnet"), photos[:1], 1)[0]
    sc = reference.calibration_batches(registry.get("scrfd-500m"), photos[:1], 1)[0]
    assert rf.min() < -100 and sc.min() >= -1.0 and sc.max() <= 1.0  # BGR minus mean vs (x - 127.5) / 128


def test_export_without_qdq_and_a_held_out_eval_set(tmp_path: Path) -> None:
    held_out = tmp_path / "held"
    held_out.mkdir()
    (held_out / "face.jpg").write_bytes(images.REFERENCE_PHOTO.read_bytes())
    out = reference.export_model(
        "scrfd-500m", tmp_path / "a", calib_count=1, eval_photos=[held_out / "face.jpg"], qdq=False
    )
    assert [p.name for p in evalset.load(out)] == ["face.jpg"]
    assert not (out / quantize.QDQ_MODEL).exists()


def test_a_folder_without_an_eval_set_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(evalset.EvalSetMissing, match="re-run `trt-matrix models export`"):
        evalset.load(tmp_path)
