"""The INT8 calibrator feeding its batches through matrix.suite.cuda into real device memory.

Each batch TensorRT would receive is read back from the device pointer get_batch returned and compared
with the exported sample; the buffer is allocated once and freed by close(). The base class is the
release's IInt8EntropyCalibrator2 where `tensorrt` imports, a plain class otherwise (the calibration
logic is the same; which one ran is in the test id). Skipped, with the reason, without a CUDA device.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matrix.suite import calibrator
from matrix.suite import cuda as cudamod


class PlainBase:
    def __init__(self) -> None:
        pass


def _trt_module() -> tuple[Any, str]:
    import types

    try:
        import tensorrt as trt
    except ImportError:
        return types.SimpleNamespace(__version__="none", IInt8EntropyCalibrator2=PlainBase), "plain base class"
    return trt, f"tensorrt {trt.__version__}"


@pytest.fixture(params=["ctypes", "cuda-python"])
def cuda(request: Any) -> cudamod.Cuda:
    try:
        device = cudamod.load(request.param)
    except cudamod.CudaUnavailable as exc:
        pytest.skip(f"no CUDA here: {exc}")
    device.set_device(0)
    return device


def test_batches_reach_device_memory_in_order(cuda: cudamod.Cuda, tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    np.save(tmp_path / "batch_000.npy", rng.standard_normal((4, 3, 64, 64)).astype(np.float32))
    np.save(tmp_path / "batch_001.npy", rng.standard_normal((2, 3, 64, 64)).astype(np.float32))
    samples = calibrator.load_samples(tmp_path, (1, 3, 64, 64))
    trt, which = _trt_module()
    cal = calibrator.make_calibrator(trt, "entropy2", samples, "input0", cuda, tmp_path / "m.calib")
    seen: list[int] = []
    while True:
        got = cal.get_batch(["input0"])
        if got is None:
            break
        back = np.empty((1, 3, 64, 64), np.float32)
        cuda.memcpy_dtoh(back, got[0])
        np.testing.assert_array_equal(back, samples[len(seen)])
        seen.append(got[0])
    assert len(seen) == 6 and len(set(seen)) == 1, which
    assert cal.stats.get_batch_calls == 7 and cal.stats.batches_served == 6
    cal.close()
    assert cal.device == 0
    print(f"{which}, {cuda.backend}: 6 batches fed through one device buffer")
