"""nox sessions: one per tracked release (registered from matrix/versions.toml), plus the project's own.

nox -s trt86                  that release at the tier this machine allows (in its image on a GPU host
                              with Docker; without a GPU the tier-0 part runs and every GPU cell is
                              recorded as not run, with the reason)
nox -s trt86 -- --local       that release in a virtualenv that pip-installs its TensorRT (tier 1);
                              --trt-index URL picks the package index (default: the catalogue's)
nox -s matrix                 every release (`trt-matrix run`); arguments after -- go to it
nox -s report                 render the latest run's report
nox -s tests                  the project's tests (Docker tests run when a daemon answers)
nox -s lint                   ruff, mypy, generated files up to date, expectations lint, 3.8 syntax
nox -s py38                   the in-image code on Python 3.8 with numpy < 1.24, as the oldest images have
nox -s bench                  the benchmarks (benchmarks/), each printing one JSON line
"""

from __future__ import annotations

import sys
from pathlib import Path

import nox

ROOT = Path(__file__).resolve().parent
nox.options.sessions = ["lint", "tests"]
nox.options.default_venv_backend = "uv|virtualenv"

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CATALOGUE = tomllib.loads((ROOT / "matrix" / "versions.toml").read_text(encoding="utf-8"))
RELEASES = [entry["id"] for entry in CATALOGUE["release"]]

# Tests that exercise only code which runs inside images (Python 3.8, numpy < 1.24).
PY38_TESTS = [
    "tests/compat",
    "tests/unit/suite/test_cells.py",
    "tests/unit/suite/test_classify.py",
    "tests/unit/suite/test_environment.py",
    "tests/unit/suite/test_expect.py",
    "tests/unit/suite/test_isolate.py",
    "tests/unit/suite/test_timing.py",
    "tests/unit/suite/test_bom.py",
    "tests/unit/suite/test_planfile.py",
    "tests/unit/plans",  # matrix.plans is a library for Python 3.8+
    "tests/unit/suite/test_standin_probe.py",
    "tests/unit/suite/test_calibcache.py",
    "tests/unit/suite/test_calibrator.py",
    "tests/unit/suite/test_layerinfo.py",
    "tests/unit/models",
]
PY38_DEPS = ["numpy==1.23.5", "pytest>=7.4,<8.4", "tomli>=2.0", "hypothesis>=6.100,<6.114"]


def _release_session(release_id: str) -> None:
    entry = next(e for e in CATALOGUE["release"] if e["id"] == release_id)

    def session_impl(session: nox.Session) -> None:
        args = list(session.posargs)
        session.install("-e", ".", "pip")  # the runner runs tests/compat from this checkout; `api` uses pip
        if "--local" in args:
            index = entry.get("tensorrt_index", "")
            if "--trt-index" in args:
                at = args.index("--trt-index")
                index = args[at + 1]
                del args[at : at + 2]
            spec = entry.get("tensorrt_pip") or f"tensorrt=={entry['tensorrt']}"
            session.install(spec, *(["--extra-index-url", index] if index else []))
        session.run("trt-matrix", "run", "--only", release_id, *args)

    session_impl.__doc__ = (
        f"TensorRT {entry['tensorrt']} ({entry['base_image']}): the compatibility suite in its "
        "image, or -- --local in a virtualenv"
    )
    nox.session(name=release_id)(session_impl)


for _release in RELEASES:
    _release_session(_release)


@nox.session
def matrix(session: nox.Session) -> None:
    """Every release at the tier this machine allows (`trt-matrix run`); -- passes arguments on."""
    session.install("-e", ".", "pip")  # pip: the tier-0 API cells download bindings wheels with it
    session.run("trt-matrix", "run", *session.posargs)


@nox.session
def selftest(session: nox.Session) -> None:
    """The harness end to end on the TensorRT double (no GPU): `trt-matrix run --self-test`; -- passes
    arguments on (default: trt86, trt10 and trt11 on the local test base)."""
    session.install("-e", ".", "pip")
    args = session.posargs or [
        "--only",
        "trt86,trt10,trt11",
        "--warmup",
        "1",
        "--repeats",
        "3",
        "--base-image",
        "trt-matrix/test-base:bookworm",
        "--ca-bundle",
        "/etc/ssl/certs/ca-certificates.crt",
    ]
    session.run("trt-matrix", "run", "--self-test", *args)


