"""Where the trt-matrix checkout is: the suite (tests/compat) runs from it and containers mount it.

Contract: `root()` returns the repository root (the folder holding matrix/ and tests/compat/): the
package's own parent when it is imported from a checkout or an editable install, else the current
folder when that is a checkout; otherwise it raises UserError saying what to do.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from matrix.errors import UserError


def _is_checkout(path: Path) -> bool:
    return (path / "tests" / "compat" / "conftest.py").is_file() and (path / "matrix" / "suite").is_dir()


@cache
def root() -> Path:
    here = Path(__file__).resolve().parents[1]
    for candidate in (here, Path.cwd().resolve()):
        if _is_checkout(candidate):
            return candidate
    raise UserError(
        "trt-matrix run needs a checkout of the trt-matrix repository (its tests/compat suite runs in every "
        "image): run it from the clone, or install the clone with `pip install -e .`"
    )
