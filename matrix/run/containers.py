"""One suite container: least privilege, a deadline, its exit read back, and always removed.

Contract: `run_container(client, job, tick)` creates the container for `job`, starts it, calls
`tick()` about twice a second while it runs, kills it at its deadline, and returns how it ended
(`Ended`: exit code, signal, OOM-killed, timed out, the tail of its logs). The container is removed
in every case, Ctrl-C included (`Reaper` removes whatever a run started). Settings: no network,
every capability dropped, no-new-privileges, read-only root file system with a /tmp tmpfs, a pid
limit, the repository and other producers' artifacts mounted read-only, a non-root user, one GPU.

A daemon that stops answering while a container runs (restarted, stopped, crashed) is waited for up to
`daemon_grace_s()`: when it answers again, the container (stopped by the daemon's shutdown, or kept
by live-restore) is abandoned and `Ended.daemon_lost` says why, so the runner records the cell in flight
as infra_error and starts a fresh container for the rest; when it does not, `DaemonGone` is raised.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

LABEL = "org.trt-matrix.run"
POLL_S = 0.5  # how often a running container's progress is shown; its exit is seen at once
LOG_TAIL = 40
DAEMON_GRACE_S = 60.0  # how long a run waits for a restarted daemon before it stops
STABLE_PINGS = 3  # one a second
DAEMON_GRACE_ENV = "TRT_MATRIX_DAEMON_GRACE_S"  # overrides it (the fault tests use a few seconds)


def daemon_grace_s() -> float:
    text = os.environ.get(DAEMON_GRACE_ENV, "")
    try:
        return float(text) if text else DAEMON_GRACE_S
    except ValueError:
        return DAEMON_GRACE_S


class DaemonGone(Exception):
    """The Docker daemon stopped answering while a container ran and did not come back in time."""

    def __init__(self, job: Job, reason: str, waited_s: float) -> None:
        self.job = job
        self.reason = reason
        self.waited_s = waited_s
        super().__init__(f"{reason} (waited {waited_s:.0f} s for it to come back)")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Mount:
    source: str
    target: str
    read_only: bool


@dataclasses.dataclass(frozen=True, kw_only=True)
class Job:
    """What one container runs: one release's image, one phase."""

    run_id: str
    release: str
    phase: int
    image: str
    command: tuple[str, ...]
    environment: Mapping[str, str]
    mounts: tuple[Mount, ...]
    user: str
    gpu: int | None
    timeout_s: float
    memory: str | None = None

    @property
    def name(self) -> str:
        return f"trt-matrix-{self.run_id}-{self.release}-p{self.phase}".replace(":", "-")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ended:
    exit_code: int | None
    signal: str | None
    oom_killed: bool
    timed_out: bool
    error: str
    logs: tuple[str, ...]
    duration_s: float
    daemon_lost: str = ""  # why the daemon stopped answering while the container ran ('' if it did not)


class Reaper:
    """Remembers every container a run creates and removes them all on exit, error or Ctrl-C."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, container_id: str) -> None:
        with self._lock:
            self._ids.add(container_id)

    def remove(self, container_id: str, keep_if_unreachable: bool = False) -> None:
        try:
            self.client.containers.get(container_id).remove(force=True)
        except requests.exceptions.RequestException:
            if keep_if_unreachable:  # the daemon is away: remove_all (or the next run) tries again
                return
            raise
        except Exception as exc:  # already gone is fine; anything else is reported by remove_all
            if "No such container" not in str(exc) and "404" not in str(exc):
                raise
        with self._lock:
            self._ids.discard(container_id)

    def remove_stale(self, run_id: str) -> int:
        """Remove containers an earlier, killed runner left for this run id; returns how many."""
        stale = self.client.api.containers(all=True, filters={"label": f"{LABEL}={run_id}"})
        for entry in stale:
            self.client.api.remove_container(entry["Id"], force=True)
        return len(stale)

    def remove_all(self) -> list[str]:
        """Remove what is left; returns the errors (a run reports them, it does not hide them)."""
        errors = []
        for container_id in list(self._ids):
            try:
                self.remove(container_id)
            except Exception as exc:
                errors.append(f"could not remove container {container_id[:12]}: {exc}")
        return errors


def _signal_name(exit_code: int) -> str | None:
    if exit_code > 128:
        try:
            return signal.Signals(exit_code - 128).name
        except ValueError:
            return None
    return None


def create_kwargs(job: Job) -> dict[str, Any]:
    """The container's settings (kept apart so tests can check the least-privilege ones)."""
    import docker.types

    kwargs: dict[str, Any] = {
        "image": job.image,
        "command": list(job.command),
        "name": job.name,
        "environment": dict(job.environment),
        "mounts": [
            docker.types.Mount(target=m.target, source=m.source, type="bind", read_only=m.read_only) for m in job.mounts
        ],
        "labels": {LABEL: job.run_id, "org.trt-matrix.release": job.release, "org.trt-matrix.phase": str(job.phase)},
        "network_mode": "none",
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "read_only": True,
        "tmpfs": {"/tmp": "rw,exec,nosuid,size=16g"},  # noqa: S108 - the container's own private tmpfs
        "pids_limit": 4096,
        "user": job.user,
        "init": True,
        "detach": True,
        "working_dir": "/opt/trt-matrix",
    }
    if job.memory:
        kwargs["mem_limit"] = job.memory
    if job.gpu is not None:
        kwargs["device_requests"] = [docker.types.DeviceRequest(device_ids=[str(job.gpu)], capabilities=[["gpu"]])]
    return kwargs


