"""The real RetinaFace weights fixture of the model tests (skips, saying why, where they are absent)."""

from __future__ import annotations

from tests.unit.models.conftest import mnet_weights

__all__ = ["mnet_weights"]