@nox.session
def report(session: nox.Session) -> None:
    """Render the report of the latest run (or of the results folders given after --)."""
    session.install("-e", ".")
    if session.posargs:
        session.run("trt-matrix", "report", *session.posargs)
        return
    runs = sorted(p for p in (ROOT / "results").glob("*") if p.is_dir() and any(p.glob("*.jsonl")))
    if not runs:
        session.error("no results yet: run `nox -s matrix` first")
    session.run("trt-matrix", "report", str(runs[-1]), "--out", str(ROOT / "report" / runs[-1].name))


@nox.session
def tests(session: nox.Session) -> None:
    """The project's own tests: unit, compat (this machine's tier), Docker (when a daemon answers)."""
    session.install("-e", ".[dev]", "pip")
    tmp = Path(session.create_tmp())
    junit = tmp / "junit.xml"
    # tests/compat runs at this machine's tier; its records and artifacts go to the session's tmp, not the tree
    session.env.setdefault("TRT_MATRIX_RESULTS", str(tmp / "results"))
    session.env.setdefault("TRT_MATRIX_ARTIFACTS", str(tmp / "artifacts"))
    # pytest exits 5 when it collected nothing: accept the code here, then fail with a clear word
    session.run("pytest", f"--junitxml={junit}", *(session.posargs or ["tests"]), success_codes=[0, 5])
    import xml.etree.ElementTree as ET

    root = ET.parse(junit).getroot()  # noqa: S314 - our own pytest just wrote it
    ran = sum(int(suite.get("tests", "0")) for suite in root.iter("testsuite"))
    if ran == 0:
        session.error("pytest collected no tests (exit code 5): the test command ran nothing, which is a failure")


@nox.session
def coverage(session: nox.Session) -> None:
    """Line coverage of matrix/suite per module, child processes (worker, suite) combined; tests as `tests`."""
    session.install("-e", ".[dev]", "pip")
    tmp = Path(session.create_tmp())
    session.env.setdefault("TRT_MATRIX_RESULTS", str(tmp / "results"))
    session.env.setdefault("TRT_MATRIX_ARTIFACTS", str(tmp / "artifacts"))
    session.env["COVERAGE_FILE"] = str(tmp / ".coverage")
    targets = session.posargs or ["tests/unit/suite", "tests/double", "tests/compat"]
    session.run("pytest", "--cov", "--cov-report=term", *targets, success_codes=[0, 5])


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy strict, generated files up to date, expectations lint, 3.8 syntax of in-image code."""
    session.install("-e", ".[dev]", "vermin")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")
    session.run("trt-matrix", "images", "generate", "--check")
    session.run("trt-matrix", "expectations", "lint")
    session.run(
        "vermin",
        "--no-tips",
        "--violations",
        "-t=3.8-",
        "matrix/suite",
        "matrix/models",
        "matrix/plans",
        "tests/compat",
    )


def _python38() -> str:
    """An interpreter that really is 3.8: PATH first, then pyenv's versions (a pyenv shim may refuse)."""
    import glob
    import shutil
    import subprocess

    pyenv = sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.8*/bin/python3.8")))
    candidates = [shutil.which("python3.8") or "", *pyenv]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True, check=False
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 8)":
            return candidate
    return "3.8"  # nox will say it cannot find one


@nox.session(python=_python38(), venv_backend="uv|venv")
def py38(session: nox.Session) -> None:
    """The code that runs inside the oldest images, on Python 3.8 with numpy < 1.24."""
    session.install(*PY38_DEPS)
    session.env["PYTHONPATH"] = str(ROOT)
    tmp = Path(session.create_tmp())  # the compat suite's records and artifacts stay out of the tree
    session.env.setdefault("TRT_MATRIX_RESULTS", str(tmp / "results"))
    session.env.setdefault("TRT_MATRIX_ARTIFACTS", str(tmp / "artifacts"))
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "--trt-phase", "1,2", *PY38_TESTS, *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark in benchmarks/, each printing its figures as one JSON line last."""
    session.install("-e", ".[dev]", "pip")
    for script in [*sorted((ROOT / "benchmarks").glob("bench_*.py")), ROOT / "benchmarks" / "timing_quality.py"]:
        session.run("python", str(script), *session.posargs)
