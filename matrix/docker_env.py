"""Connecting to the Docker daemon, with errors a user can act on.

Contract: `connect()` returns a `docker.DockerClient` that has answered a ping, or raises `UserError`
with one line saying what is wrong (daemon not running, no socket, permission denied on the socket,
DOCKER_HOST unreachable or not a Docker daemon, SDK missing) and what to do about it. Nothing else in
the project calls `docker.from_env()` directly.
"""

from __future__ import annotations

import errno
import gc
import os
import socket
import warnings
from typing import TYPE_CHECKING

from matrix.errors import UserError

if TYPE_CHECKING:
    import docker

DEFAULT_HOST = "unix:///var/run/docker.sock"
CONNECT_TIMEOUT_S = 10.0


def docker_host() -> str:
    """The daemon address the SDK will use (DOCKER_HOST, else the default socket)."""
    return os.environ.get("DOCKER_HOST", "").strip() or DEFAULT_HOST


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def explain(exc: BaseException, host: str, timeout: float) -> UserError:
    """Turn whatever the SDK raised while connecting into one actionable line."""
    chain = _chain(exc)
    names = {type(e).__name__ for e in chain}
    oserrors = [e for e in chain if isinstance(e, OSError) and e.errno is not None]
    code = oserrors[-1].errno if oserrors else None
    is_unix = host.startswith("unix://")
    where = host.removeprefix("unix://") if is_unix else host
    set_by = "DOCKER_HOST=" + host if os.environ.get("DOCKER_HOST", "").strip() else host
    if "Install paramiko" in str(exc):
        return UserError(f"{set_by} needs the paramiko package for ssh://: pip install paramiko")
    if "Invalid bind address" in str(exc):
        return UserError(
            f"{set_by} is not a valid Docker address ({_first_line(exc)}); "
            "use unix:///path/to/docker.sock or tcp://host:port"
        )
    if code in (errno.EACCES, errno.EPERM):
        return UserError(
            f"permission denied on the Docker socket {where}: add your user to the docker group "
            "(sudo usermod -aG docker $USER, then log in again) or run as root"
        )
    if is_unix and code == errno.ENOENT:
        return UserError(
            f"no Docker daemon socket at {where}: the daemon is not running or not installed; "
            "start it (sudo systemctl start docker) or point DOCKER_HOST at a running daemon"
        )
    if is_unix and code == errno.ECONNREFUSED:
        return UserError(
            f"the Docker daemon is not running: {where} refused the connection; "
            "start it (sudo systemctl start docker) or point DOCKER_HOST at a running daemon"
        )
    timed_out = bool(names & {"ReadTimeout", "ConnectTimeout", "Timeout", "TimeoutError"}) or any(
        isinstance(e, socket.timeout | TimeoutError) for e in chain
    )
    if timed_out:
        return UserError(
            f"the Docker daemon at {set_by} did not answer within {timeout:g} s: check that it is running "
            "and reachable (docker info)"
        )
    if not is_unix and (code is not None or "ConnectionError" in names or "NewConnectionError" in names):
        reason = os.strerror(code) if code is not None else _first_line(chain[-1])
        return UserError(
            f"{set_by} is unreachable ({reason}): check the address and that the daemon listens there, "
            "or unset DOCKER_HOST to use the local daemon"
        )
    if names & {"NotFound", "HTTPError", "APIError"}:
        return UserError(f"{set_by} answered, but not as a Docker daemon ({_first_line(chain[-1])}): check DOCKER_HOST")
    return UserError(f"cannot talk to the Docker daemon at {set_by}: {_first_line(exc)}")


def connect(timeout: float = CONNECT_TIMEOUT_S) -> docker.DockerClient:
    """A client that has answered a ping within `timeout` seconds, or a `UserError`."""
    try:
        import docker
    except ImportError:
        raise UserError("the Docker SDK for Python is not installed: pip install 'docker>=7'") from None
    host = docker_host()
    error: UserError | None = None
    # When the connection fails, the SDK's unix-socket adapter drops its socket without closing it;
    # collect it here, quietly, rather than let a ResourceWarning surface later somewhere else.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env(timeout=int(max(1, timeout)))
            client.ping()
        except Exception as exc:  # the SDK raises DockerException, requests errors or OSError
            error = explain(exc, host, timeout)
        if error is not None:
            gc.collect()
    if error is not None:
        raise error
    return client
