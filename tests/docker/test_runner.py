"""`trt-matrix run` against the real Docker engine, on the local test base, with cells cheap enough for CI.

The cells: `toolchain:*:version` in phase 1 (it needs TensorRT, which the test base lacks, so it is
recorded as not run with the reason; running it writes the producer's artifacts manifest) and
`exchange` in phase 2 (every consumer verifies every producer's artifacts arrived intact and
read-only). Faults are injected with the hidden `--inject-fault` (the suite's TRT_MATRIX_FAULT hook):
the container's pytest process aborts or hangs. After every test no container of its runs remains.

Run ids carry a per-session token, so containers another run left on the same engine (a developer's
matrix, an earlier interrupted session) neither fail these tests nor get touched by them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from matrix.run import results
from matrix.suite.schema import CellResult
from tests.docker.conftest import CA

if TYPE_CHECKING:
    import docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ("trt86", "trt10", "trt11")
CHEAP = ("-k", "exchange", "-k", "toolchain:*:version")
TOKEN = uuid.uuid4().hex[:8]


def rid(name: str) -> str:
    """This session's run id for `name`."""
    return f"{name}-{TOKEN}"


def _command(tmp: Path, base: str, extra: tuple[str, ...], results_dir: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "matrix",
        "run",
        "--docker",
        "--only",
        ",".join(RELEASES),
        "--base-image",
        base,
        "--ca-bundle",
        str(CA),
        "--skip-tensorrt",
        *CHEAP,
        "--results",
        str(tmp / results_dir),
        "--artifacts",
        str(tmp / "artifacts"),
        "--report",
        str(tmp / "report"),
        *extra,
    ]


