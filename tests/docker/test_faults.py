"""Faults of the machine during `trt-matrix run`, with the real Docker engine: a results folder whose file
system fills up mid-run, and a Docker daemon restarted (or stopped) mid-run.

The full disk: the results folder is a small tmpfs this test mounts (root only), filled with a ballast
file until exactly one page is free, so the fourth phase-1 record of trt86 does not fit (a short write in
the middle of the line). The run must stop with one line, keep every finished record whole, leave no
container, and `--resume` must complete the run once the ballast is deleted.

The restarted daemon: never the shared one. The test starts a private dockerd (its own data root, exec
root, socket and pid file; no bridge, no iptables), loads the test base into it, builds the trt86 image
there once (with the host's network: the private daemon has none, and the runner's own build then comes
from the cache), and restarts or stops that daemon while a container of the run hangs (the suite's
`hang:N` fault). Its daemon, mounts and folders are removed in every outcome.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from matrix.run import results
from matrix.suite.schema import CellResult
from tests.docker.conftest import CA

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
TOKEN = uuid.uuid4().hex[:8]
CELLS = ("-k", "toolchain:*:version", "-k", "destroy-order:*:cpp-*", "-k", "exchange")
PLANNED = 5  # 4 phase-1 cells of trt86, 1 phase-2 cell
PAGE = 4096


def rid(name: str) -> str:
    return f"{name}-{TOKEN}"


def command(tmp: Path, results_dir: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "matrix",
        "run",
        "--docker",
        "--only",
        "trt86",
        "--skip-tensorrt",
        "--base-image",
        "trt-matrix/test-base:bookworm",
        "--ca-bundle",
        str(CA),
        *CELLS,
        "--results",
        str(results_dir),
        "--artifacts",
        str(tmp / "artifacts"),
        "--no-report",
        *extra,
    ]


def run(cmd: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, cwd=ROOT, env=dict(os.environ, CI="true", **env), capture_output=True, text=True, timeout=600, check=False
    )


def error_line(stderr: str) -> str:
    """The run's one error line: the last line of stderr (the progress above it goes there too), and the
    only one of its kind."""
    lines = stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("trt-matrix: error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], stderr[-3000:]
    return errors[0]


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]


def ours(client: Any) -> list[str]:
    """Containers of this module's runs on the daemon `client` talks to."""
    found = client.api.containers(all=True, filters={"label": "org.trt-matrix.run"})
    return sorted(e["Names"][0] for e in found if e.get("Labels", {}).get("org.trt-matrix.run", "").endswith(TOKEN))


def by_id(records: list[CellResult]) -> dict[str, CellResult]:
    return {r.cell_id: r for r in records}


def unique_ids(folder: Path) -> list[str]:
    ids = [r.cell_id for r in results.load([folder])]
    assert len(ids) == len(set(ids)), f"duplicate records: {sorted(ids)}"
    return ids


def _unmount_under(root: Path) -> None:
    """Unmount whatever is still mounted under `root`, deepest first (a dockerd killed hard leaves some)."""
    mounts = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for target in sorted((m for m in mounts if m == str(root) or m.startswith(f"{root}/")), reverse=True):
        subprocess.run(["umount", "-l", target], check=False, capture_output=True)


def _has_link(name: str) -> bool:
    return subprocess.run(["ip", "link", "show", name], capture_output=True, check=False).returncode == 0


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root: the test mounts a tmpfs / starts a private dockerd")


# --- the full disk -------------------------------------------------------------------------------------


