"""INT8 in the double: the calibrator protocol, the cache format, the fake-quantized engine (_int8.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matrix.suite import calibcache

from tests.double.test_double import _tiny_model, run_py

PROTOCOL = """
import json, sys
from pathlib import Path
import numpy as np
import tensorrt as trt
from matrix.suite import calibrator as calmod, cuda
folder, algorithm, offer = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "offer"
onnx_bytes = (folder / "models" / "retinaface" / "model.onnx").read_bytes()
class Log(trt.ILogger):
    def __init__(self):
        trt.ILogger.__init__(self)
        self.lines = []
    def log(self, severity, msg):
        self.lines.append(msg)
logger = Log()
mem = cuda.load()
rng = np.random.default_rng(0)
samples = [rng.uniform(-1, 1, (2, 4)).astype(np.float32) for _ in range(3)]
cache = folder / "cache.calib"
cal = calmod.make_calibrator(trt, algorithm, samples, "input", mem, cache, read_cache=offer)
builder = trt.Builder(logger)
network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.EXPLICIT_BATCH))
parser = trt.OnnxParser(network, logger)
assert parser.parse(onnx_bytes)
config = builder.create_builder_config()
config.set_flag(trt.BuilderFlag.INT8)
config.int8_calibrator = cal
plan = builder.build_serialized_network(network, config)
runtime = trt.Runtime(logger)
engine = runtime.deserialize_cuda_engine(plan)
ctx = engine.create_execution_context()
x = np.array([[0.5, -0.25, 1.0, 0.1], [0.3, 0.2, -0.9, 0.7]], np.float32)
d_in, d_out = mem.malloc(x.nbytes), mem.malloc(2 * 3 * 4)
mem.memcpy_htod(d_in, x)
assert ctx.execute_v2([d_in, d_out])
out = mem.memcpy_dtoh(np.empty((2, 3), np.float32), d_out) if False else None
from cuda.bindings import runtime as rt
out = np.frombuffer(rt.device_view(d_out, 24), np.float32).reshape(2, 3).tolist()
print(json.dumps({"stats": cal.stats.to_json(), "log": logger.lines, "out": out,
                  "cache": cache.read_text() if cache.is_file() else None}))
"""


@pytest.mark.parametrize("algorithm", ["entropy2", "minmax"])
def test_the_builder_drives_the_calibrator_and_writes_a_tensorrt_cache(tmp_path: Path, algorithm: str) -> None:
    _tiny_model(tmp_path)
    got = run_py("8.6.1", PROTOCOL, str(tmp_path), algorithm, "fresh")
    stats = got["stats"]
    assert stats["get_batch_calls"] == 4 and stats["batches_served"] == 3  # the fourth returns None: the end
    assert stats["names_asked"] == ["input"] and stats["cache_writes"] == 1
    parsed = calibcache.parse(got["cache"])
    assert parsed.header == calibcache.header_for("8.6.1", algorithm)
    assert set(parsed.tensors) == {"input", "mm", "out"}  # the graph input and every float tensor
    rng = np.random.default_rng(0)
    samples = np.concatenate([rng.uniform(-1, 1, (2, 4)).astype(np.float32) for _ in range(3)])
    if algorithm == "minmax":  # the whole range: max |x| / 127, from the data the calibrator fed
        assert parsed.scales()["input"] == pytest.approx(float(np.abs(samples).max()) / 127.0, rel=1e-6)
    exact = np.maximum(
        np.array([[0.5, -0.25, 1.0, 0.1], [0.3, 0.2, -0.9, 0.7]], np.float32)
        @ np.arange(12, dtype=np.float32).reshape(4, 3),
        0,
    )
    out = np.array(got["out"])
    assert not np.array_equal(out, exact)  # fake-quantized: not the FP32 answer ...
    assert np.allclose(out, exact, atol=0.5)  # ... but close to it


def test_an_offered_cache_means_no_get_batch(tmp_path: Path) -> None:
    _tiny_model(tmp_path)
    (tmp_path / "cache.calib").write_bytes(
        calibcache.dumps(calibcache.make(calibcache.header_for("8.6.1", "entropy2"), {"input": 0.01}))
    )
    got = run_py("8.6.1", PROTOCOL, str(tmp_path), "entropy2", "offer")
    assert got["stats"]["get_batch_calls"] == 0 and got["stats"]["cache_hits"] == 1
    assert [line for line in got["log"] if line.startswith("Missing scale and zero-point for tensor mm")], got["log"]
    # input clipped at 127 * 0.01 = 1.27: a value of 1.0 survives, so the result is the quantized one
    assert json.dumps(got["out"])


def test_11_x_has_no_calibrator_base() -> None:
    got = run_py("11.4.0.106", "import json, tensorrt as t; print(json.dumps(hasattr(t, 'IInt8EntropyCalibrator2')))")
    assert got is False
