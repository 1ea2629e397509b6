"""`trt-matrix models`: list, export and detect, through `matrix.cli.main`.

The face boxes below were determined by looking at the photos (a 10-pixel grid drawn over 3x
crops): where a person would put a face box (brow to chin, cheek to cheek), and the eye centres,
nose tip and mouth corners.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matrix.cli import main
from matrix.models.postprocess import iou
from tests.unit.models.conftest import MNET_WEIGHTS, fixture_file

pytest.importorskip("onnxruntime", reason="the reference pipeline runs ONNX Runtime on the host")
Image = pytest.importorskip("PIL.Image", reason="Pillow reads the photos on the host")

# image: (hand box x1 y1 x2 y2, [left eye, right eye, nose tip, left mouth corner, right mouth corner])
HAND = {
    "skimage__astronaut.png": (
        (180, 65, 273, 182),
        [(205, 100), (246, 104), (224, 127), (203, 139), (244, 141)],
    ),
    "matplotlib__grace_hopper.jpg": (
        (183, 125, 352, 335),
        [(225, 190), (305, 187), (267, 245), (230, 278), (303, 277)],
    ),
}


@pytest.fixture
def mnet_weights() -> Path:
    """The real RetinaFace mobilenet0.25 weights (research-only licence: read from the shared fixtures)."""
    return fixture_file("weights", MNET_WEIGHTS)


def _detect(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    assert main(["models", "detect", *args]) == 0
    result: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return result


def test_list_names_every_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    text = capsys.readouterr().out
    for name in ("retinaface-mnet", "retinaface-r50", "scrfd-500m", "scrfd-2.5g", "yolov5s"):
        assert name in text
    assert "input0 [1, 3, 640, 640]" in text and "output [1, 25200, 85]" in text
    assert main(["models", "list", "--json"]) == 0
    specs = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in specs][-1] == "yolov5s" and specs[0]["weights_default"] == "synthetic"


def test_detect_finds_the_faces_where_a_person_would_put_them(
    mnet_weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [fixture_file("images", name) for name in HAND]
    out = _detect(
        capsys,
        "--model",
        "retinaface-mnet",
        "--weights",
        str(mnet_weights),
        *map(str, paths),
        "--draw",
        str(tmp_path / "d.png"),
    )
    assert [r["image"] for r in out] == [str(p) for p in paths]
    for result, (box, points) in zip(out, HAND.values(), strict=True):
        assert result["weights"] == f"file:{mnet_weights.name}"
        dets = result["detections"]
        assert len(dets) == 1, dets  # one face, nothing else above 0.5
        det = dets[0]
        assert det["score"] > 0.99
        overlap = float(iou(np.array([det["box"]]), np.array([box]))[0, 0])
        assert overlap >= 0.75, f"IoU {overlap:.3f} against the hand-checked box {box}"  # measured: 0.880, 0.890
        width = box[2] - box[0]
        for got, want in zip(det["landmarks"], points, strict=True):
            assert np.hypot(got[0] - want[0], got[1] - want[1]) < 0.06 * width, (got, want)
    for p in paths:
        with Image.open(tmp_path / f"d-{p.stem}.png") as drawn, Image.open(p) as original:
            assert drawn.size == original.size


def test_detect_finds_no_face_in_a_blank_image(
    mnet_weights: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for colour in ((255, 255, 255), (128, 128, 128), (0, 0, 0)):
        Image.new("RGB", (640, 480), colour).save(tmp_path / "blank.png")
        out = _detect(capsys, "--model", "retinaface-mnet", "--weights", str(mnet_weights), str(tmp_path / "blank.png"))
        assert out[0]["detections"] == []


def test_detect_with_synthetic_weights_says_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    Image.new("RGB", (64, 48), (10, 20, 30)).save(tmp_path / "x.png")
    out = _detect(capsys, "--model", "yolov5s", "--threshold", "0.9", str(tmp_path / "x.png"))
    assert out[0]["weights"] == "synthetic(seed=0)" and out[0]["model"] == "yolov5s"
    for det in out[0]["detections"]:
        assert det["score"] > 0.9 and "landmarks" not in det and "class_id" in det


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "retinaface", "IMG"], "unknown model 'retinaface'; the models are: retinaface-mnet"),
        (["--model", "retinaface-mnet", "MISSING"], "missing.png: no such image file"),
        (["--model", "retinaface-mnet", "BAD"], "bad.png: cannot read it as an image"),
        (
            ["--model", "retinaface-mnet", "--weights", "TINY", "IMG"],
            "tiny_zip.pth: does not match retinaface-mnet: missing tensor body.stage1.0.0.weight",
        ),
        (["--model", "retinaface-mnet", "--weights", "NOFILE", "IMG"], "nofile.pth: no such weights file"),
        (
            ["--model", "yolov5s", "--weights", "BAD", "IMG"],
            "unknown weights format '.png'; yolov5s takes .wts",
        ),
        (["--model", "scrfd", "--weights", "BADONNX", "IMG"], "bad.onnx: ONNX Runtime cannot load it"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    (tmp_path / "bad.onnx").write_bytes(b"not onnx")
    Image.new("RGB", (32, 32)).save(tmp_path / "img.png")
    tiny = Path(__file__).resolve().parents[1] / "models" / "data" / "tiny_zip.pth"
    subst = {
        "IMG": str(tmp_path / "img.png"),
        "MISSING": str(tmp_path / "missing.png"),
        "BAD": str(tmp_path / "bad.png"),
        "TINY": str(tiny),
        "NOFILE": str(tmp_path / "nofile.pth"),
        "BADONNX": str(tmp_path / "bad.onnx"),
    }
    assert main(["models", "detect", *[subst.get(a, a) for a in args]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trt-matrix: error: ") and err.count("\n") == 1 and message in err, err


def test_export_shows_progress_and_writes_the_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "export", "--models", "scrfd-500m", "--calib-count", "2", "--artifacts", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "[1/1] scrfd-500m: weights: synthetic (seed 0)" in err and "[1/1] scrfd-500m: done in" in err
    folder = tmp_path / "models" / "scrfd-500m"
    assert {p.name for p in folder.iterdir()} == {
        "model.onnx",
        "reference.npz",
        "meta.json",
        "calib",
        "eval.npz",  # FP32 outputs on the evaluation photos (INT8/FP16 accuracy)
        "eval.json",
        "model.qdq.onnx",  # the explicit-INT8 model (an INT8 model)
        "qdq.json",
    }


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--weights", "retinaface-mnet"], "expected NAME=FILE"),
        (["--weights", "nope=x.pth"], "unknown model 'nope'"),
        (["--weights", "yolov5s=x.wts"], "yolov5s is not among --models"),
        (["--weights", "scrfd-500m=/no/such.pth"], "/no/such.pth: no such file"),
        (["--models", "retina"], "unknown model 'retina'"),
        (["--images", "/no/such/dir"], "/no/such/dir: not a folder of images"),
        (["--calib-count", "0"], "--calib-count must be at least 1"),
    ],
)
def test_export_refuses_bad_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    args = ["models", "export", "--artifacts", str(tmp_path)]
    if "--models" not in extra:
        args += ["--models", "scrfd-500m", "retinaface-mnet"]
    assert main(args + extra) == 2
    err = capsys.readouterr().err
    assert err.startswith("trt-matrix: error: ") and message in err, err


def test_a_real_insightface_scrfd_file_finds_faces(capsys: pytest.CaptureFixture[str]) -> None:
    """With an insightface SCRFD .onnx (e.g. det_500m.onnx or scrfd_2.5g_bnkps.onnx) named by
    $TRT_MATRIX_SCRFD_ONNX, used as it is: the Grace Hopper face is found where the hand box says."""
    path = os.environ.get("TRT_MATRIX_SCRFD_ONNX")
    if not path:
        pytest.skip("set TRT_MATRIX_SCRFD_ONNX to an insightface SCRFD .onnx (with keypoints) to run this")
    photo = Path(__file__).resolve().parents[3] / "matrix" / "models" / "data" / "matplotlib__grace_hopper.jpg"
    out = _detect(capsys, "--model", "scrfd", "--weights", path, str(photo))
    dets = out[0]["detections"]
    assert dets and dets[0]["score"] > 0.5
    box, _ = HAND["matplotlib__grace_hopper.jpg"]
    assert float(iou(np.array([dets[0]["box"]]), np.array([box]))[0, 0]) >= 0.6
    assert len(dets[0]["landmarks"]) == 5
