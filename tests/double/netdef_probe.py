"""`python tests/double/netdef_probe.py MODELS_DIR MODEL [plugin]` with the double on the path: build MODEL
from its weights.wts with the network-definition API (matrix/models/netdef.py) on the double, run the engine
through execute_v2 on the CUDA double, and print, as JSON, each output's comparison with ONNX Runtime running
the exported model.onnx (matrix/models/compare.py's metrics) and the API each feature took. With `plugin`
(RetinaFace): the network ends in the decode plugin (built by matrix/models/plugin.py with the double's nvcc),
and its detections on the evaluation photos are compared with the FP32 ONNX outputs decoded by
matrix/models/postprocess.py (accuracy.detections)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

import tensorrt as trt

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(models: Path, name: str) -> dict[str, Any]:
    import onnxruntime
    from matrix.models import compare, netdef, registry, weights
    from matrix.suite import cuda, trtlog

    folder = models / name
    spec = registry.get(name)
    loaded = weights.load(spec, folder / "weights.wts")
    logger = trtlog.make_logger(trt)
    builder = trt.Builder(logger)
    network = netdef.create_network(trt, builder)
    built = netdef.build_network(trt, network, name, loaded.tensors)
    config = builder.create_builder_config()
    plan = builder.build_serialized_network(network, config)
    del built, network, config
    engine = trt.Runtime(logger).deserialize_cuda_engine(plan)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 3, spec.height, spec.width)).astype(np.float32)
    session = onnxruntime.InferenceSession((folder / "model.onnx").read_bytes(), providers=["CPUExecutionProvider"])
    reference = dict(zip([o.name for o in session.get_outputs()], session.run(None, {spec.input_name: x})))
    api = cuda.load()
    context = engine.create_execution_context()
    pointers, outputs = [], {}
    for i in range(engine.num_io_tensors):
        tname = engine.get_tensor_name(i)
        shape = tuple(engine.get_tensor_shape(tname))
        nbytes = int(np.prod(shape)) * 4
        ptr = api.malloc(nbytes)
        if tname == spec.input_name:
            api.memcpy_htod(ptr, x)
        else:
            outputs[tname] = (ptr, shape)
        pointers.append(ptr)
    ok = context.execute_v2(pointers)
    got = {}
    for tname, (ptr, shape) in outputs.items():
        host = np.empty(shape, np.float32)
        api.memcpy_dtoh(host, ptr)
        got[tname] = host
    metrics = compare.compare(got, reference)
    return {"ok": bool(ok), "metrics": metrics, "api": netdef_api(loaded, name), "log": logger.texts()[-5:],
            "verdict": compare.verdict(metrics, compare.for_precision("fp32"))}  # fmt: skip


def netdef_api(loaded: Any, name: str) -> dict[str, str]:
    from matrix.models import netdef

    builder = trt.Builder(trt_logger())
    network = netdef.create_network(trt, builder)
    return netdef.build_network(trt, network, name, loaded.tensors).api


def trt_logger() -> Any:
    from matrix.suite import trtlog

    return trtlog.make_logger(trt)


def with_plugin(models: Path, name: str, scratch: Path) -> dict[str, Any]:
    from matrix.models import accuracy, evalset, netdef, plugin, postprocess, registry, weights
    from matrix.suite import cuda, trtlog

    folder = models / name
    spec = registry.get(name)
    library = plugin.build(scratch).path
    creator = plugin.load(trt, library)
    decode = plugin.create(trt, creator)
    logger = trtlog.make_logger(trt)
    builder = trt.Builder(logger)
    network = netdef.create_network(trt, builder)
    built = netdef.build_network(trt, network, name, weights.load(spec, folder / "weights.wts").tensors,
                                 decode_plugin=decode)  # fmt: skip
    plan = builder.build_serialized_network(network, builder.create_builder_config())
    del built, network
    engine = trt.Runtime(logger).deserialize_cuda_engine(plan)
    context = engine.create_execution_context()
    api = cuda.load()
    row_shape = tuple(engine.get_tensor_shape(netdef.PLUGIN_OUTPUT))
    x_ptr, out_ptr = api.malloc(3 * spec.height * spec.width * 4), api.malloc(int(np.prod(row_shape)) * 4)
    pairs = []
    for photo in evalset.load(folder):
        api.memcpy_htod(x_ptr, np.ascontiguousarray(photo.input, np.float32))
        assert context.execute_v2([x_ptr, out_ptr])
        row = np.empty(row_shape, np.float32)
        api.memcpy_dtoh(row, out_ptr)
        got = postprocess.decode_plugin_output(row[0], photo.letterbox, spec.score_threshold)
        pairs.append((photo.name, photo.fp32_detections(spec), got))
    return {"row_shape": list(row_shape), "detection": accuracy.detections(pairs), "library": library.name,
            "creator": [creator.name, creator.plugin_version]}  # fmt: skip


if __name__ == "__main__":
    if sys.argv[3:] == ["plugin"]:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            result = with_plugin(Path(sys.argv[1]), sys.argv[2], Path(tmp))
    else:
        result = main(Path(sys.argv[1]), sys.argv[2])
    sys.stdout.write(json.dumps(result, default=str) + "\n")
