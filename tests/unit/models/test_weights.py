"""Weights: the expected tensor list, refusals that name the tensor, deterministic synthetic weights."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import registry, weights, wts
from matrix.models.nets.numpy_ops import NumpyOps
from matrix.models.nets.ops import DictSource
from tests.unit.models.conftest import DATA


def _mnet_like(scale: float = 1.0) -> OrderedDict[str, np.ndarray]:
    arch = weights.architecture(registry.get("retinaface-mnet"))
    return OrderedDict((k, np.full(s, scale, np.float32)) for k, s in arch.items())


def test_architecture_sizes_match_the_published_parameter_counts() -> None:
    """Trainable parameters (running statistics excluded) against the numbers the authors publish:
    yolov5s v6.0 7,235,389 (ultralytics README/yolov5s summary); RetinaFace ResNet-50 27,293,600
    (torchvision resnet50 trunk + FPN/SSH/heads: Pytorch_Retinaface); SCRFD-2.5G-KPS 0.82M
    (insightface detection/scrfd README, SCRFD_2.5G_KPS row)."""

    def trainable(name: str) -> int:
        arch = weights.architecture(registry.get(name))
        return sum(int(np.prod(s)) for k, s in arch.items() if not k.endswith(("running_mean", "running_var")))

    assert trainable("yolov5s") == 7235389
    assert trainable("retinaface-mnet") == 426608
    assert round(trainable("scrfd-2.5g") / 1e6, 2) == 0.82
    assert 27.2e6 < trainable("retinaface-r50") < 27.4e6


def test_check_names_the_first_missing_tensor() -> None:
    t = _mnet_like()
    del t["fpn.output2.1.running_var"]
    with pytest.raises(
        UserError,
        match=r"w\.pth: does not match retinaface-mnet: missing tensor fpn\.output2\.1\.running_var",
    ):
        weights.check(registry.get("retinaface-mnet"), t, "w.pth")


def test_check_names_a_tensor_of_the_wrong_shape() -> None:
    t = _mnet_like()
    t["ClassHead.1.conv1x1.weight"] = np.zeros((6, 64, 1, 1), np.float32)  # 3 anchors instead of 2
    with pytest.raises(
        UserError,
        match=r"tensor ClassHead\.1\.conv1x1\.weight has shape \[6, 64, 1, 1\], "
        r"the architecture needs shape \[4, 64, 1, 1\]",
    ):
        weights.check(registry.get("retinaface-mnet"), t, "w.pth")


def test_check_names_an_unexpected_tensor() -> None:
    t = _mnet_like()
    t["body.fc.weight"] = np.zeros((1000, 256), np.float32)
    with pytest.raises(UserError, match=r"unexpected tensor body\.fc\.weight"):
        weights.check(registry.get("retinaface-mnet"), t, "w.pth")


def test_check_reshapes_flat_wts_arrays_and_ignores_batch_counters() -> None:
    t = OrderedDict((k, v.reshape(-1)) for k, v in _mnet_like(0.5).items())
    t["body.stage1.0.1.num_batches_tracked"] = np.array([3.0], np.float32)
    out = weights.check(registry.get("retinaface-mnet"), t, "w.wts")
    assert out["body.stage1.0.0.weight"].shape == (8, 3, 3, 3)
    t["body.stage1.0.0.weight"] = np.zeros(10, np.float32)
    with pytest.raises(
        UserError,
        match=r"body\.stage1\.0\.0\.weight has 10 values, "
        r"the architecture needs shape \[8, 3, 3, 3\] \(216 values\)",
    ):
        weights.check(registry.get("retinaface-mnet"), t, "w.wts")


def test_load_refuses_another_models_file(tmp_path: Path) -> None:
    spec = registry.get("retinaface-mnet")
    with pytest.raises(UserError, match=r"tiny_zip\.pth: does not match retinaface-mnet: missing tensor body\.stage1"):
        weights.load(spec, DATA / "tiny_zip.pth")
    other = tmp_path / "yolo.wts"
    wts.write_wts(other, {"model.0.conv.weight": np.zeros(864, np.float32)})
    with pytest.raises(UserError, match=r"yolo\.wts: does not match retinaface-mnet: missing tensor body\.stage1"):
        weights.load(spec, other)
    unknown = tmp_path / "w.bin"
    unknown.write_bytes(b"x")
    with pytest.raises(UserError, match=r"unknown weights format '\.bin'; retinaface-mnet takes \.pth, \.wts"):
        weights.load(spec, unknown)


def test_synthetic_weights_are_deterministic_and_labelled() -> None:
    spec = registry.get("scrfd-500m")
    a = weights.synthetic(spec, 0)
    weights._SYNTHETIC_CACHE.clear()
    b = weights.synthetic(spec, 0)
    c = weights.synthetic(spec, 1)
    assert a is not b and a.sha256 == b.sha256
    assert a.sha256 != c.sha256
    assert a.label == "synthetic(seed=0)" and c.label == "synthetic(seed=1)"
    assert list(a.tensors) == list(weights.architecture(spec))
    for k in a.tensors:
        np.testing.assert_array_equal(a.tensors[k], b.tensors[k])


@pytest.mark.parametrize(
    "name",
    [
        "retinaface-mnet",
        pytest.param("retinaface-r50", marks=pytest.mark.slow),
        "scrfd-500m",
        "scrfd-2.5g",
        "yolov5s",
    ],
)
def test_synthetic_activations_stay_alive_through_the_depth(name: str) -> None:
    """At the published 640x640 input, on a dead-leaves image the calibration never saw (and on the
    bundled Grace Hopper photo where Pillow can read it), every batch norm's output has a standard
    deviation between 0.2 and 8: nothing explodes or dies from the stem to the heads."""
    from matrix.models.preprocess import preprocess

    spec = registry.get(name)
    w = weights.synthetic(spec)
    inputs = [weights.dead_leaves(99, 640, 1500, 0.25, False, 4.0)]
    try:
        from matrix.models import images

        inputs.append(images.read_image(images.REFERENCE_PHOTO))
    except ImportError:
        pass
    for img in inputs:
        x, _ = preprocess(img, spec.preprocess)
        probe = _Probe(DictSource(w.tensors))
        probe.run(spec.program(), x)
        assert len(probe.stds) == sum(1 for k in w.tensors if k.endswith("running_var"))
        assert min(probe.stds) > 0.2 and max(probe.stds) < 8.0, (min(probe.stds), max(probe.stds))


class _Probe(NumpyOps):
    """Records the standard deviation of every batch norm's output."""

    def __init__(self, source: DictSource) -> None:
        super().__init__(source)
        self.stds: list[float] = []

    def conv_bn(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        y = super().conv_bn(*args, **kwargs)
        self.stds.append(float(y.std()))
        return y


def test_yolov5_wts_carries_its_anchors(tmp_path: Path) -> None:
    """tensorrtx's gen_wts.py writes model.24.anchor_grid (pixels) beside the layers: it is accepted,
    and custom (autoanchor) anchors from it replace the v6.0 defaults."""
    spec = registry.get("yolov5s")
    tensors = {k: np.zeros(s, np.float32) for k, s in weights.architecture(spec).items()}
    custom = np.arange(1, 19, dtype=np.float32).reshape(3, 1, 3, 1, 1, 2) * 10
    tensors["model.24.anchor_grid"] = custom
    tensors["model.24.anchors"] = custom.reshape(3, 3, 2) / np.array([8, 16, 32], np.float32).reshape(3, 1, 1)
    path = tmp_path / "yolov5s.wts"
    wts.write_wts(path, tensors)
    loaded = weights.load(spec, path)
    assert loaded.anchors == (
        ((10.0, 20.0), (30.0, 40.0), (50.0, 60.0)),
        ((70.0, 80.0), (90.0, 100.0), (110.0, 120.0)),
        ((130.0, 140.0), (150.0, 160.0), (170.0, 180.0)),
    )
    assert "model.24.anchor_grid" not in loaded.tensors and loaded.label == "file:yolov5s.wts"