@contextlib.contextmanager
def small_tmpfs(where: Path, pages: int) -> Iterator[Path]:
    where.mkdir(parents=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={pages * PAGE},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill_leaving(folder: Path, pages: int) -> Path:
    """A ballast file that takes every page of the file system but `pages`; returns it."""
    ballast = folder / "ballast"
    fd = os.open(ballast, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            try:
                os.write(fd, b"\0" * PAGE)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
                break
        os.ftruncate(fd, os.fstat(fd).st_size - pages * PAGE)
    finally:
        os.close(fd)
    return ballast


def test_a_full_results_file_system_stops_the_run_in_one_line_and_resume_completes_it(
    tmp_path: Path, test_base: str, docker_client: Any
) -> None:
    _need_root()
    with small_tmpfs(tmp_path / "results", pages=32) as folder:
        # a page for each small file the run writes before its phase-1 cells (their input keys, the reuse
        # index) and one for the records: trt86's 4th phase-1 record then meets a full disk mid-line
        ballast = fill_leaving(folder, 3)
        cmd = command(tmp_path, folder, "--run-id", rid("full"))
        started = time.monotonic()
        stopped = run(cmd)
        print(f"full disk: the run stopped after {time.monotonic() - started:.1f} s")
        no_traceback(stopped)
        assert stopped.returncode == 2, stopped.stdout[-2000:] + stopped.stderr[-2000:]
        line = error_line(stopped.stderr)
        assert line.startswith("trt-matrix: error: the results folder's file system is full (No space left")
        assert line.endswith(f"free space, then trt-matrix run --resume --run-id {rid('full')}")
        assert str(folder / rid("full") / "trt86.p1.jsonl") in line  # the host's path, not the mount's
        assert ours(docker_client) == []
        data = (folder / rid("full") / "trt86.p1.jsonl").read_bytes()
        assert data.endswith(b"\n"), "a half-written record was left behind"
        kept = by_id(results.load([folder / rid("full")]))
        assert 1 <= len(kept) < PLANNED - 1, sorted(kept)  # it stopped in phase 1, finished cells whole

        ballast.unlink()  # space freed
        started = time.monotonic()
        resumed = run([*cmd, "--resume"])
        print(f"full disk: the resumed run took {time.monotonic() - started:.1f} s")
        no_traceback(resumed)
        assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-2000:]
        assert len(unique_ids(folder / rid("full"))) == PLANNED
        after = by_id(results.load([folder / rid("full")]))
        for cell_id, record in kept.items():
            assert after[cell_id] == record  # not redone
        assert ours(docker_client) == []


# --- the restarted daemon ------------------------------------------------------------------------------


class PrivateDaemon:
    """A dockerd of this test's own, on a socket in a temporary folder; never the shared one."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "docker.sock"
        self.host = f"unix://{self.socket}"
        self.proc: subprocess.Popen[bytes] | None = None
        (root / "daemon.json").write_text("{}\n")
        # A bridge of its own: `--bridge=none` makes dockerd DELETE docker0 at start (the default bridge
        # it then does not want), which takes the network away from the shared daemon's containers.
        self.bridge = f"trtm{os.getpid() % 100000}"
        subprocess.run(["ip", "link", "add", self.bridge, "type", "bridge"], check=True, capture_output=True)

    def start(self) -> None:
        log = open(self.root / "dockerd.log", "ab")  # noqa: SIM115 - the daemon's, closed with it
        self.proc = subprocess.Popen(
            [
                "dockerd",
                "--config-file",
                str(self.root / "daemon.json"),
                "--data-root",
                str(self.root / "data"),
                "--exec-root",
                str(self.root / "exec"),
                "--pidfile",
                str(self.root / "docker.pid"),
                "--host",
                self.host,
                f"--bridge={self.bridge}",
                "--iptables=false",
                "--ip-masq=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the private dockerd exited: {self.log_tail()}")
            if subprocess.run(["docker", "-H", self.host, "version"], capture_output=True, check=False).returncode == 0:
                return
            time.sleep(0.5)
        raise RuntimeError(f"the private dockerd did not answer in 60 s: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(30)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self) -> str:
        path = self.root / "dockerd.log"
        return path.read_text(errors="replace")[-2000:] if path.is_file() else "(no log)"

    def client(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.host, timeout=30)

    def cleanup(self) -> None:
        self.stop()
        subprocess.run(["ip", "link", "delete", self.bridge], check=False, capture_output=True)
        pidfile = self.root / "exec" / "containerd" / "containerd.pid"  # its containerd, if dockerd died hard
        with contextlib.suppress(OSError, ValueError):
            os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        _unmount_under(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def _prebuild(client: Any) -> None:
    """The trt86 image on the private daemon, built the way the runner builds it but with the host's
    network (pip needs it); the runner's build is then all cache hits, which need no network."""
    from matrix import catalogue
    from matrix.images import build as images

    cat = catalogue.load()
    release = next(r for r in cat.releases if r.id == "trt86")
    options = images.BuildOptions(base_image="trt-matrix/test-base:bookworm", ca_bundle=CA, skip_tensorrt=True)
    plan = images.plan(release, cat, options)
    errors = []
    for chunk in client.api.build(
        fileobj=io.BytesIO(plan.context),
        custom_context=True,
        tag=plan.tags[0],
        buildargs=dict(plan.buildargs),
        rm=True,
        forcerm=True,
        pull=False,
        decode=True,
        network_mode="host",
    ):
        if "error" in chunk:
            errors.append(chunk["error"])
    assert not errors, errors


@pytest.fixture(scope="module")
def private_daemon(test_base: str) -> Iterator[PrivateDaemon]:
    _need_root()
    if shutil.which("dockerd") is None:
        pytest.skip("no dockerd binary to start a private daemon with")
    if shutil.which("ip") is None:
        pytest.skip("no `ip` (iproute2) to give the private daemon a bridge of its own")
    shared_bridge = _has_link("docker0")
    started = time.monotonic()
    daemon = PrivateDaemon(Path(tempfile.mkdtemp(prefix="trtm-dockerd-", dir="/tmp")))  # a short socket path
    try:
        daemon.start()
        save = subprocess.Popen(["docker", "save", test_base], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "-H", daemon.host, "load"], stdin=save.stdout, capture_output=True, check=False
        )
        assert save.stdout is not None
        save.stdout.close()
        assert save.wait(120) == 0 and load.returncode == 0, load.stderr
        _prebuild(daemon.client())
        print(f"private daemon: started, base loaded and trt86 built in {time.monotonic() - started:.1f} s")
        yield daemon
    finally:
        daemon.cleanup()
        assert _has_link("docker0") == shared_bridge, "the private daemon changed the shared daemon's docker0"


