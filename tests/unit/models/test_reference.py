"""Exported model folders (model.onnx, reference.npz, meta.json, calib/) and the ORT runners."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import images, registry, weights

onnx = pytest.importorskip("onnx", reason="building ONNX is host-side")
pytest.importorskip("onnxruntime", reason="ONNX Runtime runs on the host only")
pytest.importorskip("PIL", reason="Pillow reads the photos on the host")

from matrix.models import reference  # noqa: E402
from matrix.models.preprocess import preprocess  # noqa: E402


def test_export_writes_a_complete_deterministic_folder(tmp_path: Path) -> None:
    said: list[str] = []
    a = reference.export_model("scrfd-500m", tmp_path / "a", calib_count=5, say=said.append)
    b = reference.export_model("scrfd-500m", tmp_path / "b", calib_count=5)
    assert a == tmp_path / "a" / "models" / "scrfd-500m"
    assert (a / "model.onnx").read_bytes() == (b / "model.onnx").read_bytes()
    meta = json.loads((a / "meta.json").read_text())
    spec = registry.get("scrfd-500m")
    assert meta["name"] == "scrfd-500m" and meta["opset"] == 13 and meta["ir_version"] == 7
    assert meta["input"] == {"name": "input.1", "shape": [1, 3, 640, 640]}
    assert [o["name"] for o in meta["outputs"]] == list(spec.output_names)
    assert meta["weights"]["label"] == "synthetic(seed=0)" and meta["weights"]["synthetic"] is True
    assert meta["weights"]["sha256"] == weights.synthetic(spec).sha256
    assert meta["reference"]["image"] == "matplotlib__grace_hopper.jpg"
    assert set(meta["versions"]) == {"onnx", "onnxruntime", "numpy"}
    ref = np.load(a / "reference.npz")
    assert sorted(ref.files) == sorted(["input", *spec.output_names])
    again = reference.Runner(spec, reference.session(a / "model.onnx"), "x").outputs(ref["input"])
    for name in spec.output_names:
        np.testing.assert_array_equal(again[name], ref[name])
        np.testing.assert_array_equal(np.load(b / "reference.npz")[name], ref[name])
    batches = sorted((a / "calib").glob("batch_*.npy"))
    assert [np.load(p).shape for p in batches] == [(4, 3, 640, 640), (1, 3, 640, 640)]
    first = np.load(batches[0])
    assert not np.array_equal(first[0], first[3])  # photos, then their augmentations
    assert any("model.onnx" in s for s in said) and any("calib: 5 samples" in s for s in said)


def test_export_with_real_weights_records_the_file(mnet_weights: Path, tmp_path: Path) -> None:
    out = reference.export_model("retinaface-mnet", tmp_path, weights_path=mnet_weights, calib_count=1)
    meta = json.loads((out / "meta.json").read_text())
    assert meta["weights"] == {
        "label": f"file:{mnet_weights.name}",
        "sha256": weights.file_sha256(mnet_weights),
        "synthetic": False,
    }
    ref = np.load(out / "reference.npz")
    assert float(ref["conf"][0, :, 1].max()) > 0.99  # Grace Hopper's face


def test_user_photos_for_calibration(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "face.jpg").write_bytes(images.REFERENCE_PHOTO.read_bytes())
    batches = reference.calibration_batches(registry.get("yolov5s"), images.images_in(folder), 3)
    assert [b.shape for b in batches] == [(3, 3, 640, 640)]


def _insightface_style(model: Any, batched: bool) -> Any:
    """My SCRFD graph with the old release's habits: numeric output names, optionally no batch dim."""
    from onnx import helper, numpy_helper

    g = model.graph
    outs = list(g.output)
    del g.output[:]
    for i, o in enumerate(outs):
        dims = [d.dim_value for d in o.type.tensor_type.shape.dim]
        new = str(448 + 23 * i)
        if batched:
            g.node.append(helper.make_node("Identity", [o.name], [new]))
        else:
            g.initializer.append(numpy_helper.from_array(np.array(dims[1:], np.int64), new + "_shape"))
            g.node.append(helper.make_node("Reshape", [o.name, new + "_shape"], [new]))
            dims = dims[1:]
        g.output.append(helper.make_tensor_value_info(new, onnx.TensorProto.FLOAT, dims))
    return model


@pytest.mark.parametrize("batched", [True, False], ids=["3-D outputs", "2-D outputs"])
def test_an_insightface_layout_file_decodes_by_position(tmp_path: Path, batched: bool) -> None:
    spec = registry.get("scrfd-500m")
    model = reference.model_bytes(spec, weights.synthetic(spec))
    path = tmp_path / "det_500m.onnx"
    path.write_bytes(_insightface_style(onnx.load_from_string(model), batched).SerializeToString())
    external = reference.runner_for("scrfd", path)
    ours = reference.Runner(spec, reference.session(model), "synthetic")
    x, box = preprocess(images.read_image(images.REFERENCE_PHOTO), spec.preprocess)
    a = registry.decode(spec, ours.outputs(x), box, 0.3)
    b = registry.decode(external.spec, external.outputs(x), box, 0.3)
    assert len(a) > 0 and a == b
    assert external.weights_label.startswith("file:det_500m.onnx sha256:")


def test_scrfd_files_of_the_wrong_shape_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "yolo.onnx"
    path.write_bytes(reference.model_bytes(registry.get("yolov5s"), weights.synthetic(registry.get("yolov5s"))))
    with pytest.raises(UserError, match=r"yolo\.onnx: has 1 outputs; an SCRFD model with keypoints has 9"):
        reference.runner_for("scrfd-2.5g", path)
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"nope")
    with pytest.raises(UserError, match=r"junk\.onnx: ONNX Runtime cannot load it"):
        reference.runner_for("scrfd", junk)
    with pytest.raises(UserError, match="only for SCRFD"):
        reference.runner_for("retinaface-mnet", junk)
