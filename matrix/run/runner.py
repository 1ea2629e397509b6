"""`trt-matrix run`: plan the cells, run phase 0 on the host, phase 1 and 2 in one container per
release (or locally), and keep a record for every planned cell, whatever happens.

Contract: `execute(options, progress)` returns a `RunSummary` once every planned cell has a record in
<results>/<run id>/: the container's own, or one the runner writes when a container dies (the cell in
flight becomes `crash` or `timeout`, and a fresh container resumes the rest, up to `RESTARTS` times;
after that `infra_error`). Phase 2 starts after every phase-1 container has finished, and mounts
every producer's artifacts read-only into each consumer (one container per consumer). GPUs are
handed out one per container, never shared, so two latency measurements never share a GPU. Every
container is removed, Ctrl-C included.

Faults of the machine stop the run with one line (a `UserError`), every finished cell kept whole, so
that `--resume` completes it: a full results or artifacts file system (the runner's own write, or a
container that stopped on one), and a Docker daemon that stopped answering and did not come back. A
daemon that comes back (restarted) costs only the cells in flight: they become infra_error, and
fresh containers run the rest.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from matrix import repo
from matrix.errors import UserError
from matrix.run import containers, reuse, selftest
from matrix.run.progress import PlainProgress, Tail
from matrix.suite import cells as cellmod
from matrix.suite import resultfile
from matrix.suite.schema import BROKEN, CellResult, LogLine

Mode = Literal["docker", "local", "host"]
IN_IMAGE_REPO = "/opt/trt-matrix"
RESTARTS = 2


class Interrupted(Exception):
    """Ctrl-C reached a worker: stop now, clean up, keep every finished cell."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunOptions:
    run_id: str
    releases: tuple[str, ...]
    cells: tuple[cellmod.Cell, ...]
    mode: Mode
    mode_reason: str
    results_dir: Path
    artifacts_dir: Path
    resume: bool
    jobs: int
    gpus: tuple[int, ...]
    cell_timeout_s: float
    latency: tuple[int | None, int | None] = (None, None)  # execute cells' warm-up and timed runs (None: default)
    container_timeout_s: float
    images: dict[str, str]  # release id -> image reference (docker mode)
    boms: dict[str, dict[str, Any]]
    models: tuple[str, ...]
    keywords: tuple[str, ...]
    api_releases: tuple[str, ...]
    memory: str | None = None
    # release -> TRT_MATRIX_FAULT for its first phase-1 container (harness self-tests: crash:N / hang:N)
    fault: dict[str, str] = dataclasses.field(default_factory=dict)
    # release -> the variables that put the TensorRT double in place of TensorRT (--self-test; see
    # matrix/run/selftest.py): merged into every suite process's environment, container or local
    self_test: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    double: dict[str, str] = dataclasses.field(default_factory=dict)  # release -> the double's version
    double_dir: Path | None = None  # a double from another checkout, mounted over tests/double (--double)
    # each cell's input key is made of these (matrix/run/reuse.py); None: no keys (records store "")
    key_inputs: reuse.KeyInputs | None = None
    reuse_source: reuse.Source | None = None  # --reuse RUN: copy cells whose key matches a finished one
    models_export: str = ""  # the models' export key, kept in the run file for a later --reuse

    @property
    def tier(self) -> int:
        return {"docker": 2, "local": 1, "host": 0}[self.mode]


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunSummary:
    run_id: str
    results_dir: Path
    counts: dict[str, int]
    planned: int
    recorded: int
    containers_started: int
    duration_s: float
    notes: tuple[str, ...]

    @property
    def broken(self) -> int:
        return sum(n for status, n in self.counts.items() if status in BROKEN or status == "infra_error")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _keyword_arg(keywords: Sequence[str]) -> str:
    return ",".join(keywords)


