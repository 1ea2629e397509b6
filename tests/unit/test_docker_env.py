"""Connecting to Docker fails with one line that says what to do, never a traceback."""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from matrix import docker_env
from matrix.cli import main
from matrix.errors import UserError


@pytest.fixture
def closed_socket(tmp_path: Path) -> Iterator[Path]:
    """A unix socket file nobody listens on (bound, then closed): connections are refused."""
    path = tmp_path / "docker.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()
    yield path


def test_a_closed_socket_says_the_daemon_is_not_running(closed_socket: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{closed_socket}")
    with pytest.raises(UserError, match=r"the Docker daemon is not running: .* refused"):
        docker_env.connect(timeout=3)


@pytest.mark.parametrize("argv", [["images", "list"], ["images", "build", "--only", "trt86"]])
def test_cli_with_a_closed_socket_exits_2_with_one_line(
    closed_socket: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{closed_socket}")
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("trt-matrix: error: the Docker daemon is not running")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err + captured.out
    assert "systemctl start docker" in captured.err


def test_a_missing_socket_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'absent.sock'}")
    with pytest.raises(UserError, match=r"no Docker daemon socket at .*absent\.sock"):
        docker_env.connect(timeout=3)


def test_an_unreachable_tcp_host_names_docker_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 9 (discard) on loopback: nothing listens there in a test environment, so it is refused.
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    with pytest.raises(UserError, match=r"DOCKER_HOST=tcp://127\.0\.0\.1:9 is unreachable"):
        docker_env.connect(timeout=3)


def test_an_invalid_docker_host_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "bogus://x")
    with pytest.raises(UserError, match=r"DOCKER_HOST=bogus://x is not a valid Docker address"):
        docker_env.connect(timeout=3)


def _raised(outer: Exception, inner: BaseException) -> Exception:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise outer from exc
    except Exception as final:
        return final


def test_permission_denied_on_the_socket_says_how_to_get_access() -> None:
    # Running as root, the test cannot be refused by a real socket's mode; the SDK wraps the
    # PermissionError the same way it wraps ConnectionRefusedError (see the closed-socket test).
    exc = _raised(RuntimeError("Error while fetching server API version"), PermissionError(errno.EACCES, "denied"))
    error = docker_env.explain(exc, "unix:///var/run/docker.sock", 10)
    assert "permission denied on the Docker socket /var/run/docker.sock" in str(error)
    assert "usermod -aG docker" in str(error)


def test_a_timeout_names_the_limit() -> None:
    exc = _raised(RuntimeError("Error while fetching server API version"), TimeoutError("timed out"))
    error = docker_env.explain(exc, "unix:///var/run/docker.sock", 7)
    assert "did not answer within 7 s" in str(error)
