"""Shared fixtures of the double's tests: registry models exported once per session, checks run isolated."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = ROOT / "tests" / "double"
EXPORTED = ("retinaface-mnet", "scrfd-500m")


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """artifacts/models/ of retinaface-mnet and scrfd-500m with synthetic weights (`matrix models export`)."""
    out = tmp_path_factory.mktemp("exported")
    proc = subprocess.run(
        [sys.executable, "-m", "matrix", "models", "export", "--models", *EXPORTED, "--artifacts", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out / "models"


def artifacts_with(models: Path, folder: Path) -> Path:
    """A fresh artifacts folder whose models/ is the session's export (read, never written, by checks)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "models").symlink_to(models, target_is_directory=True)
    return folder


MAKE_MISSING = "make is not installed: the decode plugin is built with its Makefile (apt-get install make)"


def needs_make() -> None:
    """Skips a test that builds the decode plugin where make is absent (a fresh Debian machine has none; the
    self-test image installs it); the product then records the plugin cells as skip, which
    test_int8_checks.test_without_make_the_plugin_cells_skip_saying_why holds it to."""
    if shutil.which("make") is None:
        pytest.skip(MAKE_MISSING)


def run_cell(
    cell_id: str,
    version: str,
    artifacts: Path,
    faults: tuple[str, ...] = (),
    timeout: float = 300,
    path: str | None = None,
) -> Any:
    """One cell through the worker in a child process (isolate.py), on the double of `version`; `path`
    replaces the PATH the double's bin/ is put in front of (default: this process's)."""
    from matrix.models import tomlload
    from matrix.run import selftest
    from matrix.suite import isolate
    from matrix.suite.cells import Cell
    from matrix.suite.checks import TARGETS
    from matrix.suite.outcome import CheckContext

    cell = Cell.from_id(cell_id)
    activation = selftest.parse(tomlload.load(DOUBLE / "selftest.toml"))  # what --self-test gives a suite process
    env = dict(os.environ)
    env.pop(activation.faults_variable, None)
    env.update(
        activation.environment(
            tensorrt=version,
            repo_root=str(ROOT),
            base_path=env.get("PATH", "") if path is None else path,
            base_pythonpath="",
            faults=faults,
        )
    )
    scratch = artifacts / "scratch" / cell_id.replace(":", "_").replace(">", "_")
    scratch.mkdir(parents=True, exist_ok=True)
    ctx = CheckContext(cell, cell.consumer, artifacts, scratch, {"timeout": timeout})
    return isolate.run_isolated(TARGETS[cell.check], ctx, timeout, env=env)
