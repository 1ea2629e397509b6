"""The ONNX models: valid, at opset 13, with the published names and shapes, deterministic, computing
what the independent numpy backend computes, and with non-degenerate synthetic outputs on photos."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from matrix.models import images, registry, weights
from matrix.models.nets.numpy_ops import NumpyOps
from matrix.models.nets.ops import DictSource
from matrix.models.preprocess import preprocess
from tests.unit.models.conftest import photo
from tests.unit.models.test_registry import PUBLISHED, PUBLISHED_INPUTS

onnx = pytest.importorskip("onnx", reason="building ONNX is host-side (onnx is not in the images)")
ort = pytest.importorskip("onnxruntime", reason="ONNX Runtime runs on the host only")

from matrix.models.onnx_build import IR_VERSION, OPSET, build_onnx  # noqa: E402
from matrix.models.reference import session  # noqa: E402

ALL = [
    "retinaface-mnet",
    pytest.param("retinaface-r50", marks=pytest.mark.slow),
    "scrfd-500m",
    "scrfd-2.5g",
    "yolov5s",
]


def _dims(value_info: object) -> tuple[int, ...]:
    return tuple(d.dim_value for d in value_info.type.tensor_type.shape.dim)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ALL)
def test_valid_published_layout_and_deterministic(name: str) -> None:
    spec = registry.get(name)
    w = weights.synthetic(spec)
    model = build_onnx(spec, w)
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == IR_VERSION == 7
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET == 13
    assert [(i.name, _dims(i)) for i in model.graph.input] == [(PUBLISHED_INPUTS[name], (1, 3, 640, 640))]
    assert [(o.name, _dims(o)) for o in model.graph.output] == list(PUBLISHED[name].items())
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    assert [(o.name, _dims(o)) for o in inferred.graph.output] == list(PUBLISHED[name].items())
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["trt_matrix.weights"] == "synthetic(seed=0)" and meta["trt_matrix.weights_sha256"] == w.sha256
    assert {n.op_type for n in model.graph.node}.isdisjoint(
        {"BatchNormalization", "Identity"}
    )  # folded, as torch exports
    assert build_onnx(spec, w).SerializeToString() == model.SerializeToString()


@pytest.mark.parametrize("name", ALL)
def test_onnx_runtime_matches_the_numpy_backend(name: str) -> None:
    """Two implementations of every op (ONNX lowering run by ORT; plain numpy) agree at 96x128."""
    spec = registry.get(name).at_size(96, 128)
    w = weights.synthetic(registry.get(name))
    x = np.random.default_rng(5).uniform(-2, 2, spec.input_shape).astype(np.float32)
    got = dict(
        zip(
            spec.output_names,
            session(build_onnx(spec, w).SerializeToString()).run(None, {spec.input_name: x}),
        )
    )
    want = NumpyOps(DictSource(w.tensors)).run(spec.program(), x)
    for key, ref in want.items():
        assert got[key].shape == ref.shape
        scale = max(1.0, float(np.abs(ref).max()))
        np.testing.assert_allclose(got[key], ref, rtol=1e-4, atol=1e-4 * scale, err_msg=key)


def _photos() -> list[np.ndarray]:
    out = [images.read_image(images.REFERENCE_PHOTO)]
    with contextlib.suppress(pytest.skip.Exception):  # the astronaut only where the shared fixtures are
        out.append(photo("skimage__astronaut.png"))
    return out


@pytest.mark.parametrize("name", ALL)
def test_synthetic_outputs_are_not_degenerate_on_photos(name: str) -> None:
    """Criteria, per photo (Grace Hopper, bundled; the astronaut where the shared fixtures are):
    every output finite, none all-zero, each with std > 1e-3; the per-anchor object scores spread:
    std > 0.05, min < 0.1, max > 0.5, between 0.01% and 25% of anchors above 0.5, and at least 1000
    distinct values (to 4 decimals)."""
    spec = registry.get(name)
    sess = session(build_onnx(spec, weights.synthetic(spec)).SerializeToString())
    for img in _photos():
        x, _ = preprocess(img, spec.preprocess)
        outs = dict(zip(spec.output_names, sess.run(None, {spec.input_name: x})))
        for key, v in outs.items():
            assert np.isfinite(v).all(), key
            assert np.abs(v).max() > 0 and v.std() > 1e-3, key
        s = registry.object_scores(spec, outs)
        above = float((s > 0.5).mean())
        assert s.std() > 0.05 and s.min() < 0.1 and s.max() > 0.5, (s.std(), s.min(), s.max())
        assert 1e-4 < above < 0.25, above
        assert np.unique(np.round(s, 4)).size >= 1000
