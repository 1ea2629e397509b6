"""`trt-matrix quantize`: the Q/DQ model and its accuracy as JSON, the sweep, and clear refusals (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from matrix.cli import main

pytest.importorskip("onnxruntime", reason="quantization runs ONNX Runtime on the host")
pytest.importorskip("PIL", reason="Pillow reads the photos on the host")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(["quantize", *args])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.strip() else out), err


def test_quantize_prints_the_model_path_and_its_accuracy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, result, _ = run(capsys, "--model", "scrfd-500m", "--out", str(tmp_path / "q"), "--calib-count", "2")
    assert code == 0
    assert result["qdq_onnx"] == str(tmp_path / "q" / "scrfd-500m.qdq.onnx")
    assert Path(result["qdq_onnx"]).is_file()
    assert set(result["outputs"]) == {f"{k}_{s}" for k in ("score", "bbox", "kps") for s in (8, 16, 32)}
    for metrics in result["outputs"].values():
        assert set(metrics) >= {"cosine", "max_abs"} and -1.0 <= metrics["cosine"] <= 1.0
    assert set(result["detection"]) >= {"recall", "precision"} and result["detection"]["iou"] == 0.5
    assert result["weights"] == "synthetic(seed=0)" and result["tensorrt_problems"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "yolov5s"], "quantize takes the INT8 models: retinaface-mnet, retinaface-r50, scrfd-500m"),
        (["--model", "nope"], "--model 'nope'"),
        (["--model", "scrfd-500m", "--weights", "/no/such.pth"], "--weights /no/such.pth: no such file"),
        (["--model", "scrfd-500m", "--calib-count", "0"], "--calib-count must be at least 1"),
        (["--model", "scrfd-500m", "--record", "x.toml"], "--record goes with --sweep"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    code, _, err = run(capsys, *args, "--out", str(tmp_path))
    assert code == 2
    assert err.startswith("trt-matrix: error: ") and message in err and err.count("\n") == 1


def test_an_empty_photo_folder_and_a_file_as_out_are_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "--model", "scrfd-500m", "--images", str(empty), "--out", str(tmp_path))
    assert code == 2 and "no images in it" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "--model", "scrfd-500m", "--calib-count", "1", "--out", str(blocker))
    assert code == 2 and "exists and is not a folder" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("measurement = [", "--record {path}: "),  # not TOML
        ("measurement = 3\n", "not a file `quantize --sweep --record` wrote"),
        ("[measured]\ncommands = 'one'\n", "not a file `quantize --sweep --record` wrote"),
        (None, "the folder {path.parent} does not exist"),
    ],
)
def test_a_bad_record_file_is_refused_before_the_sweep_runs(
    content: str | None,
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from matrix.models import quantize_sweep

    def no_sweep(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("the sweep ran although --record was bad")

    monkeypatch.setattr(quantize_sweep, "sweep", no_sweep)
    path = tmp_path / "qdq.toml" if content is not None else tmp_path / "missing" / "qdq.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, _, err = run(capsys, "--model", "scrfd-500m", "--sweep", "--record", str(path), "--out", str(tmp_path))
    assert code == 2, err
    assert err.startswith("trt-matrix: error: ") and message.format(path=path) in err and err.count("\n") == 1, err
    if content is not None:
        assert path.read_text(encoding="utf-8") == content  # left as it was


def test_sweep_records_its_rows_below_the_marker(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matrix.models import images, quantize, quantize_sweep

    few = [c for c in quantize_sweep.CANDIDATES if c[0] in ("minmax-ma-per-channel", "ort-defaults")]
    monkeypatch.setattr(quantize_sweep, "CANDIDATES", few)
    toml = tmp_path / "qdq.toml"
    toml.write_text(quantize.SETTINGS_FILE.read_text(encoding="utf-8").split(quantize_sweep.MARKER)[0])
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "face.jpg").write_bytes(images.REFERENCE_PHOTO.read_bytes())
    args = ["--model", "scrfd-500m", "--images", str(photos), "--calib-count", "1", "--out", str(tmp_path)]
    code, result, _ = run(capsys, *args, "--sweep", "--record", str(toml))
    assert code == 0 and [r["candidate"] for r in result["rows"]] == ["ort-defaults", "minmax-ma-per-channel"]
    assert result["best"] == "minmax-ma-per-channel"  # the defaults are not TensorRT-valid
    from matrix.models import tomlload

    data = tomlload.load(toml)
    assert data["settings"] == tomlload.load(quantize.SETTINGS_FILE)["settings"]  # the hand-written part kept
    assert [r["candidate"] for r in data["measurement"]] == ["ort-defaults", "minmax-ma-per-channel"]
    assert data["measured"]["commands"] == [
        "trt-matrix quantize --model scrfd-500m --images photos --calib-count 1 --out OUT --sweep --record "
        "matrix/models/qdq.toml"
    ]
    code, _, _ = run(capsys, *args, "--sweep", "--record", str(toml))  # again: replaced, not appended
    assert len(tomlload.load(toml)["measurement"]) == 2
