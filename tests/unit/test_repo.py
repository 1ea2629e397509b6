"""The runner finds the checkout it runs tests/compat from, or says how to get one."""

from __future__ import annotations

from pathlib import Path

import pytest

from matrix import repo
from matrix.errors import UserError


def test_the_checkout_is_found_from_the_package() -> None:
    assert repo.root() == Path(__file__).resolve().parents[2]
    assert (repo.root() / "tests" / "compat" / "conftest.py").is_file()


def test_without_a_checkout_the_error_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(repo, "__file__", str(tmp_path / "site-packages" / "matrix" / "repo.py"))
    repo.root.cache_clear()
    try:
        with pytest.raises(UserError, match=r"needs a checkout .*pip install -e \."):
            repo.root()
    finally:
        repo.root.cache_clear()
