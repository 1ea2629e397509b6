"""Fuzzing facts.toml's reader (`rules.load_facts`): the real file damaged at any level, and damaged
bytes, yield facts that `decide` can use or a UserError of one line naming the file, nothing else."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hypothesis import given

from matrix.errors import UserError
from matrix.plans import rules
from tests.unit.fuzzing import FUZZ, damaged, mutated, toml_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

FACTS_TEXT = rules.FACTS_PATH.read_bytes()
FACTS = tomllib.loads(FACTS_TEXT.decode("utf-8"))
FACTS["tag"] = FACTS["tag"][:3]


def _read(path: Path) -> None:
    try:
        facts = rules.load_facts(path)
    except UserError as exc:
        assert type(exc) is UserError
        assert str(path) in str(exc) and "\n" not in str(exc), str(exc)
    else:  # every log line `decide` may quote can be filled in
        for key in rules.MESSAGE_KEYS:
            facts.log(key, runtime_tag=213, plan_tag=236, runtime_build="8.4.3.1", plan_build="8.6.1.6", first_u32=1)


def test_the_real_file_is_read() -> None:
    assert rules.load_facts().tag_of("8.6") == 236


@FUZZ
@given(doc=mutated(FACTS, toml=True))
def test_facts_toml(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "facts.toml"
    path.write_text(toml_text(doc), encoding="utf-8")
    _read(path)


@FUZZ
@given(data=damaged(FACTS_TEXT))
def test_facts_bytes(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "facts.toml"
    path.write_bytes(data)
    _read(path)
