"""For tests that need TensorRT bindings wheels: skip, saying why, when the package index is unreachable.

Wheels and the version list are cached under $TRT_MATRIX_CACHE (default ~/.cache/trt-matrix), so only
the first run downloads (about 30 MB for every release) and later runs work offline.
"""

from __future__ import annotations

import functools

import pytest

from matrix.errors import UserError
from matrix.offline import wheels


@functools.cache
def _index() -> tuple[wheels.Release, ...] | str:
    try:
        return wheels.index()
    except UserError as exc:
        return str(exc)


def index_or_skip() -> tuple[wheels.Release, ...]:
    """The bindings releases on the index (cached list when offline), or skip the test with the reason."""
    found = _index()
    if isinstance(found, str):
        pytest.skip(f"package index unreachable and no cached version list: {found}")
    return found
