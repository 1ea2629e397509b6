"""INT8 calibrators built against whatever TensorRT is loaded, fed from the exported calibration batches.

Contract: `make_calibrator(trt, algorithm, samples, input_name, memory, cache_path)` returns an
instance of a subclass of that release's `IInt8EntropyCalibrator2` ("entropy2") or
`IInt8MinMaxCalibrator` ("minmax") (a factory like trtlog.make_logger, so one code path serves every
release's base class); on 11.x the base is absent and `NotApplicable` says so ("implicit INT8 removed
in 11.0"). It feeds `samples` one engine batch at a time through a device buffer of `memory` (the
suite's explicit CUDA, matrix/suite/cuda.py: `malloc`, `memcpy_htod`, `free`), allocated on the first
`get_batch`, and keeps `stats`: get_batch calls, batches served, cache reads and hits, cache writes.
The cache it writes is checked to be TensorRT's format (calibcache.py). `load_samples(folder, shape)`
reads calib/batch_NNN.npy and splits them into the engine's input shape. Python 3.8, numpy only.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from matrix.suite import calibcache
from matrix.suite.outcome import NotApplicable

BASES = {"entropy2": "IInt8EntropyCalibrator2", "minmax": "IInt8MinMaxCalibrator"}
REMOVED_NOTE = "implicit INT8 removed in 11.0: only explicit Q/DQ remains"


class CalibrationDataError(ValueError):
    """The calibration batches do not fit the engine's input; the message says how."""


@dataclasses.dataclass
class Stats:
    """What TensorRT asked of the calibrator (the evidence that a cache was used, or not)."""

    get_batch_calls: int = 0
    batches_served: int = 0
    cache_reads: int = 0
    cache_hits: int = 0  # read_calibration_cache returned a cache
    cache_writes: int = 0
    cache_header: str | None = None  # of the cache TensorRT wrote
    cache_tensors: int = 0
    cache_error: str | None = None  # TensorRT wrote something that is not a cache
    names_asked: list[str] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_samples(folder: Path, input_shape: Sequence[int]) -> list[np.ndarray]:
    """calib/batch_NNN.npy (in name order) split into arrays of exactly `input_shape` (float32)."""
    files = sorted(Path(folder).glob("batch_*.npy"))
    if not files:
        raise CalibrationDataError(f"{folder}: no batch_*.npy files (export the models first)")
    shape = tuple(int(d) for d in input_shape)
    per = shape[0]
    rows: list[np.ndarray] = []
    for path in files:
        arr = np.load(str(path))
        if arr.ndim != len(shape) or tuple(arr.shape[1:]) != shape[1:]:
            raise CalibrationDataError(
                f"{path.name}: shape {tuple(arr.shape)} does not fit the engine input {shape} "
                "(re-export the models for this input size)"
            )
        if arr.dtype != np.float32:
            raise CalibrationDataError(f"{path.name}: dtype {arr.dtype}, the input takes float32")
        rows.extend(arr[i : i + 1] for i in range(arr.shape[0]))
    whole = len(rows) // per
    if whole == 0:
        raise CalibrationDataError(f"{folder}: {len(rows)} sample(s), fewer than one engine batch of {per}")
    return [np.ascontiguousarray(np.concatenate(rows[i * per : (i + 1) * per])) for i in range(whole)]


def calibrator_base(trt: Any, algorithm: str) -> Any:
    if algorithm not in BASES:
        raise ValueError("unknown calibrator {!r}; known: {}".format(algorithm, ", ".join(BASES)))
    base = getattr(trt, BASES[algorithm], None)
    if base is None:
        version = getattr(trt, "__version__", "?")
        raise NotApplicable(f"{BASES[algorithm]} absent in tensorrt {version} ({REMOVED_NOTE})")
    return base


def make_calibrator(
    trt: Any,
    algorithm: str,
    samples: Sequence[np.ndarray],
    input_name: str,
    memory: Any = None,
    cache_path: Path | None = None,
    read_cache: bool = True,
) -> Any:
    """A calibrator instance of this release's base class; see the module contract."""
    base = calibrator_base(trt, algorithm)
    if not samples:
        raise CalibrationDataError("no calibration samples")
    batch = int(samples[0].shape[0])
    nbytes = int(samples[0].nbytes)
    for i, s in enumerate(samples):
        if s.shape != samples[0].shape or s.dtype != np.float32:
            raise CalibrationDataError(f"sample {i} is {s.dtype} {s.shape}, the first is float32 {samples[0].shape}")

    class MatrixCalibrator(base):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            base.__init__(self)  # pybind11 trampolines need the base initialised explicitly
            self.algorithm = algorithm
            self.samples = list(samples)
            self.input_name = input_name
            self.memory = memory
            self.cache_path = None if cache_path is None else Path(cache_path)
            self.read_cache = read_cache
            self.stats = Stats()
            self.device = 0
            self._next = 0

        def get_batch_size(self) -> int:
            return batch

        def get_batch(self, names: Sequence[str], *_: Any) -> list[int] | None:
            # 8.x-10.x bindings call get_batch(names); returning None ends calibration
            self.stats.get_batch_calls += 1
            self.stats.names_asked = [str(n) for n in names]
            if self._next >= len(self.samples):
                return None
            if list(names) != [self.input_name]:
                raise CalibrationDataError(
                    f"TensorRT asked for inputs {list(names)} but the calibration data is for {self.input_name!r}"
                )
            if self.memory is None:
                raise CalibrationDataError("no device memory to feed the calibration batches through")
            if not self.device:
                self.device = int(self.memory.malloc(nbytes))
            self.memory.memcpy_htod(self.device, self.samples[self._next])
            self._next += 1
            self.stats.batches_served += 1
            return [self.device]

        def read_calibration_cache(self, *_: Any) -> bytes | None:
            self.stats.cache_reads += 1
            if not self.read_cache or self.cache_path is None or not self.cache_path.is_file():
                return None
            data = self.cache_path.read_bytes()
            self.stats.cache_hits += 1
            return data

        def write_calibration_cache(self, cache: Any, *_: Any) -> None:
            self.stats.cache_writes += 1
            data = bytes(memoryview(cache))
            try:
                parsed = calibcache.parse(data, "the cache TensorRT wrote")
                self.stats.cache_header = parsed.header
                self.stats.cache_tensors = len(parsed.bits)
            except calibcache.CacheFormatError as exc:
                self.stats.cache_error = str(exc)
            if self.cache_path is not None:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.cache_path.with_name(self.cache_path.name + f".tmp{os.getpid()}")
                tmp.write_bytes(data)
                os.replace(tmp, self.cache_path)

        def rewind(self) -> None:
            self._next = 0

        def close(self) -> None:
            if self.device and self.memory is not None:
                self.memory.free(self.device)
            self.device = 0

    return MatrixCalibrator()
