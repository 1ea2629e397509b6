"""The pytest plugin that turns tests/compat into matrix cells.

Contract: registered by tests/compat/conftest.py. Parametrizes every test that takes `cell` with the
cells of its check (module constant `CHECK`) from `cells.plan()`, for this environment's release and
phases. The `run_cell` fixture gates the cell on the environment (a precise `skip` when it cannot
run), runs it isolated (`isolate.run_isolated`), applies expectations.toml, appends the record to
<results>/<release>.p<phase>.jsonl before pytest learns the outcome, and then maps it: pass -> pass,
skip/na -> skipped with the reason, xfail -> xfailed, anything else -> failed. `--trt-resume` skips
cells already recorded. Options also read TRT_MATRIX_* environment variables (the runner sets them).
A full file system (results or artifacts) stops the session at once with exit status
`resultfile.FULL_EXIT_CODE` and one line starting `resultfile.FULL_PREFIX`: no record is half-written,
and no later cell is tried. Runs on Python 3.8.
"""

from __future__ import annotations

import datetime
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from matrix.suite import cells as cellmod
from matrix.suite import environment, isolate, resultfile
from matrix.suite.checks import TARGETS
from matrix.suite.outcome import CheckContext, Outcome, sha256_file, write_json_atomic
from matrix.suite.schema import CellResult, LogLine

DEFAULT_TIMEOUT_S = 900.0
OPTIONS = {
    # option: (env var, default, help)
    "release": (
        "TRT_MATRIX_RELEASE",
        "local",
        "release id this environment is (catalogue id; 'local' outside images)",
    ),
    "phase": ("TRT_MATRIX_PHASE", "0,1,2", "phases to run: 0 host tier-0 cells, 1 produce, 2 cross-load"),
    "run-id": ("TRT_MATRIX_RUN_ID", "", "run id recorded in every cell (default: local-<UTC time>)"),
    "results": ("TRT_MATRIX_RESULTS", "", "results folder (default: results/<run id>)"),
    "artifacts": (
        "TRT_MATRIX_ARTIFACTS",
        "artifacts",
        "artifacts folder: models/ from the host, <release>/ per producer",
    ),
    "models": (
        "TRT_MATRIX_MODELS",
        "",
        "comma-separated models (default: the nightly set; 'all' for every model)",
    ),
    "producers": (
        "TRT_MATRIX_PRODUCERS",
        "",
        "phase 2: releases whose artifacts to load (default: all present)",
    ),
    "api-releases": (
        "TRT_MATRIX_API_RELEASES",
        "",
        "phase 0: releases whose bindings to introspect (catalogue ids)",
    ),
    "timeout": ("TRT_MATRIX_TIMEOUT", str(DEFAULT_TIMEOUT_S), "seconds one cell may run before it is killed"),
    "where": ("TRT_MATRIX_WHERE", "", "where this runs, recorded in each cell (image name, 'local', 'host')"),
    "keyword": (
        "TRT_MATRIX_KEYWORD",
        "",
        "comma-separated cell-id selectors (substring or glob; 'not X' excludes)",
    ),
    "warmup": ("TRT_MATRIX_WARMUP", "", "execute cells: untimed runs before the latency is measured (default 10)"),
    "repeats": ("TRT_MATRIX_REPEATS", "", "execute cells: timed runs for the latency statistics (default 50)"),
    "keys": (
        "TRT_MATRIX_KEYS",
        "",
        "a JSON file {cell id: input key} the runner computed; each record stores its cell's key",
    ),
}


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("trt-matrix", "trt-matrix cells")
    for name, (env, default, text) in OPTIONS.items():
        group.addoption("--trt-" + name, default=None, help=f"{text} [env {env}; default {default!r}]")
    group.addoption(
        "--trt-resume",
        action="store_true",
        default=None,
        help="skip cells already in the results files [env TRT_MATRIX_RESUME=1]",
    )


def option(config: Any, name: str) -> str:
    value = config.getoption("--trt-" + name)
    if value is None:
        env, default, _ = OPTIONS[name]
        value = os.environ.get(env, default)
    return str(value)


