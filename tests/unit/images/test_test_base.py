"""The test base needs root and debootstrap, and says so plainly when either is missing."""

from __future__ import annotations

import os

import pytest

from matrix.errors import UserError
from matrix.images import test_base


def test_not_root_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(UserError, match=r"needs root .* run it with sudo"):
        test_base.require_root()


def test_root_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    test_base.require_root()


def test_missing_debootstrap_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(UserError, match=r"debootstrap not found: install it \(sudo apt-get install debootstrap\)"):
        test_base.find_debootstrap()
