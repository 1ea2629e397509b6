"""Docker integration tests: skipped, with the reason, when no daemon answers."""

from __future__ import annotations

from pathlib import Path
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


TEST_BASE = "trt-matrix/test-base:bookworm"
CA = Path("/etc/ssl/certs/ca-certificates.crt")


@pytest.fixture(scope="module")
def test_base(docker_client: docker.DockerClient) -> str:
    """The local Debian base the release images are built on here (no registry needed)."""
    import docker as docker_sdk

    try:
        docker_client.images.get(TEST_BASE)
    except docker_sdk.errors.ImageNotFound:
        pytest.skip(f"{TEST_BASE} is not loaded: build it with `trt-matrix images test-base` (root)")
    if not CA.is_file():
        pytest.skip(f"{CA} is absent: the builds need a CA bundle to reach the package index")
    return TEST_BASE