# What the SDK raises when the daemon does not answer (an APIError is an answer: it is not one of these).
DAEMON_AWAY = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _remove_named(client: Any, name: str) -> None:
    import docker

    with contextlib.suppress(docker.errors.NotFound):
        client.api.remove_container(name, force=True)


def _wait_timed_out(exc: BaseException) -> bool:
    """Whether a `wait(timeout=...)` error is only its timeout (the container still runs), not a lost daemon."""
    import urllib3

    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        if isinstance(current, urllib3.exceptions.ReadTimeoutError):
            return True
        current = current.__cause__ or current.__context__
    return False


def _daemon_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"the Docker daemon stopped answering ({text[0][:200] if text else type(exc).__name__})"


def _await_daemon(client: Any, job: Job, reason: str, tick: Callable[[], None]) -> None:
    """Wait for the daemon to answer a ping again, showing progress; DaemonGone after the grace time."""
    grace = daemon_grace_s()
    started = time.monotonic()
    answered = 0  # a daemon shutting down may still answer a moment: it is back after STABLE_PINGS in a row
    while True:
        try:
            client.api.ping()
            answered += 1
            if answered >= STABLE_PINGS:
                return
        except (requests.exceptions.RequestException, OSError):
            answered = 0
        except Exception as exc:  # a daemon still starting up answers with errors: not back yet
            if "docker" not in type(exc).__module__:
                raise
            answered = 0
        waited = time.monotonic() - started
        if waited > grace:
            raise DaemonGone(job, reason, waited)
        tick()
        time.sleep(1.0)


def _wait_for_exit(container: Any, job: Job, started: float, tick: Callable[[], None]) -> bool:
    """Until the container exits (True if it was killed at its deadline); a lost daemon raises."""
    deadline = started + job.timeout_s
    while True:
        try:
            container.wait(timeout=POLL_S)  # returns the moment the container exits
            return False
        except requests.exceptions.ConnectionError as exc:
            if not _wait_timed_out(exc):
                raise  # not "still running after POLL_S": the daemon is away
        if time.monotonic() > deadline:
            container.kill()
            container.wait(timeout=30)
            return True
        tick()


def _logs(container: Any) -> tuple[str, ...]:
    raw = container.logs(tail=LOG_TAIL).decode("utf-8", errors="replace")
    return tuple(line for line in raw.splitlines() if line.strip())


def run_container(client: Any, job: Job, reaper: Reaper, tick: Callable[[], None]) -> Ended:
    started = time.monotonic()
    container = None
    try:
        try:
            _remove_named(client, job.name)  # one an earlier attempt left while the daemon was away
            container = client.containers.create(**create_kwargs(job))
            reaper.add(container.id)
            container.start()
            timed_out = _wait_for_exit(container, job, started, tick)
            container.reload()
            tick()
            state = container.attrs.get("State", {})
            exit_code = state.get("ExitCode")
            return Ended(
                exit_code=exit_code,
                signal=_signal_name(exit_code) if isinstance(exit_code, int) else None,
                oom_killed=bool(state.get("OOMKilled")),
                timed_out=timed_out,
                error=str(state.get("Error") or ""),
                logs=_logs(container),
                duration_s=round(time.monotonic() - started, 3),
            )
        except DAEMON_AWAY as exc:  # the daemon went away (restart, stop, crash)
            reason = _daemon_reason(exc)
            _await_daemon(client, job, reason, tick)
            logs: tuple[str, ...] = ()
            if container is not None:
                try:
                    logs = _logs(container)
                except Exception as again:  # a daemon that lost the container too: nothing to show
                    logs = (f"(no logs: {str(again).strip()[:200]})",)
            return Ended(
                exit_code=None,
                signal=None,
                oom_killed=False,
                timed_out=False,
                error="",
                logs=logs,
                duration_s=round(time.monotonic() - started, 3),
                daemon_lost=reason,
            )
    finally:
        if container is not None:
            reaper.remove(container.id, keep_if_unreachable=True)
