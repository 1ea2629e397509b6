"""The toolchain check's other paths, on the double of 10.8: an image without trtexec (pip-installed
TensorRT ships none), a trtexec that prints no version banner, one that cannot build a plan, one that dies
loading one. The trtexec here is a shell script on PATH (the double's own trtexec is left off PATH: run_py
does not add tests/double/bin), so each case is the exact output the check has to judge.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from matrix.suite import bom

from tests.double.conftest import artifacts_with
from tests.double.test_double import CHECKS, run_py

VERSION = "10.8.0.43"
MODEL = "retinaface-mnet"

pytestmark = pytest.mark.skipif(
    any(Path(p).exists() for p in bom.TRTEXEC_CANDIDATES),
    reason="a trtexec is installed where NGC images put it ({}): the check would find it".format(
        ", ".join(bom.TRTEXEC_CANDIDATES)
    ),
)


def _bin(tmp_path: Path, trtexec: str | None) -> str:
    """A PATH of one folder holding `trtexec` (a /bin/sh script), or nothing."""
    folder = tmp_path / "bin"
    folder.mkdir()
    if trtexec is not None:
        script = folder / "trtexec"
        script.write_text("#!/bin/sh\n" + trtexec + "\n", encoding="utf-8")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(folder)


def _cell(tmp_path: Path, cell: str, trtexec: str | None, exported: Path | None = None) -> Any:
    artifacts = tmp_path / "artifacts"
    if exported is not None:
        artifacts_with(exported, artifacts)
    else:
        artifacts.mkdir()
    return run_py(VERSION, CHECKS, str(artifacts), cell, path=_bin(tmp_path, trtexec))[cell]


def test_without_trtexec_the_version_cell_is_na_and_says_the_rest_agree(tmp_path: Path) -> None:
    got = _cell(tmp_path, "toolchain:trt10>trt10:-:-:version", None)
    assert got["status"] == "na", got["reason"]
    assert "no trtexec in this image" in got["reason"] and f"bindings {VERSION}" in got["reason"], got["reason"]


def test_without_trtexec_the_plan_exchange_cells_are_na(tmp_path: Path, exported: Path) -> None:
    got = _cell(tmp_path, f"toolchain:trt10>trt10:{MODEL}:fp32:trtexec-to-python", None, exported)
    assert got["status"] == "na" and "no trtexec" in got["reason"], got["reason"]


def test_a_trtexec_without_a_version_banner_fails_the_version_cell(tmp_path: Path) -> None:
    got = _cell(tmp_path, "toolchain:trt10>trt10:-:-:version", "echo 'usage: trtexec [options]'")
    assert got["status"] == "fail" and "printed no version banner" in got["reason"], got["reason"]
    assert got["measurements"]["trtexec"] is None and got["measurements"]["python_bindings"] == VERSION


def test_a_trtexec_that_cannot_build_fails_with_its_error_lines(tmp_path: Path, exported: Path) -> None:
    error = "[12/02/2026-10:00:00] [E] [TRT] ModelImporter.cpp:773: While parsing node number 0 [Conv]:"
    script = f"echo '{error}'; echo '[W] [TRT] onnx2trt_utils.cpp:374: INT64 weights'; exit 1"
    got = _cell(tmp_path, f"toolchain:trt10>trt10:{MODEL}:fp32:trtexec-to-python", script, exported)
    assert got["status"] == "fail" and got["reason"] == "trtexec could not build the plan (exit 1)", got["reason"]
    severities = {x["text"]: x["severity"] for x in got["log"]}
    assert severities.get(error) == "error", got["log"]
    assert any(s == "warning" and "INT64 weights" in t for t, s in severities.items()), got["log"]


def test_a_trtexec_that_dies_without_an_error_line_leaves_its_last_words(tmp_path: Path, exported: Path) -> None:
    """python-to-trtexec: the plan is built by the double's bindings, then trtexec dies loading it."""
    script = "echo '&&&& RUNNING TensorRT.trtexec [TensorRT v100800]'; echo 'Segmentation fault' >&2; exit 139"
    got = _cell(tmp_path, f"toolchain:trt10>trt10:{MODEL}:fp32:python-to-trtexec", script, exported)
    assert got["status"] == "fail", got["reason"]
    assert got["reason"] == "trtexec could not load the Python-built plan (exit 139)", got["reason"]
    assert {"severity": "stderr", "text": "Segmentation fault"} in got["log"], got["log"]