def _csv(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


class MatrixSession:
    """Per pytest session: what to plan, where to write, what is already done."""

    def __init__(self, config: Any) -> None:
        self.release = option(config, "release")
        self.phases = [int(p) for p in _csv(option(config, "phase"))]
        stamp = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        self.run_id = option(config, "run-id") or f"local-{stamp}"
        self.results = Path(option(config, "results") or os.path.join("results", self.run_id))
        self.artifacts = Path(option(config, "artifacts")).resolve()
        models = option(config, "models")
        self.models = list(cellmod.MODELS) if models == "all" else (_csv(models) or list(cellmod.DEFAULT_MODELS))
        self.timeout = float(option(config, "timeout"))
        self.check_options: dict[str, Any] = {"timeout": self.timeout}
        for name in ("warmup", "repeats"):
            if option(config, name):
                self.check_options[name] = int(option(config, name))
        self.keywords = _csv(option(config, "keyword"))
        self.api_releases = _csv(option(config, "api-releases"))
        resume = config.getoption("--trt-resume")
        self.resume = bool(resume) if resume is not None else os.environ.get("TRT_MATRIX_RESUME") == "1"
        self.in_image = os.environ.get("TRT_MATRIX_IN_IMAGE") == "1"
        self.where = option(config, "where") or ("image:" + self.release if self.in_image else "local")
        producers = _csv(option(config, "producers"))
        self.producers = producers or self._present_producers()
        self._env: environment.Environment | None = None
        self._bom: dict[str, Any] | None = None
        self._writers: dict[int, resultfile.ResultWriter] = {}
        self.done: set[str] = set()
        if self.resume:
            for phase in self.phases:
                self.done |= resultfile.done_ids(self.results / self.file_name(phase))
        self.recorded = 0
        self.keys = _keys(option(config, "keys"))

    def _present_producers(self) -> list[str]:
        found = []
        if self.artifacts.is_dir():
            for entry in sorted(self.artifacts.iterdir()):
                if entry.is_dir() and (entry / "exchange.json").is_file():
                    found.append(entry.name)
        if self.release not in found:
            found.append(self.release)
        return found

    def file_name(self, phase: int) -> str:
        return resultfile.result_file_name(cellmod.HOST if phase == 0 else self.release, phase)

    def plan(self) -> list[cellmod.Cell]:
        return cellmod.plan(
            [self.release],
            models=self.models,
            phases=self.phases,
            keywords=self.keywords,
            producers=self.producers,
            api_releases=self.api_releases,
        )

    @property
    def env(self) -> environment.Environment:
        if self._env is None:
            self._env = environment.probe()
        return self._env

    def writer(self, phase: int) -> resultfile.ResultWriter:
        if phase not in self._writers:
            self._writers[phase] = resultfile.ResultWriter(self.results / self.file_name(phase))
        return self._writers[phase]

    def tier(self, cell: cellmod.Cell) -> int:
        if cell.phase == 0:
            return 0
        return 2 if self.in_image else 1

    def bom(self) -> dict[str, Any]:
        """This environment's bill of materials (matrix/suite/bom.py), probed once per session; with the
        TensorRT double loaded (as the environment probe saw), `tensorrt_double` holds its version."""
        if self._bom is None:
            from matrix.suite import bom

            self._bom = {
                **bom.flat(bom.probe()),
                "image": os.environ.get("TRT_MATRIX_IMAGE"),
                "image_id": os.environ.get("TRT_MATRIX_IMAGE_ID"),
            }
            if self.env.tensorrt_double:  # the TensorRT double's marker: its records are never results
                self._bom["tensorrt_double"] = self.env.tensorrt_double
                if self.env.tensorrt_double_faults:  # the scenarios injected (--inject), by name
                    self._bom["tensorrt_double_faults"] = ",".join(self.env.tensorrt_double_faults)
        return self._bom


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "trt_check(name): the matrix check a test runs")
    config._trt_matrix = MatrixSession(config)