class Runner:
    def __init__(self, options: RunOptions, progress: PlainProgress, client: Any = None) -> None:
        self.o = options
        self.progress = progress
        self.client = client
        self.reaper = containers.Reaper(client) if client is not None else None
        self.stop = threading.Event()
        self.containers_started = 0
        self.notes: list[str] = []
        self._lock = threading.Lock()
        self.keys: dict[str, str] = {}  # cell id -> input key, phase by phase
        self.producers: dict[str, str] = {}  # producer -> digest of its artifacts after phase 1
        self.reused = 0

    # --- bookkeeping ---------------------------------------------------------------------------
    def file_for(self, release: str, phase: int) -> Path:
        owner = cellmod.HOST if phase == 0 else release
        return self.o.results_dir / resultfile.result_file_name(owner, phase)

    def cells_of(self, release: str, phase: int) -> list[cellmod.Cell]:
        return [c for c in self.o.cells if c.phase == phase and (phase == 0 or c.consumer == release)]

    def missing(self, release: str, phase: int) -> list[cellmod.Cell]:
        done = _done_ids(self.file_for(release, phase))
        return [c for c in self.cells_of(release, phase) if c.id not in done]

    def write_synthetic(
        self,
        release: str,
        phase: int,
        cell: cellmod.Cell,
        status: str,
        reason: str,
        signal: str | None = None,
        logs: Sequence[str] = (),
        show: bool = True,
    ) -> None:
        """A record the runner writes for a cell its container could not finish."""
        result = CellResult(
            **cell.record_fields(),
            run_id=self.o.run_id,
            tier=0 if phase == 0 else self.o.tier,
            status=status,
            reason=reason,
            signal=signal,
            log=tuple(LogLine("stderr", line[:500]) for line in logs[-20:]),
            bom=self._bom(release, phase),
            where=f"runner ({self.o.mode})",
            started_at=_now(),
            finished_at=_now(),
            input_key=self.keys.get(cell.id, ""),
        )
        resultfile.ResultWriter(self.file_for(release, phase)).write(result)
        if show:
            self.progress.cell(result)

    def _bom(self, release: str, phase: int) -> dict[str, Any]:
        """The image's BOM; with the double, its marker too (a record the runner writes for a cell of a
        self-test is as much the double's as the suite's own records)."""
        bom = dict(self.o.boms.get(release, {}))
        if phase and release in self.o.double:
            bom[selftest.MARKER] = self.o.double[release]
        return bom

    # --- phases --------------------------------------------------------------------------------
    def pytest_args(self, release: str, phase: int, repo: str, results: str, artifacts: str) -> list[str]:
        args = [
            "-m",
            "pytest",
            f"{repo}/tests/compat",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rN",
            "--trt-release",
            release,
            "--trt-phase",
            str(phase),
            "--trt-run-id",
            self.o.run_id,
            "--trt-results",
            results,
            "--trt-artifacts",
            artifacts,
            "--trt-models",
            ",".join(self.o.models),
            "--trt-timeout",
            str(self.o.cell_timeout_s),
            "--trt-resume",
        ]
        if self.o.keywords:
            args += ["--trt-keyword", _keyword_arg(self.o.keywords)]
        for name, value in zip(("warmup", "repeats"), self.o.latency, strict=True):
            if value is not None:
                args += [f"--trt-{name}", str(value)]
        if phase == 0 and self.o.api_releases:
            args += ["--trt-api-releases", ",".join(self.o.api_releases)]
        if phase == 2:
            producers = sorted({c.producer for c in self.cells_of(release, 2)})
            args += ["--trt-producers", ",".join(producers)]
        if (self.o.results_dir / reuse.keys_file_name(release, phase)).is_file():
            args += ["--trt-keys", f"{results}/{reuse.keys_file_name(release, phase)}"]
        return args

    # --- input keys and reuse (matrix/run/reuse.py) ----------------------------------------------
    def prepare_phase(self, phase: int) -> None:
        """Before a phase: its cells' keys (phase 2's after phase 1, from the producers' artifacts),
        written for the suite; then, with --reuse, the copies, so that `missing()` skips them."""
        inputs = self.o.key_inputs
        cells = [c for c in self.o.cells if c.phase == phase]
        if inputs is None or not cells:
            return
        if phase == 2:
            for producer in sorted({c.producer for c in cells}):
                made = [
                    k
                    for c in self.o.cells
                    if c.phase == 1 and c.producer == producer
                    for k in [self.keys.get(c.id)]
                    if k
                ]
                self.producers[producer] = reuse.producer_digest(self.o.artifacts_dir / producer, made)
        keys = {c.id: reuse.cell_key(c, inputs, self.producers) for c in cells}
        self.keys.update(keys)
        owners = sorted({cellmod.HOST if phase == 0 else c.consumer for c in cells})
        for owner in owners:
            own = {c.id: keys[c.id] for c in cells if phase == 0 or c.consumer == owner}
            reuse.write_keys(self.o.results_dir, owner, phase, own)
        reuse.write_run_file(self.o.results_dir, self.o.artifacts_dir, self.producers, self.o.models_export)
        if self.o.reuse_source is not None:
            self.copy_reused(phase, cells, keys, self.o.reuse_source)

    def copy_reused(
        self, phase: int, cells: Sequence[cellmod.Cell], keys: dict[str, str], source: reuse.Source
    ) -> None:
        chosen = reuse.plan_phase(cells, keys, source)
        by_owner: dict[str, list[cellmod.Cell]] = collections.defaultdict(list)
        for cell in cells:
            if cell.id in chosen:
                by_owner[cellmod.HOST if phase == 0 else cell.consumer].append(cell)
        for owner, planned in sorted(by_owner.items()):
            done = resultfile.done_ids(self.file_for(owner, phase))
            todo = [c for c in planned if c.id not in done]
            if not todo:
                continue
            if phase == 1:
                why = reuse.carry_artifacts(source, owner, self.o.artifacts_dir)
                if why:
                    self.notes.append(f"{owner}: no phase-1 cell reused from {source.run_id}: {why}")
                    continue
            writer = resultfile.ResultWriter(self.file_for(owner, phase))
            for cell in todo:
                writer.write(reuse.copied(chosen[cell.id], self.o.run_id))
            self.reused += len(todo)
            self.progress.job(
                "host" if phase == 0 else owner, phase, "reused", f"{len(todo)} cells from {source.run_id}"
            )

    def run_local(self, release: str, phase: int) -> None:
        """Phase 0 on the host, or phases 1/2 in this Python (tier 1): a pytest child process."""
        todo = self.missing(release, phase)
        if not todo:
            return
        label = "host" if phase == 0 else release
        self.progress.job(label, phase, "running", f"{len(todo)} cells")
        path = self.file_for(release, phase)
        tail = Tail(path)
        args = self.pytest_args(
            release if phase else cellmod.HOST,
            phase,
            str(repo.root()),
            str(self.o.results_dir),
            str(self.o.artifacts_dir),
        )
        env = dict(os.environ, PYTHONPATH=str(repo.root()), TRT_MATRIX_WHERE="host" if phase == 0 else "local")
        if phase:
            env.update(self.o.self_test.get(release, {}))
        with subprocess.Popen(
            [sys.executable, *args], cwd=repo.root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        ) as proc:
            assert proc.stdout is not None
            lines: collections.deque[str] = collections.deque(maxlen=40)
            try:
                for raw in proc.stdout:
                    lines.append(raw.decode("utf-8", errors="replace").rstrip())
                    for record in tail.read():
                        self.progress.cell(record)
            except KeyboardInterrupt:
                proc.terminate()
                raise
            code = proc.wait()
        for record in tail.read():
            self.progress.cell(record)
        if code == resultfile.FULL_EXIT_CODE:
            found = [line for line in lines if resultfile.FULL_PREFIX in line]
            if found:
                text = found[-1].split(resultfile.FULL_PREFIX, 1)[1].rstrip("! ").strip()
                raise UserError(f"{text} --run-id {self.o.run_id}")
        left = self.missing(release, phase)
        last = next((line for line in reversed(lines) if line.strip()), "no output")
        for cell in left:
            self.write_synthetic(
                release,
                phase,
                cell,
                "infra_error",
                f"the suite process exited with code {code} without recording this cell: {last[:200]}",
                logs=list(lines),
            )
        self.progress.job(label, phase, "done", f"exit {code}")

    def _job(self, release: str, phase: int, attempt: int, gpu: int | None) -> containers.Job:
        out = self.o.results_dir
        mounts = [
            containers.Mount(source=str(repo.root()), target=IN_IMAGE_REPO, read_only=True),
            containers.Mount(source=str(out), target="/results", read_only=False),
        ]
        if self.o.double_dir is not None and self.o.double:
            target = f"{IN_IMAGE_REPO}/tests/double"
            mounts.append(containers.Mount(source=str(self.o.double_dir), target=target, read_only=True))
        models_dir = self.o.artifacts_dir / "models"
        if models_dir.is_dir():
            mounts.append(containers.Mount(source=str(models_dir), target="/artifacts/models", read_only=True))
        if phase == 1:
            own = self.o.artifacts_dir / release
            own.mkdir(parents=True, exist_ok=True)
            _give_to_container_user(own)
            mounts.append(containers.Mount(source=str(own), target=f"/artifacts/{release}", read_only=False))
        else:
            for producer in sorted({c.producer for c in self.cells_of(release, 2)}):
                source = self.o.artifacts_dir / producer
                if source.is_dir():
                    mounts.append(containers.Mount(source=str(source), target=f"/artifacts/{producer}", read_only=True))
        env = {
            "TRT_MATRIX_IN_IMAGE": "1",
            "TRT_MATRIX_IMAGE": self.o.images[release],
            "HOME": "/tmp",  # noqa: S108 - inside the container: its private tmpfs
            "TRT_MATRIX_WHERE": f"image:{self.o.images[release]}",
            "PYTHONDONTWRITEBYTECODE": "1",
            "TRT_MATRIX_IMAGE_ID": str(self.o.boms.get(release, {}).get("image_id") or ""),
        }
        if phase == 2:
            env["TRT_MATRIX_ARTIFACTS_READONLY"] = "1"
        env.update(self.o.self_test.get(release, {}))
        if attempt == 0 and phase == 1 and release in self.o.fault:
            env["TRT_MATRIX_FAULT"] = self.o.fault[release]
        command = ("python3", *self.pytest_args(release, phase, IN_IMAGE_REPO, "/results", "/artifacts"))
        return containers.Job(
            run_id=self.o.run_id,
            release=release,
            phase=phase,
            image=self.o.images[release],
            command=command,
            environment=env,
            mounts=tuple(mounts),
            user=_container_user(),
            gpu=gpu,
            timeout_s=self.o.container_timeout_s,
            memory=self.o.memory,
        )

    def run_docker(self, release: str, phase: int, gpu: int | None) -> None:
        assert self.client is not None and self.reaper is not None
        attempt = 0
        while True:
            todo = self.missing(release, phase)
            if not todo:
                return
            if self.stop.is_set():
                raise Interrupted
            job = self._job(release, phase, attempt, gpu)
            self.progress.job(
                release, phase, "running", f"{len(todo)} cells" + (f", GPU {gpu}" if gpu is not None else "")
            )
            tail = Tail(self.file_for(release, phase))

            def tick(tail: Tail = tail) -> None:
                for record in tail.read():
                    self.progress.cell(record)
                if self.stop.is_set():
                    raise Interrupted

            with self._lock:
                self.containers_started += 1
            ended = containers.run_container(self.client, job, self.reaper, tick)
            if ended.exit_code == resultfile.FULL_EXIT_CODE and not ended.daemon_lost:
                raise UserError(self._full_in_container(ended, job))
            left = self.missing(release, phase)
            if not left:
                self.progress.job(release, phase, "done", f"exit {ended.exit_code}, {ended.duration_s:.0f}s")
                return
            status, signal, reason = _why_stopped(ended, job)
            self.write_synthetic(release, phase, left[0], status, reason, signal, ended.logs)
            attempt += 1
            if attempt > RESTARTS:
                for cell in left[1:]:
                    self.write_synthetic(
                        release,
                        phase,
                        cell,
                        "infra_error",
                        f"not run: the {release} phase-{phase} container stopped {attempt} times ({reason})",
                        logs=ended.logs,
                    )
                self.progress.job(release, phase, "gave up", reason)
                return
            self.progress.job(release, phase, "restarting", f"{reason}; resuming {len(left) - 1} cells")

    def _full_in_container(self, ended: containers.Ended, job: containers.Job) -> str:
        """The suite's own line about a full file system, with the host's folders in place of the mounts."""
        found = [line for line in ended.logs if resultfile.FULL_PREFIX in line]
        if not found:
            return (
                f"the {job.release} phase-{job.phase} container stopped on a full file system; free space in "
                f"{self.o.results_dir} and {self.o.artifacts_dir}, then trt-matrix run --resume "
                f"--run-id {self.o.run_id}"
            )
        text = found[-1].split(resultfile.FULL_PREFIX, 1)[1].rstrip("! ").strip()
        text = text.replace(" writing /results/", f" writing {self.o.results_dir}/")
        text = text.replace(" writing /artifacts/", f" writing {self.o.artifacts_dir}/")
        return f"{text} --run-id {self.o.run_id}"

    def _fault_line(self, exc: BaseException) -> str | None:
        """The one line for a fault of the machine that stops the run (None: not one of those)."""
        again = f"trt-matrix run --resume --run-id {self.o.run_id}"
        if isinstance(exc, resultfile.ResultsFull):
            return f"{exc} --run-id {self.o.run_id}"
        if isinstance(exc, containers.DaemonGone):
            return (
                f"{exc.reason} while the {exc.job.release} phase-{exc.job.phase} container ran, and did not "
                f"answer again within {exc.waited_s:.0f} s; every finished cell is kept in {self.o.results_dir}: "
                f"start the daemon, then {again}"
            )
        if resultfile.is_full(exc):
            assert isinstance(exc, OSError)
            folder = "artifacts" if str(exc.filename or "").startswith(str(self.o.artifacts_dir)) else "results"
            message = resultfile.full_message(exc.filename or self.o.results_dir, exc, folder)
            return f"{message} --run-id {self.o.run_id}"
        return None

    def record_not_run(self) -> None:
        """Tier 0: every phase-1/2 cell is recorded as not run, with the reason this host gave."""
        for release in self.o.releases:
            for phase in (1, 2):
                todo = self.missing(release, phase)
                for cell in todo:
                    self.write_synthetic(release, phase, cell, "skip", f"not run: {self.o.mode_reason}", show=False)
                if todo:
                    self.progress.job(release, phase, "not run", f"{len(todo)} cells recorded as skip")

    def run_phase_parallel(self, phase: int) -> None:
        releases = [r for r in self.o.releases if self.cells_of(r, phase)]
        if not releases:
            return
        gpus: queue.Queue[int | None] = queue.Queue()
        slots: tuple[int | None, ...] = self.o.gpus or (None,) * max(1, self.o.jobs)
        for index in slots:
            gpus.put(index)
        workers = min(self.o.jobs, len(releases), gpus.qsize())

        def work(release: str) -> None:
            gpu = gpus.get()
            try:
                if self.o.mode == "docker":
                    self.run_docker(release, phase, gpu)
                else:
                    self.run_local(release, phase)
            finally:
                gpus.put(gpu)

        with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [pool.submit(work, r) for r in releases]
            try:
                for future in concurrent.futures.as_completed(futures):
                    future.result()
            except BaseException:
                self.stop.set()
                for future in futures:
                    future.cancel()
                raise

    def execute(self) -> RunSummary:
        started = time.monotonic()
        self.o.results_dir.mkdir(parents=True, exist_ok=True)
        _give_to_container_user(self.o.results_dir)
        if self.reaper is not None:
            stale = self.reaper.remove_stale(self.o.run_id)
            if stale:
                self.notes.append(f"removed {stale} container(s) a killed earlier runner of this run left behind")
        try:
            self.prepare_phase(0)
            if any(c.phase == 0 for c in self.o.cells):
                self.run_local(cellmod.HOST, 0)
            if self.o.mode == "host":
                self.prepare_phase(1)
                self.prepare_phase(2)
                self.record_not_run()
            else:
                for phase in (1, 2):
                    self.prepare_phase(phase)
                    if any(c.phase == phase for c in self.o.cells):
                        self.run_phase_parallel(phase)
        except (resultfile.ResultsFull, containers.DaemonGone, OSError) as exc:
            line = self._fault_line(exc)
            if line is None:
                raise
            raise UserError(line) from None
        finally:
            if self.reaper is not None:
                for error in self.reaper.remove_all():
                    self.notes.append(error)
        if self.o.reuse_source is not None:
            self.notes.append(f"{self.reused} cell(s) reused from run {self.o.reuse_source.run_id} (not executed)")
        recorded = {r.cell_id: r for r in _records(self.o.results_dir)}
        counts = collections.Counter(recorded[c.id].status for c in self.o.cells if c.id in recorded)
        return RunSummary(
            run_id=self.o.run_id,
            results_dir=self.o.results_dir,
            counts=dict(counts),
            planned=len(self.o.cells),
            recorded=sum(counts.values()),
            containers_started=self.containers_started,
            duration_s=round(time.monotonic() - started, 1),
            notes=tuple(self.notes),
        )


