"""Implicit INT8 in the double: the builder drives the calibrator, the engine fake-quantizes. NOT TensorRT.

Sources: NVIDIA's Python API documentation of IInt8Calibrator ("get_batch_size", "get_batch(names) ->
device pointers, None to end", "read_calibration_cache: if a cache is returned, no batches are asked
for", "write_calibration_cache(cache)"), the Developer Guide "INT8 Calibration" (the cache is read first;
calibration runs only without a usable cache), matrix/suite/calibcache.py (the cache's text format),
../shared/research/known-issues.md section 2 (KI2: "Missing scale and zero-point" for tensors a cache
does not cover). Scales are symmetric, per tensor: scale = threshold / 127. The threshold is
- minmax (IInt8MinMaxCalibrator docs: "uses the entire range of the activation distribution"): max |x|;
- entropy2 (IInt8EntropyCalibrator2 docs: entropy calibration; the method of Migacz, "8-bit Inference
  with TensorRT", GTC 2017): the clip of a 2048-bin |x| histogram that minimises the KL divergence
  between the clipped distribution and its 128-level quantization (searched every STEP = 64 bins here: the
  double's simplification, not TensorRT's exact search).
The built engine is the ONNX graph with QuantizeLinear/DequantizeLinear (int8, zero point 0) after every
scaled tensor, run by ONNX Runtime: the fake quantization. Q/DQ models keep their own Q/DQ.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tensorrt import _model

BINS = 2048
STEP = 64  # candidate clips every STEP bins (the double's coarse search, for speed)
NO_CALIBRATOR = (
    "Calibrator is not being used. Users must provide dynamic range for all tensors that are not Int32 or Bool."
)


class CalibratorBaseModel:
    """IInt8EntropyCalibrator2 / IInt8MinMaxCalibrator: Python subclasses implement the callbacks."""

    _ALGORITHM = "ENTROPY_CALIBRATION_2"

    def __init__(self) -> None:
        pass

    def get_algorithm(self) -> Any:
        return getattr(_model.T["CalibrationAlgoType"], self._ALGORITHM)

    def get_batch_size(self) -> int:
        raise NotImplementedError("get_batch_size is pure virtual: implement it in the subclass")

    def get_batch(self, names: Any) -> Any:
        raise NotImplementedError("get_batch is pure virtual: implement it in the subclass")

    def read_calibration_cache(self) -> Any:
        raise NotImplementedError("read_calibration_cache is pure virtual: implement it in the subclass")

    def write_calibration_cache(self, cache: Any) -> None:
        raise NotImplementedError("write_calibration_cache is pure virtual: implement it in the subclass")


class MinMaxModel(CalibratorBaseModel):
    _ALGORITHM = "MINMAX_CALIBRATION"


MODELS = {"IInt8EntropyCalibrator2": CalibratorBaseModel, "IInt8MinMaxCalibrator": MinMaxModel}
_ALGORITHMS = {"ENTROPY_CALIBRATION_2": "entropy2", "MINMAX_CALIBRATION": "minmax"}


def has_qdq(onnx_bytes: bytes) -> bool:
    import onnx

    return any(
        n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in onnx.load_from_string(onnx_bytes).graph.node
    )


def _entropy_threshold(values: np.ndarray) -> float:
    top = float(np.max(values)) if values.size else 0.0
    if top <= 0.0:
        return 0.0
    hist, edges = np.histogram(values, bins=BINS, range=(0.0, top))
    hist = hist.astype(np.float64)
    best, best_kl = top, np.inf
    for i in range(128, BINS + 1, STEP):
        p = hist[:i].copy()
        p[i - 1] += hist[i:].sum()
        q = np.zeros(i)
        for chunk in np.array_split(np.arange(i), 128):
            part = hist[chunk]
            nonzero = part > 0
            if nonzero.any():
                q[chunk[nonzero]] = part[nonzero].sum() / nonzero.sum()
        if p.sum() == 0 or q.sum() == 0:
            continue
        p, q = p / p.sum(), q / q.sum()
        mask = p > 0
        kl = float(np.sum(p[mask] * np.log(p[mask] / np.maximum(q[mask], 1e-12))))
        if kl < best_kl:
            best, best_kl = float(edges[i]), kl
    return best


def _all_tensors(onnx_bytes: bytes) -> tuple[bytes, list[str]]:
    """The model with every float node output made a graph output (to read activations), and those names."""
    import onnx

    model = onnx.load_from_string(onnx_bytes)
    model = onnx.shape_inference.infer_shapes(model)
    known = {v.name: v for v in list(model.graph.value_info) + list(model.graph.output)}
    outputs = {o.name for o in model.graph.output}
    names = []
    for node in model.graph.node:
        for out in node.output:
            info = known.get(out)
            if info is None or info.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
                continue
            names.append(out)
            if out not in outputs:
                model.graph.output.append(info)
                outputs.add(out)
    return model.SerializeToString(), names


def calibrate(logger: Any, calibrator: Any, onnx_bytes: bytes, inputs: list[Any], release: str) -> Any:
    """Drive the calibrator as documented; the scales {tensor: scale}, or None after an error line."""
    import onnxruntime
    from matrix.suite import calibcache

    from cuda.bindings import runtime

    algorithm = _ALGORITHMS.get(calibrator.get_algorithm().name, "entropy2")
    batch = int(calibrator.get_batch_size())
    cached = calibrator.read_calibration_cache()
    probe_bytes, tensors = _all_tensors(onnx_bytes)
    wanted = [name for name, _shape, dtype in inputs if dtype == "FLOAT"] + tensors
    if cached:
        try:
            parsed = calibcache.parse(bytes(cached), "the calibration cache")
        except calibcache.CacheFormatError as exc:
            _model._log(logger, "WARNING", f"The calibration cache is not usable ({exc}); calibrating again")
        else:
            scales = parsed.scales()
            for name in wanted:
                if name not in scales:  # KI2 (tensorrtx#1093)
                    _model._log(
                        logger,
                        "WARNING",
                        f"Missing scale and zero-point for tensor {name}, expect fall back to non-int8 implementation "
                        "for any layer consuming or producing given tensor",
                    )
            return {n: s for n, s in scales.items() if n in wanted}
    session = onnxruntime.InferenceSession(probe_bytes, providers=["CPUExecutionProvider"])
    names = [n for n, _s, _d in inputs]
    seen: dict[str, list[np.ndarray]] = {name: [] for name in wanted}
    while True:
        pointers = calibrator.get_batch(names)
        if not pointers:
            break
        feeds = {}
        for (name, shape, _dtype), ptr in zip(inputs, pointers):
            full = (batch, *[max(int(d), 1) for d in shape[1:]])
            count = int(np.prod(full))
            try:
                view = runtime.device_view(int(ptr), count * 4)
            except runtime.IllegalAddress as exc:
                _model._log(
                    logger,
                    "ERROR",
                    f"1: [calibrator.cpp::calibrateEngine] Error Code 1: Cuda Runtime (an illegal memory access was encountered: {exc})",
                )
                return None
            feeds[name] = np.frombuffer(view, dtype=np.float32, count=count).reshape(full).copy()
        results = session.run(tensors, feeds)
        for name in names:
            if name in seen:
                seen[name].append(np.abs(feeds[name]).ravel())
        for name, value in zip(tensors, results):
            seen[name].append(np.abs(value).ravel().astype(np.float32))
    if not any(seen.values()):
        _model._log(
            logger,
            "ERROR",
            "2: [calibrator.cpp::calibrateEngine] Error Code 2: Internal Error (the calibrator gave no batch)",
        )
        return None
    scales = {}
    for name, parts in seen.items():
        values = np.concatenate(parts) if parts else np.zeros(1, np.float32)
        threshold = float(values.max()) if algorithm == "minmax" else _entropy_threshold(values)
        scales[name] = max(threshold, 1e-8) / 127.0
    cache = calibcache.make(calibcache.header_for(release, algorithm), scales)
    calibrator.write_calibration_cache(calibcache.dumps(cache))
    return scales


def fake_quantize(onnx_bytes: bytes, scales: dict[str, float]) -> bytes:
    """Insert QuantizeLinear/DequantizeLinear (int8, zero point 0) after each scaled tensor."""
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load_from_string(onnx_bytes)
    graph = model.graph
    outputs = {o.name for o in graph.output}
    nodes = list(graph.node)
    new_nodes: list[Any] = []
    renames: dict[str, str] = {}

    def qdq(name: str) -> list[Any]:
        scale, zero = f"{name}__dq_scale", f"{name}__dq_zero"
        graph.initializer.extend(
            [
                numpy_helper.from_array(np.array(scales[name], np.float32), scale),
                numpy_helper.from_array(np.array(0, np.int8), zero),
            ]
        )
        renames[name] = f"{name}__dq"
        return [
            helper.make_node("QuantizeLinear", [name, scale, zero], [f"{name}__q"]),
            helper.make_node("DequantizeLinear", [f"{name}__q", scale, zero], [f"{name}__dq"]),
        ]

    for inp in graph.input:
        if inp.name in scales:
            new_nodes += qdq(inp.name)
    for node in nodes:
        node.input[:] = [renames.get(i, i) for i in node.input]
        new_nodes.append(node)
        for out in node.output:
            if out in scales and out not in outputs:
                new_nodes += qdq(out)
    del graph.node[:]
    graph.node.extend(new_nodes)
    return bytes(model.SerializeToString())


def prepare(logger: Any, config: Any, onnx_bytes: bytes, release: str) -> Any:
    """The ONNX the engine runs and what INT8 did: (onnx, info) or (None, info) after an error line."""
    flag = getattr(_model.T["BuilderFlag"], "INT8", None)
    if flag is None or flag not in config._flags:
        return onnx_bytes, {}
    if has_qdq(onnx_bytes):
        return onnx_bytes, {"int8": "explicit Q/DQ"}
    calibrator = getattr(config, "_calibrator", None)
    if calibrator is None:
        _model._log(logger, "WARNING", NO_CALIBRATOR)
        return onnx_bytes, {"int8": "no calibrator: no scales"}
    inputs = _model._graph_io(onnx_bytes)[0]
    scales = calibrate(logger, calibrator, onnx_bytes, inputs, release)
    if scales is None:
        return None, {"int8": "calibration failed"}
    return fake_quantize(onnx_bytes, scales), {"int8": "calibrated", "int8_tensors": len(scales)}
