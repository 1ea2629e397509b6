"""For tests: a release's REAL Python bindings (over the stand-in library), or a skip that says why.

`env_for(version)` is the environment in which `import tensorrt` imports that release's compiled bindings
(downloaded once into the cache); `probe(version, module)` runs `python -m module` there and returns the
JSON object it prints last. Both skip the test, with the reason, where the wheel cannot be had.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matrix.errors import UserError

ROOT = Path(__file__).resolve().parents[3]


def env_for(version: str) -> dict[str, str]:
    from matrix.offline import standin, wheels

    try:
        return standin.bindings_env(version)
    except wheels.NoWheel as exc:
        pytest.skip(f"no bindings wheel for this Python: {exc}")
    except UserError as exc:
        pytest.skip(f"the bindings of {version} cannot be fetched here: {exc}")


def probe(version: str, module: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", module],
        env=env_for(version),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result
