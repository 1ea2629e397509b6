"""The calibrator's own logic (3.8): batches split to the engine's input, fed in order through a buffer,
counted; the cache written (checked to be TensorRT's format), read back, and not re-fed.

`make_calibrator` subclasses whatever base class the module passed in has; here that module holds a
plain Python class, because TensorRT's own base classes import only with their bindings (those are
tested in test_calibrator_bindings.py, against the real 8.6.1 / 10.x / 11.x bindings).
"""

from __future__ import annotations

import types
from pathlib import Path

import numpy as np
import pytest

from matrix.suite import calibcache, calibrator
from matrix.suite.outcome import NotApplicable
from tests.unit.suite.hostmemory import HostMemory


class PlainBase:
    def __init__(self) -> None:
        self.initialised = True


def module(**classes: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(__version__="8.6.1", **classes)


def write_batches(folder: Path, sizes: list[int], shape: tuple[int, ...] = (3, 8, 8)) -> list[np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    written = []
    for i, n in enumerate(sizes):
        arr = rng.standard_normal((n, *shape)).astype(np.float32)
        np.save(folder / f"batch_{i:03d}.npy", arr)
        written.append(arr)
    return written


def test_batches_are_split_into_the_engine_input_in_order(tmp_path: Path) -> None:
    written = write_batches(tmp_path, [4, 1])
    samples = calibrator.load_samples(tmp_path, (1, 3, 8, 8))
    assert len(samples) == 5 and all(s.shape == (1, 3, 8, 8) for s in samples)
    np.testing.assert_array_equal(np.concatenate(samples), np.concatenate(written))
    pairs = calibrator.load_samples(tmp_path, (2, 3, 8, 8))
    assert [p.shape[0] for p in pairs] == [2, 2]  # the fifth sample does not fill a batch of 2


@pytest.mark.parametrize(
    ("shape", "message"),
    [((1, 3, 16, 16), "does not fit the engine input"), ((8, 3, 8, 8), "fewer than one engine batch")],
)
def test_batches_that_do_not_fit_are_refused(tmp_path: Path, shape: tuple[int, ...], message: str) -> None:
    write_batches(tmp_path, [4, 1])
    with pytest.raises(calibrator.CalibrationDataError, match=message):
        calibrator.load_samples(tmp_path, shape)


def test_no_batches_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(calibrator.CalibrationDataError, match=r"no batch_\*\.npy files"):
        calibrator.load_samples(tmp_path, (1, 3, 8, 8))
    np.save(tmp_path / "batch_000.npy", np.zeros((1, 3, 8, 8), np.float64))
    with pytest.raises(calibrator.CalibrationDataError, match="dtype float64"):
        calibrator.load_samples(tmp_path, (1, 3, 8, 8))


def test_a_release_without_the_base_class_is_not_applicable() -> None:
    with pytest.raises(
        NotApplicable,
        match=r"IInt8MinMaxCalibrator absent in tensorrt 11\.0\.0 \(implicit INT8 "
        r"removed in 11\.0",
    ):
        calibrator.make_calibrator(
            types.SimpleNamespace(__version__="11.0.0"), "minmax", [np.zeros((1, 3), np.float32)], "x"
        )
    with pytest.raises(ValueError, match="unknown calibrator 'legacy'"):
        calibrator.calibrator_base(module(), "legacy")


def test_batches_are_fed_in_order_through_one_buffer_and_counted(tmp_path: Path) -> None:
    write_batches(tmp_path, [4, 1])
    samples = calibrator.load_samples(tmp_path, (1, 3, 8, 8))
    memory = HostMemory()
    cal = calibrator.make_calibrator(module(IInt8EntropyCalibrator2=PlainBase), "entropy2", samples, "input0", memory)
    assert isinstance(cal, PlainBase)
    cal = calibrator.make_calibrator(module(IInt8EntropyCalibrator2=PlainBase), "entropy2", samples, "input0", memory)
    assert cal.initialised and cal.get_batch_size() == 1
    pointers = []
    while True:
        got = cal.get_batch(["input0"])
        if got is None:
            break
        pointers.append(got[0])
        np.testing.assert_array_equal(memory.read(got[0], (1, 3, 8, 8)), samples[len(pointers) - 1])
    assert len(set(pointers)) == 1  # one device buffer, allocated on the first call, reused
    assert cal.stats.get_batch_calls == 6 and cal.stats.batches_served == 5 and memory.copies == 5
    assert cal.get_batch(["input0"]) is None and cal.stats.get_batch_calls == 7
    cal.close()
    assert memory.freed == pointers[:1] and cal.device == 0


def test_a_request_for_other_inputs_is_refused() -> None:
    cal = calibrator.make_calibrator(
        module(IInt8MinMaxCalibrator=PlainBase), "minmax", [np.zeros((1, 3), np.float32)], "input0", HostMemory()
    )
    with pytest.raises(calibrator.CalibrationDataError, match=r"asked for inputs \['images'\]"):
        cal.get_batch(["images"])


def test_cache_is_written_checked_and_read_back_instead_of_batches(tmp_path: Path) -> None:
    path = tmp_path / "out" / "m.calib"
    samples = [np.zeros((1, 3), np.float32)]
    first = calibrator.make_calibrator(
        module(IInt8EntropyCalibrator2=PlainBase), "entropy2", samples, "x", HostMemory(), path, read_cache=False
    )
    assert first.read_calibration_cache() is None and first.stats.cache_reads == 1
    written = calibcache.dumps(calibcache.make("TRT-8601-EntropyCalibration2", {"x": 1 / 127}))
    first.write_calibration_cache(memoryview(written))  # what the bindings hand over
    assert path.read_bytes() == written
    assert first.stats.cache_writes == 1 and first.stats.cache_header == "TRT-8601-EntropyCalibration2"
    assert first.stats.cache_tensors == 1 and first.stats.cache_error is None

    second = calibrator.make_calibrator(
        module(IInt8EntropyCalibrator2=PlainBase), "entropy2", samples, "x", HostMemory(), path, read_cache=True
    )
    assert second.read_calibration_cache() == written
    assert second.stats.cache_hits == 1 and second.stats.get_batch_calls == 0


def test_a_cache_tensorrt_wrote_in_another_format_is_kept_and_reported(tmp_path: Path) -> None:
    cal = calibrator.make_calibrator(
        module(IInt8EntropyCalibrator2=PlainBase),
        "entropy2",
        [np.zeros((1, 3), np.float32)],
        "x",
        None,
        tmp_path / "m.calib",
    )
    cal.write_calibration_cache(memoryview(b"\x00binary"))
    assert (tmp_path / "m.calib").read_bytes() == b"\x00binary"
    assert cal.stats.cache_error is not None and "line 1" in cal.stats.cache_error


def test_feeding_without_memory_says_so() -> None:
    cal = calibrator.make_calibrator(
        module(IInt8EntropyCalibrator2=PlainBase), "entropy2", [np.zeros((1, 3), np.float32)], "x"
    )
    with pytest.raises(calibrator.CalibrationDataError, match="no device memory"):
        cal.get_batch(["x"])


def test_samples_of_different_shapes_are_refused() -> None:
    with pytest.raises(calibrator.CalibrationDataError, match="sample 1"):
        calibrator.make_calibrator(
            module(IInt8EntropyCalibrator2=PlainBase),
            "entropy2",
            [np.zeros((1, 3), np.float32), np.zeros((1, 4), np.float32)],
            "x",
        )