def pytest_collection_finish(session: Any) -> None:
    """Phase 1 leaves its artifacts manifest before any cell runs: a container that dies later still
    hands phase 2 what it wrote (and the sentinel)."""
    ms: MatrixSession = session.config._trt_matrix
    if (
        1 in ms.phases
        and ms.release != cellmod.HOST
        and any(
            isinstance(getattr(item, "callspec", None) and item.callspec.params.get("cell"), cellmod.Cell)
            for item in session.items
        )
    ):
        _write_or_stop(lambda: _update_manifest(ms, Outcome("pass")), ms.artifacts / ms.release, "artifacts")


def _write_or_stop(write: Callable[[], None], where: Path, folder: str) -> None:
    """Run `write`; a full file system ends the whole session with one line (the runner reads it)."""
    try:
        write()
    except resultfile.ResultsFull as exc:
        pytest.exit(resultfile.FULL_PREFIX + str(exc), returncode=resultfile.FULL_EXIT_CODE)
    except OSError as exc:
        if not resultfile.is_full(exc):
            raise
        message = resultfile.full_message(exc.filename or where, exc, folder)
        pytest.exit(resultfile.FULL_PREFIX + message, returncode=resultfile.FULL_EXIT_CODE)


def pytest_report_header(config: Any) -> list[str]:
    ms: MatrixSession = config._trt_matrix
    return [
        "trt-matrix: release {} phases {} run {} results {} artifacts {}".format(
            ms.release, ",".join(map(str, ms.phases)), ms.run_id, ms.results, ms.artifacts
        )
    ]


def pytest_generate_tests(metafunc: Any) -> None:
    if "cell" not in metafunc.fixturenames:
        return
    check = getattr(metafunc.module, "CHECK", None)
    if check is None:
        raise pytest.UsageError(f"{metafunc.module.__name__} takes `cell` but sets no CHECK")
    ms: MatrixSession = metafunc.config._trt_matrix
    chosen = [c for c in ms.plan() if c.check == check]
    metafunc.parametrize("cell", chosen, ids=[c.id for c in chosen])


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    """Run cells in plan order: every phase-1 cell before phase 2 reads what phase 1 wrote."""
    ms: MatrixSession = config._trt_matrix
    order = {c.id: i for i, c in enumerate(ms.plan())}

    def key(item: Any) -> Any:
        params = item.callspec.params if hasattr(item, "callspec") else {}
        cell = params.get("cell")
        return (0, order.get(cell.id, 0)) if isinstance(cell, cellmod.Cell) else (1, 0)

    items.sort(key=key)


