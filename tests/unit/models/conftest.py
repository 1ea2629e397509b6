"""Shared fixtures for the model tests: where the shared fixtures live, and skips that say why."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
DATA = Path(__file__).with_name("data")
MNET_WEIGHTS = "m2man__mobilenet0.25_Final.pth"


def fixtures_dir() -> Path | None:
    """$TRT_MATRIX_FIXTURES, or the shared fixtures beside the checkout (../shared, ../../shared)."""
    env = os.environ.get("TRT_MATRIX_FIXTURES")
    for cand in ([Path(env)] if env else []) + [
        ROOT.parent / "shared" / "fixtures",
        ROOT.parent.parent / "shared" / "fixtures",
    ]:
        if cand.is_dir():
            return cand
    return None


def fixture_file(*parts: str) -> Path:
    base = fixtures_dir()
    if base is None:
        pytest.skip("shared fixtures not found (set TRT_MATRIX_FIXTURES to the fixtures folder)")
    path = base.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture
def mnet_weights() -> Path:
    """The real RetinaFace mobilenet0.25 weights (research-only licence: never copied into the project)."""
    return fixture_file("weights", MNET_WEIGHTS)


def photo(name: str) -> np.ndarray:
    images = pytest.importorskip("PIL.Image", reason="Pillow reads the photos (host side only)")
    with images.open(fixture_file("images", name)) as im:
        return np.asarray(im.convert("RGB"))
