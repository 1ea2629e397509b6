"""Docker integration tests: skipped, with the reason, when no daemon answers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from matrix import docker_env
from matrix.errors import UserError

if TYPE_CHECKING:
    import docker


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    try:
        return docker_env.connect(timeout=5)
    except UserError as exc:
        pytest.skip(f"no Docker daemon: {exc}")
