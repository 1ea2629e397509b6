"""The exchange check (a harness check, no TensorRT): a producer's manifest against the files a consumer
sees, and the read-only mount. The read-only cases make the write probe fail the way a read-only mount
does (EROFS) or the way a full disk does (ENOSPC): this runs as root, which a chmod would not stop; the
real read-only mount is exercised by the Docker self-test (tests/docker/test_selftest.py)."""

from __future__ import annotations

import errno
import hashlib
import json
from pathlib import Path

import pytest

from matrix.suite.cells import Cell
from matrix.suite.checks import exchange
from matrix.suite.outcome import CheckContext, Fail, Skip


def _ctx(tmp_path: Path) -> CheckContext:
    cell = Cell("exchange", "trt86", "trt10", "-", "-", "artifacts", phase=2, needs="none")
    return CheckContext(cell, "trt10", tmp_path / "artifacts", tmp_path / "scratch")


def _produce(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """artifacts/trt86/ with these files and the manifest phase 1 writes."""
    artifacts = tmp_path / "artifacts"
    digests = {}
    for rel, data in files.items():
        path = artifacts / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        digests[rel] = hashlib.sha256(data).hexdigest()
    (artifacts / "trt86").mkdir(parents=True, exist_ok=True)
    manifest = {"tensorrt": "8.6.1", "files": digests}
    (artifacts / "trt86" / exchange.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    return artifacts


FILES = {"trt86/a-fp32-onnx.plan": b"plan a", "trt86/b-fp32-vc.plan": b"plan b", "trt86/calib.cache": b"cache"}


def test_intact_files_pass_and_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRT_MATRIX_ARTIFACTS_READONLY", raising=False)
    _produce(tmp_path, FILES)
    outcome = exchange.run(_ctx(tmp_path))
    assert outcome.status == "pass" and outcome.reason == "3 file(s) from trt86 arrived intact"
    assert outcome.measurements == {"files": 3, "producer_tensorrt": "8.6.1"}


def test_no_manifest_is_a_skip_that_says_to_run_phase_one(tmp_path: Path) -> None:
    with pytest.raises(Skip, match="its phase 1 did not run here"):
        exchange.run(_ctx(tmp_path))


def test_a_missing_and_a_changed_file_both_fail_the_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRT_MATRIX_ARTIFACTS_READONLY", raising=False)
    artifacts = _produce(tmp_path, FILES)
    (artifacts / "trt86/a-fp32-onnx.plan").unlink()
    (artifacts / "trt86/calib.cache").write_bytes(b"truncated")
    with pytest.raises(Fail) as failed:
        exchange.run(_ctx(tmp_path))
    assert failed.value.reason == (
        "trt86/a-fp32-onnx.plan is missing; trt86/calib.cache differs from what trt86 wrote (sha256)"
    )
    assert failed.value.measurements["files"] == 3


def test_a_writable_folder_fails_where_the_runner_mounted_it_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRT_MATRIX_ARTIFACTS_READONLY", "1")
    artifacts = _produce(tmp_path, FILES)
    with pytest.raises(Fail, match="is writable although the runner mounted it read-only") as failed:
        exchange.run(_ctx(tmp_path))
    assert failed.value.measurements["read_only"] is False
    assert sorted(p.name for p in (artifacts / "trt86").iterdir()) == sorted(  # the probe file is gone again
        [exchange.MANIFEST, "a-fp32-onnx.plan", "b-fp32-vc.plan", "calib.cache"]
    )


def _refuse_writes(monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    def write_bytes(self: Path, data: bytes) -> int:
        raise OSError(code, "refused", str(self))

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def test_a_read_only_mount_passes_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _produce(tmp_path, FILES)
    monkeypatch.setenv("TRT_MATRIX_ARTIFACTS_READONLY", "1")
    _refuse_writes(monkeypatch, errno.EROFS)
    outcome = exchange.run(_ctx(tmp_path))
    assert outcome.status == "pass" and outcome.reason == "3 file(s) from trt86 arrived intact and read-only"
    assert outcome.measurements["read_only"] is True


def test_a_write_failing_for_another_reason_is_not_taken_for_read_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _produce(tmp_path, FILES)
    monkeypatch.setenv("TRT_MATRIX_ARTIFACTS_READONLY", "1")
    _refuse_writes(monkeypatch, errno.ENOSPC)
    with pytest.raises(Fail, match="writing a probe file failed unexpectedly") as failed:
        exchange.run(_ctx(tmp_path))
    assert failed.value.measurements["read_only"] is False