def _start(cmd: list[str], host: str, out: Path, **env: str) -> subprocess.Popen[bytes]:
    with open(out / "stdout", "wb") as stdout, open(out / "stderr", "wb") as stderr:
        return subprocess.Popen(
            cmd, cwd=ROOT, env=dict(os.environ, CI="true", DOCKER_HOST=host, **env), stdout=stdout, stderr=stderr
        )


def _await_hanging(runner: subprocess.Popen[bytes], client: Any, name: str, folder: Path, recorded: int) -> None:
    """Until `name` runs on the daemon and `recorded` phase-1 cells are in: it then hangs in the next."""
    deadline = time.monotonic() + 120
    path = folder / "trt86.p1.jsonl"
    while time.monotonic() < deadline:
        assert runner.poll() is None, "the runner ended before its container hung"
        running = [c["Names"][0] for c in client.api.containers(filters={"name": name, "status": "running"})]
        if running and path.is_file() and len(results.load([path])) >= recorded:
            time.sleep(1.0)  # the container is now in its hang, and the runner in its wait
            return
        time.sleep(0.3)
    runner.kill()
    pytest.fail(f"{name} did not reach its hang in 120 s")


def _outputs(out: Path) -> tuple[str, str]:
    return (out / "stdout").read_text(errors="replace"), (out / "stderr").read_text(errors="replace")


