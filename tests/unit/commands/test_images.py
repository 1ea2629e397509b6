"""`trt-matrix images ...`: bad input is one line and exit 2, before any daemon is needed."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from matrix import catalogue
from matrix.cli import main


@pytest.fixture(autouse=True)
def no_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point DOCKER_HOST at a closed socket: these errors must come before any daemon is asked."""
    path = tmp_path / "closed.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith("trt-matrix: error: ")
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize("command", ["build", "list"])
def test_an_unknown_release_id_exits_2(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", command, "--only", "trt86,trt99"]) == 2
    err = _one_line_error(capsys)
    assert "unknown release id(s) trt99" in err and "trt86" in err


def test_a_malformed_catalogue_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "versions.toml"
    shutil.copyfile(catalogue.DEFAULT_PATH, path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('install = "pip"', 'install = "conda"', 1), encoding="utf-8")
    assert main(["images", "build", "--catalogue", str(path), "--only", "trt86"]) == 2
    err = _one_line_error(capsys)
    assert str(path) in err and "field 'install': 'conda' is not one of" in err


def test_a_missing_ca_bundle_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "build", "--only", "trt86", "--ca-bundle", "/nonexistent/ca.crt"]) == 2
    assert "--ca-bundle /nonexistent/ca.crt: no such file" in _one_line_error(capsys)


def test_a_bad_index_url_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "build", "--only", "trt86", "--index-url", "pypi.mirror"]) == 2
    assert "--index-url 'pypi.mirror' is not a URL" in _one_line_error(capsys)


def test_valid_input_then_reaches_the_daemon_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "build", "--only", "trt8*"]) == 2
    assert "the Docker daemon is not running" in _one_line_error(capsys)


def test_test_base_without_a_daemon_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images", "test-base"]) == 2
    assert "the Docker daemon is not running" in _one_line_error(capsys)
