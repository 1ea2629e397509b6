"""The host loader and lint of expectations.toml, and the `trt-matrix expectations` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from matrix import catalogue
from matrix.cli import main
from matrix.errors import UserError
from matrix.report import expectations

GOOD = """
schema = 1
[[expectation]]
id = "x"
check = "deserialize"
variant = "onnx"
status = "fail"
reason = "r"
citation = "https://github.com/NVIDIA/TensorRT/issues/2072"
added = 2026-11-21
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "expectations.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_packaged_file_loads_and_lints_clean() -> None:
    entries = expectations.load()
    report = expectations.lint(None, catalogue.load())
    assert report.errors == ()
    assert report.entries == len(entries) >= 8
    assert report.dormant == ()  # every seed story has its release in the catalogue (trt104, trt853)


def test_load_errors_name_the_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('citation = "https://github.com/NVIDIA/TensorRT/issues/2072"\n', ""))
    with pytest.raises(UserError, match=r"expectations.toml: expectation 1 \('x'\): field 'citation': missing"):
        expectations.load(path)
    with pytest.raises(UserError, match="not valid TOML"):
        expectations.load(write(tmp_path, "schema = [\n"))
    with pytest.raises(UserError, match="no such file; expected an expectations file"):
        expectations.load(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('check = "deserialize"', 'check = "deserialise"', "names no check"),
        ('variant = "onnx"', 'variant = "onxx"', "variant ['onxx'] matches no variant"),
        (
            'variant = "onnx"',
            'variant = "onnx"\nmodel = "retinaface"',
            "model ['retinaface'] matches no model",
        ),
        ('check = "deserialize"', 'check = "serialize"\npair = "off-diagonal"', "needs a cross check"),
    ],
)
def test_lint_refuses_selectors_that_name_nothing(tmp_path: Path, old: str, new: str, message: str) -> None:
    report = expectations.lint(write(tmp_path, GOOD.replace(old, new)), catalogue.load())
    assert any(message in e for e in report.errors), report.errors


def test_cli_lint_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expectations", "lint"]) == 0
    assert "expectations lint: ok" in capsys.readouterr().out
    assert main(["expectations", "lint", str(write(tmp_path, GOOD.replace("deserialize", "deserialise")))]) == 1
    assert "error: expectation 'x'" in capsys.readouterr().out
    bad = write(tmp_path, GOOD.replace('status = "fail"', 'status = "fail"\nseverity = "high"'))
    assert main(["expectations", "lint", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trt-matrix: error: ") and "field 'severity': unknown field" in err
    assert err.count("\n") == 1
    no_cite = write(tmp_path, GOOD.replace('"https://github.com/NVIDIA/TensorRT/issues/2072"', '"see the forum"'))
    assert main(["expectations", "lint", str(no_cite)]) == 2
    assert "is not an https:// URL" in capsys.readouterr().err
    unknown_status = write(tmp_path, GOOD.replace('status = "fail"', 'status = "flaky"'))
    assert main(["expectations", "lint", str(unknown_status)]) == 2
    assert "'flaky' is not one of" in capsys.readouterr().err


def test_cli_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["expectations", "list"]) == 0
    out = capsys.readouterr().out
    assert (
        "retinaface-int8-decode-plugin-scales" in out and "https://github.com/wang-xinyu/tensorrtx/issues/1456" in out
    )
