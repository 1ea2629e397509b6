"""The environment probe: precise reasons, real banners parsed, never guessed."""

from __future__ import annotations

from matrix.suite import environment
from matrix.suite.environment import Environment


def env(**kw: object) -> Environment:
    base: dict[str, object] = dict(
        python="3.8.10",
        tensorrt_version=None,
        tensorrt_error="libnvinfer.so.8: cannot open shared object file",
        cuda_devices=[],
        cuda_error="libcuda.so.1 not found: no NVIDIA driver visible",
        cuda_backend=None,
        cuda_driver=None,
        cuda_runtime=None,
        trtexec=None,
    )
    base.update(kw)
    return Environment(**base)  # type: ignore[arg-type]


def test_a_gpu_cell_names_every_missing_prerequisite() -> None:
    reason = env().not_runnable("gpu")
    assert reason == (
        "tensorrt not importable: libnvinfer.so.8: cannot open shared object file; "
        "no CUDA device: libcuda.so.1 not found: no NVIDIA driver visible"
    )


def test_a_tensorrt_cell_needs_no_gpu() -> None:
    assert env(tensorrt_version="8.6.1", tensorrt_error=None).not_runnable("tensorrt") is None
    assert env(tensorrt_version="8.6.1", tensorrt_error=None).not_runnable("gpu") is not None


def test_host_and_harness_cells_always_run() -> None:
    assert env().not_runnable("host") is None
    assert env().not_runnable("nothing") is None


def test_everything_present_runs() -> None:
    full = env(
        tensorrt_version="10.8.0",
        tensorrt_error=None,
        cuda_error=None,
        cuda_devices=[{"index": "0", "name": "NVIDIA H100", "compute_capability": "9.0"}],
    )
    assert full.not_runnable("gpu") is None
    assert full.gpu == {"index": "0", "name": "NVIDIA H100", "compute_capability": "9.0"}


def test_the_probe_here_says_why_tensorrt_and_cuda_are_missing() -> None:
    probed = environment.probe()
    assert probed.tensorrt_version is None and probed.tensorrt_error
    assert probed.cuda_devices == [] and probed.cuda_error
    assert probed.not_runnable("gpu")
