"""tensorrtx .wts files: exact round trip, tensorrtx's own spacing, refusals; .pth -> .wts -> same outputs."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import registry, weights, wts


def test_round_trip_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    tensors = {
        "a.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "a.bias": np.array([1e-30, -0.0, 3.0e38], np.float32),
    }
    path = tmp_path / "t.wts"
    wts.write_wts(path, tensors)
    text = path.read_text()
    assert text.splitlines()[0] == "2"
    assert text.splitlines()[2].split()[:3] == ["a.bias", "3", struct.pack(">f", 1e-30).hex()]
    back = wts.read_wts(path)
    assert list(back) == list(tensors)
    for k, v in tensors.items():
        np.testing.assert_array_equal(back[k], v.reshape(-1))


def test_reads_tensorrtx_gen_wts_spacing(tmp_path: Path) -> None:
    # gen_wts.py writes "name n " and then " hex" per value: two spaces before the first value
    path = tmp_path / "g.wts"
    path.write_text("1\nconv.weight 2  " + struct.pack(">f", 1.5).hex() + " " + struct.pack(">f", -2.0).hex() + "\n")
    np.testing.assert_array_equal(wts.read_wts(path)["conv.weight"], [1.5, -2.0])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2\na 1 3f800000\n", "header says 2 tensors"),
        ("x\n", "line 1 should be the tensor count"),
        ("1\na 2 3f800000\n", r"line 2 \(a\): says 2 values, has 1"),
        ("1\na 1 3f80000g\n", "not hexadecimal"),
        ("1\na 1 3f8000\n", "8 hex digits"),
        ("2\na 1 3f800000\na 1 3f800000\n", "appears twice"),
    ],
)
def test_malformed_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.wts"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        wts.read_wts(path)


def test_writer_refuses_names_with_spaces(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot be written"):
        wts.write_wts(tmp_path / "x.wts", {"bbox_head.stride_cls.(8, 8).weight": np.zeros(1, np.float32)})


def test_pth_and_wts_give_the_same_onnx_runtime_outputs(mnet_weights: Path, tmp_path: Path) -> None:
    """The real mobilenet0.25 weights loaded from .pth and from a .wts written from them: same ORT outputs."""
    pytest.importorskip("onnxruntime", reason="ONNX Runtime runs on the host only")
    from matrix.models import images
    from matrix.models.preprocess import preprocess
    from matrix.models.reference import Runner, model_bytes, session

    spec = registry.get("retinaface-mnet")
    from_pth = weights.load(spec, mnet_weights)
    wts_path = tmp_path / "retinaface.wts"
    wts.write_wts(wts_path, from_pth.tensors)
    from_wts = weights.load(spec, wts_path)
    x, _ = preprocess(images.read_image(images.REFERENCE_PHOTO), spec.preprocess)
    a = Runner(spec, session(model_bytes(spec, from_pth)), from_pth.label).outputs(x)
    b = Runner(spec, session(model_bytes(spec, from_wts)), from_wts.label).outputs(x)
    assert model_bytes(spec, from_pth).replace(from_pth.label.encode(), b"") != b""
    for name in spec.output_names:
        np.testing.assert_array_equal(a[name], b[name])
    assert float(a["conf"][0, :, 1].max()) > 0.99  # and the outputs are real: a face scores high