def test_a_restarted_daemon_turns_the_cell_in_flight_into_infra_error_and_the_run_goes_on(
    tmp_path: Path, private_daemon: PrivateDaemon
) -> None:
    client = private_daemon.client()
    folder = tmp_path / "results" / rid("restart")
    cmd = command(tmp_path, tmp_path / "results", "--run-id", rid("restart"), "--inject-fault", "trt86=hang:1")
    runner = _start(cmd, private_daemon.host, tmp_path)
    try:
        _await_hanging(runner, client, f"trt-matrix-{rid('restart')}-trt86-p1", folder, recorded=1)
        before = by_id(results.load([folder]))
        started = time.monotonic()
        private_daemon.restart()
        print(f"daemon restart: down and up again in {time.monotonic() - started:.1f} s")
        code = runner.wait(180)
    finally:
        if runner.poll() is None:
            runner.kill()
    stdout, stderr = _outputs(tmp_path)
    assert "Traceback" not in stdout + stderr, stderr[-3000:]
    assert code == 1, stdout[-3000:] + stderr[-3000:]  # an infra_error cell: the exit code says so
    got = by_id(results.load([folder]))
    assert len(unique_ids(folder)) == PLANNED
    lost = got["destroy-order:trt86>trt86:-:fp32:cpp-right"]  # the cell in flight
    assert lost.status == "infra_error", lost
    assert "the trt86 phase-1 container was lost while this cell ran: the Docker daemon stopped answering" in (
        lost.reason
    )
    for cell_id, record in before.items():
        assert got[cell_id] == record
    assert got["exchange:trt86>trt86:-:-:artifacts"].status == "pass"
    assert {r.status for r in got.values() if r.check == "destroy-order" and r is not lost} == {"skip"}
    assert ours(client) == []

    resumed = run([*cmd, "--resume"], DOCKER_HOST=private_daemon.host)
    no_traceback(resumed)
    assert "0 container(s) started" in resumed.stdout, resumed.stdout[-2000:]
    assert by_id(results.load([folder])) == got and len(unique_ids(folder)) == PLANNED


def test_a_daemon_that_stays_away_stops_the_run_in_one_line_and_resume_completes_it(
    tmp_path: Path, private_daemon: PrivateDaemon
) -> None:
    client = private_daemon.client()
    folder = tmp_path / "results" / rid("gone")
    cmd = command(tmp_path, tmp_path / "results", "--run-id", rid("gone"), "--inject-fault", "trt86=hang:2")
    runner = _start(cmd, private_daemon.host, tmp_path, TRT_MATRIX_DAEMON_GRACE_S="3")
    try:
        _await_hanging(runner, client, f"trt-matrix-{rid('gone')}-trt86-p1", folder, recorded=2)
        before = by_id(results.load([folder]))
        started = time.monotonic()
        private_daemon.stop()
        code = runner.wait(120)
        print(f"daemon stopped: the run stopped {time.monotonic() - started:.1f} s after the SIGTERM")
    finally:
        if runner.poll() is None:
            runner.kill()
        private_daemon.start()
    stdout, stderr = _outputs(tmp_path)
    assert "Traceback" not in stdout + stderr, stderr[-3000:]
    assert code == 2, stdout[-3000:] + stderr[-3000:]
    line = error_line(stderr)
    assert line.startswith("trt-matrix: error: the Docker daemon stopped answering (")
    assert "while the trt86 phase-1 container ran" in line
    assert line.endswith(f"start the daemon, then trt-matrix run --resume --run-id {rid('gone')}")
    assert by_id(results.load([folder])) == before and len(before) == 2  # nothing recorded for the lost cell

    resumed = run([*cmd, "--resume"], DOCKER_HOST=private_daemon.host)
    no_traceback(resumed)
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-2000:]
    assert "removed 1 container(s) a killed earlier runner of this run left behind" in resumed.stdout
    after = by_id(results.load([folder]))
    assert len(unique_ids(folder)) == PLANNED
    for cell_id, record in before.items():
        assert after[cell_id] == record
    assert after["destroy-order:trt86>trt86:-:fp32:cpp-builder-first"].status == "skip"  # run, not infra_error
    assert ours(client) == []
