"""Fuzzing bindings.toml's reader (`wheels.packages`): the real file damaged at any level, and damaged
bytes, yield the packages or a UserError of one line naming the file, nothing else."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import given

from matrix.errors import UserError
from matrix.offline import wheels
from tests.unit.fuzzing import FUZZ, damaged, mutated, toml_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

BINDINGS_TEXT = wheels.PACKAGES_PATH.read_bytes()
BINDINGS = tomllib.loads(BINDINGS_TEXT.decode("utf-8"))


def _read(path: Path) -> None:
    try:
        found = wheels.packages(path)
    except UserError as exc:
        assert type(exc) is UserError
        assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
    else:
        assert all(isinstance(name, str) and name for name, _ in found), found
        assert all(isinstance(m, int) and m > 0 for _, majors in found for m in majors), found
        assert all("\n" not in name and name.strip() for name, _ in found), found


def test_the_real_file_is_read() -> None:
    assert wheels.packages() == (("tensorrt-bindings", (8,)), ("tensorrt-cu12-bindings", (10, 11)))


@FUZZ
@given(doc=mutated(BINDINGS, toml=True))
def test_bindings_toml(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "bindings.toml"
    path.write_text(toml_text(doc), encoding="utf-8")
    _read(path)


@FUZZ
@given(data=damaged(BINDINGS_TEXT))
def test_bindings_bytes(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bindings.toml"
    path.write_bytes(data)
    _read(path)
