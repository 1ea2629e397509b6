"""One suite container: least privilege, a deadline, its exit read back, and always removed.

Contract: `run_container(client, job, tick)` creates the container for `job`, starts it, calls
`tick()` about twice a second while it runs, kills it at its deadline, and returns how it ended
(`Ended`: exit code, signal, OOM-killed, timed out, the tail of its logs). The container is removed
in every case, Ctrl-C included (`Reaper` removes whatever a run started). Settings: no network,
every capability dropped, no-new-privileges, read-only root file system with a /tmp tmpfs, a pid
limit, the repository and other producers' artifacts mounted read-only, a non-root user, one GPU.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

LABEL = "org.trt-matrix.run"
POLL_S = 0.5  # how often a running container's progress is shown; its exit is seen at once
LOG_TAIL = 40


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


class Reaper:
    """Remembers every container a run creates and removes them all on exit, error or Ctrl-C."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def add(self, container_id: str) -> None:
        with self._lock:
            self._ids.add(container_id)

    def remove(self, container_id: str) -> None:
        try:
            self.client.containers.get(container_id).remove(force=True)
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


def run_container(client: Any, job: Job, reaper: Reaper, tick: Callable[[], None]) -> Ended:
    started = time.monotonic()
    container = client.containers.create(**create_kwargs(job))
    reaper.add(container.id)
    timed_out = False
    try:
        container.start()
        deadline = started + job.timeout_s
        while True:
            try:
                container.wait(timeout=POLL_S)  # returns the moment the container exits
                break
            except requests.exceptions.ConnectionError:  # still running after POLL_S: the wait timed out
                pass
            if time.monotonic() > deadline:
                timed_out = True
                container.kill()
                container.wait(timeout=30)
                break
            tick()
        container.reload()
        tick()
        state = container.attrs.get("State", {})
        raw_logs = container.logs(tail=LOG_TAIL).decode("utf-8", errors="replace")
        exit_code = state.get("ExitCode")
        return Ended(
            exit_code=exit_code,
            signal=_signal_name(exit_code) if isinstance(exit_code, int) else None,
            oom_killed=bool(state.get("OOMKilled")),
            timed_out=timed_out,
            error=str(state.get("Error") or ""),
            logs=tuple(line for line in raw_logs.splitlines() if line.strip()),
            duration_s=round(time.monotonic() - started, 3),
        )
    finally:
        reaper.remove(container.id)
