"""Real builds on the local test base: cached rebuilds, the probed BOM, failures and the test base.

Needs a Docker daemon and the image trt-matrix/test-base:bookworm (`trt-matrix images test-base`);
skipped, saying which is missing, otherwise. Release images are built with `--base-image` (NVIDIA's
registries are not needed) and left tagged trt-matrix/<id>; probe containers are removed.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from matrix import catalogue
from matrix.cli import main
from tests.docker.conftest import CA, TEST_BASE

if TYPE_CHECKING:
    import docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]

CACHED_REBUILD_LIMIT_S = 10.0


@pytest.fixture(autouse=True)
def bom_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path_factory.getbasetemp() / "trt-matrix-cache"
    monkeypatch.setenv("TRT_MATRIX_CACHE", str(root))
    monkeypatch.setenv("CI", "true")
    return root


def _build(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str, float]:
    args = ["images", "build", "--base-image", TEST_BASE, "--ca-bundle", str(CA), *extra]
    started = time.monotonic()
    code = main(args)
    seconds = time.monotonic() - started
    captured = capsys.readouterr()
    return code, captured.out, captured.err, seconds


def _cache_counts(out: str, release_id: str) -> tuple[int, int]:
    match = re.search(rf"^{release_id}: built .* (\d+)/(\d+) steps from cache$", out, re.MULTILINE)
    assert match, out
    return int(match.group(1)), int(match.group(2))


def _list_json(capsys: pytest.CaptureFixture[str], release_id: str) -> dict[str, Any]:
    assert main(["images", "list", "--json", "--only", release_id]) == 0
    entries = json.loads(capsys.readouterr().out)
    assert [e["release"] for e in entries] == [release_id]
    entry: dict[str, Any] = entries[0]
    return entry


def _probe_containers(client: docker.DockerClient) -> set[str]:
    found = client.api.containers(all=True, filters={"label": "org.trt-matrix.role=bom-probe"})
    return {entry["Id"] for entry in found}


@pytest.fixture(autouse=True)
def no_probe_containers_left(docker_client: docker.DockerClient) -> object:
    """Every BOM probe a test starts is gone after it (probes an earlier, killed session left are not ours)."""
    before = _probe_containers(docker_client)
    yield
    assert _probe_containers(docker_client) - before == set()


def test_trt86_builds_then_rebuilds_entirely_from_cache(
    test_base: str, docker_client: docker.DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, first = _build(capsys, "--only", "trt86")
    assert code == 0, err
    assert "trt86: BOM (probed)" in out

    code, out, err, second = _build(capsys, "--only", "trt86")
    assert code == 0, err
    cached, cacheable = _cache_counts(out, "trt86")
    assert cacheable > 0 and cached == cacheable, out  # every step after FROM came from the cache
    assert "trt86: BOM (unchanged image, stored BOM)" in out  # no second probe
    assert second < CACHED_REBUILD_LIMIT_S, f"cached rebuild took {second:.1f} s"
    print(f"\ntrt86 on {TEST_BASE}: first build {first:.1f} s, cached rebuild {second:.2f} s")

    image = docker_client.images.get("trt-matrix/trt86:latest")
    labels = image.labels
    assert labels["org.trt-matrix.release"] == "trt86"
    assert labels["org.trt-matrix.tensorrt"] == catalogue.load().get("trt86").tensorrt
    assert labels["org.trt-matrix.base-image"] == TEST_BASE
    assert len(labels["org.trt-matrix.catalogue-sha256"]) == 64
    assert any(re.fullmatch(r"trt-matrix/trt86:[0-9a-f]{12}", tag) for tag in image.tags), image.tags


def test_list_shows_the_probed_bom_with_tensorrt_absent(
    test_base: str, docker_client: docker.DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err, _ = _build(capsys, "--only", "trt86")
    assert code == 0, err
    entry = _list_json(capsys, "trt86")
    bom = entry["bom"]
    assert bom["os"] == "Debian GNU/Linux 12 (bookworm)"
    assert re.fullmatch(r"3\.\d+\.\d+", bom["python"])
    assert re.fullmatch(r"1\.\d+\.\d+", bom["numpy"])  # the catalogue pins numpy<2 for trt86
    assert bom["tensorrt_python"] is None
    assert bom["notes"]["tensorrt_python"] == "ModuleNotFoundError: No module named 'tensorrt'"
    assert bom["tensorrt_trtexec"] is None and bom["notes"]["tensorrt_trtexec"].startswith("no trtexec")
    assert bom["gpu"] is None and bom["notes"]["gpu"]
    assert entry["build"]["base_image"] == TEST_BASE and entry["build"]["base_overridden"] is True
    assert entry["build"]["catalogue_base"] == catalogue.load().get("trt86").base_ref
    assert entry["image"]["id"] == docker_client.images.get("trt-matrix/trt86:latest").id

    assert main(["images", "list", "--only", "trt86"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("trt86 "))
    assert "Debian GNU/Linux 12 (bookworm)" in row and "absent" in row
    assert "trt86: TensorRT (python) absent: ModuleNotFoundError: No module named 'tensorrt'" in out


def test_trt11_with_skip_tensorrt_installs_its_apt_packages_and_leaves_tensorrt_out(
    test_base: str, docker_client: docker.DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, _ = _build(capsys, "--only", "trt11", "--skip-tensorrt")
    assert code == 0, err
    assert re.search(r"^trt11: step \d+/\d+ \(\w+\) RUN set -eu; apt-get update;", out, re.MULTILINE), out
    image = docker_client.images.get("trt-matrix/trt11:latest")
    assert image.labels["org.trt-matrix.tensorrt-skipped"] == "1"
    entry = _list_json(capsys, "trt11")
    assert entry["build"]["skip_tensorrt"] is True
    assert entry["bom"]["tensorrt_python"] is None
    assert "No module named 'tensorrt'" in entry["bom"]["notes"]["tensorrt_python"]
    assert entry["bom"]["numpy"] is not None
    who = docker_client.containers.run(image, ["id", "-u"], remove=True, network_disabled=True)
    assert who.decode().strip() == "1000"


def test_a_failing_step_shows_its_tail_then_one_line_naming_the_release(
    test_base: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A suite requirement no index has: the pip step fails after the cached base/user layers.
    path = tmp_path / "versions.toml"
    shutil.copyfile(catalogue.DEFAULT_PATH, path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('pip = ["pytest', 'pip = ["trt-matrix-no-such-package==0.0.1", "pytest', 1))
    code, _, err, _ = _build(capsys, "--only", "trt86", "--catalogue", str(path))
    assert code == 2
    *tail, last = err.strip().splitlines()
    assert any("trt-matrix-no-such-package" in line for line in tail), err
    assert last.startswith("trt-matrix: error: trt86: image build failed at step ")
    assert "returned a non-zero code" in last


def test_an_unavailable_base_image_is_a_one_line_error(test_base: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["images", "build", "--only", "trt86", "--base-image", "trt-matrix/no-such-base:never"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("trt-matrix: error: trt86: image build failed at step 2/")
    assert "the base image trt-matrix/no-such-base:never is not available here" in err[-1]


def test_test_base_leaves_an_existing_tag_alone(
    test_base: str, docker_client: docker.DockerClient, capsys: pytest.CaptureFixture[str]
) -> None:
    before = docker_client.images.get(TEST_BASE).id
    assert main(["images", "test-base", "--tag", TEST_BASE]) == 0
    assert "nothing to do" in capsys.readouterr().out
    assert docker_client.images.get(TEST_BASE).id == before
