"""The tensorrtx-style network definitions, against a recording stand-in for TensorRT (fake_trt.py).

What these prove, without libnvinfer or a GPU:
- wiring: every layer reads tensors of the same network, weight counts fit their layers, no layer
  is left dangling, the outputs carry the ONNX model's names and shapes (shapes propagated by
  TensorRT's documented rules, independently of the ONNX builder's own bookkeeping);
- API selection: each release profile gets the calls it has (add_convolution_nd vs add_convolution,
  ResizeMode vs InterpolationMode, the EXPLICIT_BATCH flag only where it exists), and every method,
  layer attribute, enum and member name the builder used appears in NVIDIA's pybind11 sources of
  that release (python/src at the tag, fetched into third_party/; skipped when absent);
- weights: interpreting the recorded layers with numpy (TensorRT's documented layer semantics)
  reproduces the numpy backend's outputs, so batch norm went into add_scale correctly, and the
  shuffles, slices and constants of the YOLOv5 decode line up.

What they do not prove: that TensorRT builds these networks, how it computes them, or that the
plugin runs; only the suite's GPU cells inside the images can show that.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import netdef, registry, weights
from matrix.models.nets import retinaface
from matrix.models.nets.numpy_ops import NumpyOps
from matrix.models.nets.ops import DictSource
from tests.unit.models.fake_trt import PROFILES, FakeBuilder, FakeNetwork, fake_trt
from tests.unit.models.fake_trt_run import run

ROOT = Path(__file__).resolve().parents[3]
NETDEF_MODELS = [n for n in registry.NAMES if registry.get(n).netdef]
RELEASE_PROFILES = [p for p in PROFILES if PROFILES[p]["tag"] is not None]


class DecodePluginStandIn:
    """What the C++ plugin's getOutputDimensions returns: 1 + 15 * anchors, without the batch."""

    def output_dims(self, shapes: list[tuple[int, ...]]) -> tuple[int, ...]:
        assert [s[0] for s in shapes] == [32, 32, 32], "each level is the 8 + 4 + 20 head channels"
        return (1 + 15 * sum(2 * s[1] * s[2] for s in shapes),)


def _ones(name: str) -> dict[str, np.ndarray]:
    """Weights of the right shapes, all ones: enough for wiring and shapes, and instant."""
    return {k: np.ones(s, np.float32) for k, s in weights.architecture(registry.get(name)).items()}


def _build(
    profile: str, name: str, size: int = 640, synthetic: bool = False, **kw: Any
) -> tuple[Any, FakeNetwork, netdef.Netdef, FakeBuilder]:
    trt = fake_trt(profile)
    builder = FakeBuilder(profile)
    network = netdef.create_network(trt, builder)
    w = weights.synthetic(registry.get(name)).tensors if synthetic else _ones(name)
    nd = netdef.build_network(trt, network, name, w, height=size, width=size, **kw)
    return trt, network, nd, builder


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("name", NETDEF_MODELS)
def test_outputs_match_the_onnx_models(name: str, profile: str) -> None:
    _, network, nd, builder = _build(profile, name)
    spec = registry.get(name)
    assert [(t.name, t.shape) for t in network.outputs] == [(o.name, o.shape) for o in spec.outputs]
    assert [(t.name, t.shape) for t in network.inputs] == [(spec.input_name, spec.input_shape)]
    assert network.dangling() == []
    arch = weights.architecture(spec)
    convs = sum(1 for k, s in arch.items() if k.endswith(".weight") and len(s) == 4)
    bns = sum(1 for k in arch if k.endswith(".running_var"))
    assert sum(1 for layer in network.layers if layer.kind.startswith("convolution")) == convs
    assert sum(1 for layer in network.layers if layer.kind == "scale") == bns
    assert nd.layers == len(network.layers) and len(nd.keep_alive) > convs
    assert builder.flags == (1 if PROFILES[profile]["explicit_flag"] else 0)


def test_api_is_picked_by_feature() -> None:
    assert _build("8.4", "yolov5s", 64)[2].api == {
        "input": "add_input",
        "convolution": "add_convolution_nd",
        "pooling": "add_pooling_nd",
        "resize": "ResizeMode",
    }
    assert _build("11.1", "yolov5s", 64)[2].api["resize"] == "InterpolationMode"
    assert _build("legacy-only", "yolov5s", 64)[2].api["convolution"] == "add_convolution"