def trt_matrix_run(tmp: Path, base: str, *extra: str, results_dir: str = "results") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _command(tmp, base, extra, results_dir),
        cwd=ROOT,
        env=dict(os.environ, CI="true"),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def trt_matrix_start(tmp: Path, base: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        _command(tmp, base, extra, "results"),
        cwd=ROOT,
        env=dict(os.environ, CI="true"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def leftovers(client: docker.DockerClient) -> list[str]:
    """Names of the containers of this session's runs that still exist, sorted."""
    # the low-level list: no per-container inspect that races with the runner removing them
    found = client.api.containers(all=True, filters={"label": "org.trt-matrix.run"})
    ours = [e["Names"][0] for e in found if e.get("Labels", {}).get("org.trt-matrix.run", "").endswith(f"-{TOKEN}")]
    return sorted(ours)


def by_id(records: list[CellResult]) -> dict[str, CellResult]:
    return {r.cell_id: r for r in records}


@pytest.fixture(autouse=True)
def no_containers_left(docker_client: docker.DockerClient) -> object:
    yield
    left = leftovers(docker_client)
    for name in left:  # so that one failing test does not fail the next ones too
        docker_client.api.remove_container(name.lstrip("/"), force=True)
    assert left == []


def test_a_three_release_run_records_every_producer_consumer_pair(tmp_path: Path, test_base: str) -> None:
    proc = trt_matrix_run(tmp_path, test_base, "--run-id", rid("r1"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    got = by_id(results.load([tmp_path / "results" / rid("r1")]))
    pairs = {(r.producer, r.consumer) for r in got.values() if r.check == "exchange"}
    assert pairs == {(p, c) for p in RELEASES for c in RELEASES}
    for record in got.values():
        if record.check == "exchange":
            assert record.status == "pass", record
            assert record.measurements["read_only"] is True and record.measurements["files"] >= 1
            assert record.tier == 2 and record.where.startswith("image:")
        else:
            assert record.status == "skip" and "tensorrt not importable" in record.reason
    assert {r.bom.get("os") for r in got.values()} == {"Debian GNU/Linux 12 (bookworm)"}
    assert (tmp_path / "report" / rid("r1") / "index.html").is_file()
    assert "6 container(s) started" in proc.stdout


def test_a_killed_runner_resumes_without_redoing_finished_cells(
    tmp_path: Path, test_base: str, docker_client: docker.DockerClient
) -> None:
    runner = trt_matrix_start(tmp_path, test_base, "--run-id", rid("r2"), "--inject-fault", "trt11=hang:0")
    finished = tmp_path / "results" / rid("r2")
    hanging = f"/trt-matrix-{rid('r2')}-trt11-p1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        done = results.load([finished]) if finished.is_dir() else []
        # the others finished and their containers are removed; only the hanging one is still there
        if {r.consumer for r in done} >= {"trt86", "trt10"} and leftovers(docker_client) == [hanging]:
            break
        time.sleep(0.5)
    else:
        runner.kill()
        pytest.fail("the run did not reach the hanging trt11 container in time")
    runner.send_signal(signal.SIGKILL)  # no chance to clean up: the hanging container stays behind
    runner.wait(30)
    before = by_id(results.load([finished]))
    assert leftovers(docker_client) == [hanging], "the killed runner's container stays behind"

    resumed = trt_matrix_run(tmp_path, test_base, "--run-id", rid("r2"), "--resume")
    assert resumed.returncode == 0, resumed.stdout[-3000:]
    assert "removed 1 container(s) a killed earlier runner of this run left behind" in resumed.stdout
    after = results.load([finished])
    ids = [r.cell_id for r in after]
    assert len(ids) == len(set(ids)) == 12
    for cell_id, record in before.items():
        assert by_id(after)[cell_id] == record  # not redone: the very same record


def test_a_crashing_and_a_hanging_container_become_cells_and_the_rest_completes(tmp_path: Path, test_base: str) -> None:
    proc = trt_matrix_run(
        tmp_path,
        test_base,
        "--run-id",
        rid("r3"),
        "--inject-fault",
        "trt86=crash:0",
        "--inject-fault",
        "trt10=hang:0",
        "--container-timeout",
        "20",
    )
    assert proc.returncode == 1, proc.stdout[-3000:]  # broken cells: the run says so in its exit code
    got = by_id(results.load([tmp_path / "results" / rid("r3")]))
    crashed = got["toolchain:trt86>trt86:-:-:version"]
    assert (crashed.status, crashed.signal) == ("crash", "SIGABRT")
    assert "the trt86 phase-1 container died on SIGABRT" in crashed.reason
    hung = got["toolchain:trt10>trt10:-:-:version"]
    assert hung.status == "timeout" and "ran past its 20 s limit" in hung.reason
    assert got["toolchain:trt11>trt11:-:-:version"].status == "skip"
    exchange = [r for r in got.values() if r.check == "exchange"]
    assert len(exchange) == 9 and all(r.status == "pass" for r in exchange)


def _outcomes(folder: Path) -> set[tuple[str, str, str]]:
    return {(r.cell_id, r.status, r.reason) for r in results.load([folder])}


def test_the_merge_of_two_shards_equals_the_unsharded_run(tmp_path: Path, test_base: str) -> None:
    full = trt_matrix_run(tmp_path / "full", test_base, "--run-id", rid("s"))
    assert full.returncode == 0, full.stdout[-2000:]
    shared = tmp_path / "sharded"  # two machines, one artifacts store (as CI artifacts would be)
    for phase in ("1", "2"):
        for index in ("1", "2"):
            proc = trt_matrix_run(
                shared,
                test_base,
                "--run-id",
                rid("s"),
                "--shard",
                f"{index}/2",
                "--phase",
                phase,
                results_dir=f"machine{index}",
            )
            assert proc.returncode == 0, proc.stdout[-2000:]
    merged = tmp_path / "merged"
    cmd = [
        sys.executable,
        "-m",
        "matrix",
        "merge",
        str(shared / "machine1" / rid("s")),
        str(shared / "machine2" / rid("s")),
        "--out",
        str(merged),
    ]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False).returncode == 0
    assert _outcomes(merged) == _outcomes(tmp_path / "full" / "results" / rid("s"))
    again = subprocess.run(
        [*cmd[:-2], str(merged), "--out", str(merged)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert again.returncode == 0, again.stdout
    assert _outcomes(merged) == _outcomes(tmp_path / "full" / "results" / rid("s"))