def _keys(path: str) -> dict[str, str]:
    """The runner's input keys (matrix/run/reuse.py); none outside a run. An unreadable file stops the
    session: records without their keys would silently never be reused."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise pytest.UsageError(f"--trt-keys {path}: not a readable JSON file ({exc})") from None
    if not isinstance(data, dict):
        raise pytest.UsageError(f"--trt-keys {path}: expected an object {{cell id: key}}")
    return {str(k): str(v) for k, v in data.items()}


def _now() -> str:
    return datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z"


EXPECTATIONS_FILE = Path(__file__).resolve().parents[1] / "expectations.toml"
_EXPECTATIONS: list[Any] = []


def expectations() -> list[Any]:
    """matrix/expectations.toml, parsed once per session (the images read it from the mounted repo)."""
    if not _EXPECTATIONS:
        from matrix.models import tomlload
        from matrix.suite import expect

        _EXPECTATIONS.extend(expect.parse(tomlload.load(EXPECTATIONS_FILE)))
    return _EXPECTATIONS


def _record(ms: MatrixSession, cell: cellmod.Cell, outcome: Outcome, started: str, duration: float) -> CellResult:
    from matrix.suite import expect

    result = CellResult(
        **cell.record_fields(),
        run_id=ms.run_id,
        tier=ms.tier(cell),
        status=outcome.status,
        reason=outcome.reason or "",
        signal=outcome.signal,
        duration_s=round(max(duration, 0.0), 3),
        api_path=tuple(outcome.api_path),
        log=tuple(outcome.log),
        measurements=outcome.measurements,
        bom=ms.bom() if cell.phase != 0 or cell.check == "api" else {},
        weights=str(outcome.measurements.get("weights", "")),
        where=ms.where if cell.phase else "host",
        started_at=started,
        finished_at=_now(),
        input_key=ms.keys.get(cell.id, ""),
    )
    return expect.apply(result, expectations())


SENTINEL = "sentinel.bin"


def _update_manifest(ms: MatrixSession, outcome: Outcome) -> None:
    """artifacts/<release>/exchange.json: every file phase 1 wrote, with its sha256, for phase 2 to verify.

    A sentinel file of known content is always listed, so the exchange check verifies a real transfer
    even when no check wrote anything (no GPU here)."""
    own = ms.artifacts / ms.release
    own.mkdir(parents=True, exist_ok=True)
    path = own / "exchange.json"
    if path.is_file():
        manifest = json.loads(path.read_text(encoding="utf-8"))
    else:
        import hashlib

        sentinel = own / SENTINEL
        sentinel.write_bytes(hashlib.sha256(ms.release.encode()).digest() * 128)
        manifest = {"release": ms.release, "tensorrt": ms.env.tensorrt_version, "files": {}}
        outcome = Outcome(outcome.status, artifacts=[*outcome.artifacts, f"{ms.release}/{SENTINEL}"])
    for rel in outcome.artifacts:
        target = ms.artifacts / rel
        if target.is_file():
            manifest["files"][rel] = sha256_file(target)
    write_json_atomic(path, manifest)


def _fault(ms: MatrixSession) -> None:
    """Harness self-test hook: TRT_MATRIX_FAULT=crash:N or hang:N after N recorded cells, or burn:S
    (S CPU-seconds of work before the first cell: a CPU-bound stand-in for the scaling benchmark)."""
    spec = os.environ.get("TRT_MATRIX_FAULT", "")
    if not spec:
        return
    kind, _, count = spec.partition(":")
    if kind == "burn":
        if ms.recorded == 0:
            deadline = time.process_time() + float(count or 0)
            while time.process_time() < deadline:
                sum(i * i for i in range(10000))
        return
    if ms.recorded < int(count or 0):
        return
    if kind == "crash":
        os.kill(os.getpid(), signal.SIGABRT)
    elif kind == "hang":
        while True:
            time.sleep(60)


@pytest.fixture
def run_cell(request: Any) -> Callable[[cellmod.Cell], CellResult]:
    ms: MatrixSession = request.config._trt_matrix

    def runner(cell: cellmod.Cell) -> CellResult:
        if cell.id in ms.done:
            pytest.skip(f"already recorded in {ms.results} (--trt-resume)")
        _fault(ms)
        started, t0 = _now(), time.monotonic()
        reason = ms.env.not_runnable(cell.needs)
        if reason is not None:
            outcome = Outcome("skip", reason)
        elif cell.check not in TARGETS:
            outcome = Outcome("infra_error", f"this suite has no implementation of the {cell.check!r} check")
        else:
            ctx_scratch = Path(tempfile.mkdtemp(prefix="trt-matrix-scratch-"))
            ctx = CheckContext(cell, ms.release, ms.artifacts, ctx_scratch, dict(ms.check_options))
            outcome = isolate.run_isolated(TARGETS[cell.check], ctx, ms.timeout)
        result = _record(ms, cell, outcome, started, time.monotonic() - t0)
        _write_or_stop(lambda: ms.writer(cell.phase).write(result), ms.results, "results")
        ms.recorded += 1
        if outcome.artifacts:
            _write_or_stop(lambda: _update_manifest(ms, outcome), ms.artifacts / ms.release, "artifacts")
        _report(result)
        return result

    return runner


def _report(result: CellResult) -> None:
    status, reason = result.status, result.reason
    if status == "pass":
        return
    if status in ("skip", "na"):
        pytest.skip(f"{status}: {reason}")
    if status == "xfail":
        cite = (result.expectation or {}).get("citation", "")
        pytest.xfail(f"{reason} [{cite}]")
    lines = [reason] + [f"  [{x.severity}] {x.text}" for x in result.log[:8] if isinstance(x, LogLine)]
    if status == "xpass":
        lines.insert(0, "XPASS: expected to fail ({}) but passed".format((result.expectation or {}).get("id")))
    pytest.fail("{}: {}".format(status, "\n".join(lines)), pytrace=False)