def _pybind_tokens(tag: str) -> set[str]:
    src = ROOT / "third_party" / f"trt-{tag}" / "python" / "src"
    if not src.is_dir():
        pytest.skip(
            f"{src} absent: fetch NVIDIA/TensorRT, then "
            f"`git archive {tag} python/src | tar -x -C third_party/trt-{tag}`"
        )
    tokens: set[str] = set()
    for f in src.rglob("*.cpp"):
        tokens |= set(re.findall(r'"([A-Za-z_][A-Za-z0-9_]*)"', f.read_text(errors="replace")))
    return tokens


@pytest.mark.parametrize("profile", RELEASE_PROFILES)
def test_every_name_used_exists_in_that_releases_bindings(profile: str) -> None:
    tokens = _pybind_tokens(PROFILES[profile]["tag"])
    used: set[str] = set()
    for name in NETDEF_MODELS:
        trt, network, _, _ = _build(profile, name, 64)
        used |= trt.used | network.used_names() | {"create_network"}
    _, network, _, _ = _build(profile, "retinaface-mnet", 64, decode_plugin=DecodePluginStandIn())
    used |= network.used_names()
    missing = sorted(n for n in used if n not in tokens)
    assert missing == [], f"names absent from {PROFILES[profile]['tag']}'s bindings: {missing}"


def test_the_fake_refuses_what_the_bindings_lack() -> None:
    network = FakeNetwork("11.1")
    assert not hasattr(network, "add_convolution") and hasattr(network, "add_convolution_nd")
    assert not hasattr(fake_trt("10.0"), "ResizeMode")
    layer = network.add_shuffle(network.add_input("x", "float32", (1, 2, 3, 4)))
    with pytest.raises(AttributeError, match="no attribute 'transpose'"):
        layer.transpose = (0, 1, 2, 3)


@pytest.mark.parametrize("name", ["retinaface-mnet", pytest.param("retinaface-r50", marks=pytest.mark.slow), "yolov5s"])
def test_recorded_layers_compute_what_the_numpy_backend_computes(name: str) -> None:
    size = 64
    _, network, _, _ = _build("10.8", name, size, synthetic=True)
    spec = registry.get(name).at_size(size, size)
    x = np.random.default_rng(1).uniform(-2, 2, spec.input_shape).astype(np.float32)
    got = run(network, {spec.input_name: x})
    want = NumpyOps(DictSource(weights.synthetic(registry.get(name)).tensors)).run(spec.program(), x)
    for key, ref in want.items():
        scale = max(1.0, float(np.abs(ref).max()))
        np.testing.assert_allclose(got[key], ref, rtol=1e-4, atol=1e-4 * scale, err_msg=key)


def test_decode_plugin_variant_ends_in_the_plugin() -> None:
    _, network, nd, _ = _build("8.6", "retinaface-mnet", decode_plugin=DecodePluginStandIn())
    assert [(t.name, t.shape) for t in network.outputs] == [("prob", netdef.plugin_output_shape(640, 640))]
    assert netdef.plugin_output_shape(640, 640) == (1, 1 + 15 * retinaface.num_anchors(640, 640))
    plugin_layer = network.layers[-1]
    assert plugin_layer.kind == "plugin_v2"
    assert [t.shape for t in plugin_layer.inputs] == [(1, 32, 80, 80), (1, 32, 40, 40), (1, 32, 20, 20)]
    assert nd.api["plugin"] == "add_plugin_v2" and network.dangling() == []


def test_unsupported_requests_are_user_errors() -> None:
    trt = fake_trt("10.8")
    with pytest.raises(UserError, match="no network-definition builder"):
        netdef.build_network(trt, FakeNetwork("10.8"), "scrfd-500m", {})
    with pytest.raises(UserError, match="the decode plugin is RetinaFace's"):
        netdef.build_network(
            trt,
            FakeNetwork("10.8"),
            "yolov5s",
            weights.synthetic(registry.get("yolov5s")).tensors,
            decode_plugin=object(),
        )
    with pytest.raises(UserError, match=r"missing tensor body\.stage1\.0\.0\.weight"):
        netdef.build_network(trt, FakeNetwork("10.8"), "retinaface-mnet", {})
