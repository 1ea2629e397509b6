"""Runs INSIDE a process whose `tensorrt` is a release's real bindings over the stand-in library
(test_calibrator_bindings.py starts it): builds the suite's calibrators against the real base classes
and drives every Python-side method the bindings call, printing one JSON object.

Nothing here calls into libnvinfer: the calibrator trampolines are pybind11 code in the bindings, and
get_algorithm() is inline in NvInfer.h. What only a GPU image can show is TensorRT itself calling them.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np


def probe(algorithm: str, folder: Path) -> dict[str, Any]:
    import tensorrt as trt

    from matrix.suite import calibcache, calibrator
    from matrix.suite.outcome import NotApplicable
    from tests.unit.suite.hostmemory import HostMemory

    rng = np.random.default_rng(1)
    samples = [rng.standard_normal((1, 3, 4, 4)).astype(np.float32) for _ in range(3)]
    memory = HostMemory()
    cache = folder / f"{algorithm}.calib"
    try:
        cal = calibrator.make_calibrator(trt, algorithm, samples, "input0", memory, cache, read_cache=False)
    except NotApplicable as exc:
        return {"not_applicable": exc.reason}
    base = getattr(trt, calibrator.BASES[algorithm])
    out: dict[str, Any] = {
        "isinstance_base": isinstance(cal, base),
        "isinstance_IInt8Calibrator": isinstance(cal, trt.IInt8Calibrator),
        "batch_size": cal.get_batch_size(),
        "algorithm": str(cal.get_algorithm()),
    }
    fed: list[bool] = []
    while True:
        got = cal.get_batch(["input0"])
        if got is None:
            break
        fed.append(bool(np.array_equal(memory.read(got[0], (1, 3, 4, 4)), samples[len(fed)])))
    out["fed_equal"] = fed
    out["first_read"] = cal.read_calibration_cache()
    header = calibcache.header_for(trt.__version__, algorithm)
    data = calibcache.dumps(calibcache.make(header, {"input0": 1 / 127, "conv": 0.05}))
    cal.write_calibration_cache(memoryview(data))
    out["stats"] = cal.stats.to_json()
    again = calibrator.make_calibrator(trt, algorithm, samples, "input0", HostMemory(), cache, read_cache=True)
    read = again.read_calibration_cache()
    out["second_read_equal"] = read == data
    out["second_stats"] = again.stats.to_json()
    out["header"] = header
    cal.close()
    return out


def main() -> None:
    import tensorrt as trt

    with tempfile.TemporaryDirectory() as tmp:
        result = {"version": trt.__version__}
        for algorithm in ("entropy2", "minmax"):
            result[algorithm] = probe(algorithm, Path(tmp))
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
