"""Stored BOMs are keyed by image id; a failed probe leaves every fact absent with the reason."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from matrix.images import bom as image_bom
from matrix.suite import bom


def test_cache_dir_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRT_MATRIX_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert image_bom.cache_dir() == tmp_path / "xdg" / "trt-matrix"
    monkeypatch.setenv("TRT_MATRIX_CACHE", str(tmp_path / "explicit"))
    assert image_bom.cache_dir() == tmp_path / "explicit"
    assert image_bom.store_path("sha256:abc") == tmp_path / "explicit" / "images" / "sha256-abc.json"


def test_load_ignores_missing_broken_and_foreign_files(tmp_path: Path) -> None:
    assert image_bom.load("sha256:abc", tmp_path) is None
    path = image_bom.store_path("sha256:abc", tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    assert image_bom.load("sha256:abc", tmp_path) is None
    path.write_text(json.dumps({"schema": "something else"}), encoding="utf-8")
    assert image_bom.load("sha256:abc", tmp_path) is None
    path.write_bytes(b"\xff\xfe{")
    assert image_bom.load("sha256:abc", tmp_path) is None
    # a record with no usable bill of materials is damaged too (`ensure` would hand it to `summary`)
    path.write_text(json.dumps({"schema": image_bom.SCHEMA, "release": "trt86"}), encoding="utf-8")
    assert image_bom.load("sha256:abc", tmp_path) is None
    record = {"schema": image_bom.SCHEMA, "release": "trt86", "bom": image_bom._failed_probe("exit status 1")}
    path.write_text(json.dumps(record), encoding="utf-8")
    assert image_bom.load("sha256:abc", tmp_path) == record


def test_a_failed_probe_guesses_nothing() -> None:
    record = image_bom._failed_probe("exit status 127: python3: not found")
    for fact in bom.FACTS:
        assert record[fact] is None
        assert record["notes"][fact] == "the probe could not run in the image: exit status 127: python3: not found"


def test_the_probe_archive_carries_the_probe_unchanged() -> None:
    with tarfile.open(fileobj=io.BytesIO(image_bom._probe_archive())) as tar:
        member = tar.extractfile("trt-matrix-probe/bom.py")
        assert member is not None
        assert member.read() == Path(bom.__file__).read_bytes()
        assert tar.getmember("trt-matrix-probe").isdir()


def test_summary_says_absent_plainly() -> None:
    text = image_bom.summary(
        {
            "os": "Debian GNU/Linux 12 (bookworm)",
            "python": "3.11.2",
            "numpy": "1.26.4",
            "tensorrt_python": None,
            "tensorrt_trtexec": None,
            "cuda_runtime": None,
            "notes": {"tensorrt_python": "ModuleNotFoundError: No module named 'tensorrt'"},
        }
    )
    assert "Python 3.11.2" in text
    assert "TensorRT (python) absent" in text and "CUDA absent" in text