def _done_ids(path: Path) -> set[str]:
    try:
        return resultfile.done_ids(path)
    except resultfile.ResultFileError as exc:
        raise UserError(
            f"{exc}; the run cannot resume over a damaged results file: repair or remove that line "
            "(only the cells it held are run again)"
        ) from None


def _records(results_dir: Path) -> list[CellResult]:
    out: list[CellResult] = []
    for path in sorted(results_dir.glob("*.jsonl")):
        try:
            out.extend(resultfile.read(path))
        except resultfile.ResultFileError as exc:
            raise UserError(str(exc)) from None
    return out


def _why_stopped(ended: containers.Ended, job: containers.Job) -> tuple[str, str | None, str]:
    where = f"the {job.release} phase-{job.phase} container"
    if ended.daemon_lost:
        return "infra_error", None, f"{where} was lost while this cell ran: {ended.daemon_lost}"
    if ended.timed_out:
        return "timeout", None, f"{where} ran past its {job.timeout_s:.0f} s limit and was killed while this cell ran"
    if ended.oom_killed:
        limit = f" (limit {job.memory})" if job.memory else ""
        return "infra_error", None, f"{where} ran out of memory{limit} and was killed while this cell ran"
    if ended.signal:
        return "crash", ended.signal, f"{where} died on {ended.signal} (exit {ended.exit_code}) while this cell ran"
    if ended.error:
        return "infra_error", None, f"{where} could not run: {ended.error}"
    return "infra_error", None, f"{where} exited with code {ended.exit_code} without recording this cell"


def _container_user() -> str:
    """The host user when it is not root (files stay theirs); otherwise the images' `trt` user, 1000."""
    uid, gid = os.getuid(), os.getgid()
    return f"{uid}:{gid}" if uid != 0 else "1000:1000"


def _give_to_container_user(path: Path) -> None:
    if os.getuid() == 0:
        os.chown(path, 1000, 1000)


def validate_writable(path: Path, what: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".trt-matrix-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"{what} {path} is not writable: {exc.strerror}; choose another with the option") from None
