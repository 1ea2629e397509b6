"""Explicit INT8 on the host: a Q/DQ ONNX model from ONNX Runtime's static quantizer, measured against FP32.

Contract: `quantize(model, samples, settings)` returns the Q/DQ model's bytes, calibrated on
`samples` ([1, 3, H, W] inputs) with the settings of `qdq.toml` (`load_settings()`: chosen by
measurement, the measurements beside them). `tensorrt_problems(qdq)` lists what TensorRT's ONNX
parser would refuse (non-zero zero points, non-INT8 Q/DQ, per-axis scales before opset 13): a
structural check, not TensorRT. `evaluate(spec, fp32, qdq, photos)` runs both models in ONNX Runtime
on the photos and returns per-output cosine / max abs (all anchors and object anchors) and detection
recall / precision at IoU 0.5 (matrix/models/accuracy.py). `trt-matrix quantize` is
`matrix.models.quantize_model.run`, which adds the weights and the reference model.
Host only: onnx and onnxruntime are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from matrix.errors import UserError
from matrix.models import images, registry
from matrix.models.registry import ModelSpec

SETTINGS_FILE = Path(__file__).with_name("qdq.toml")
INT8_FAMILIES = ("retinaface", "scrfd")
METHODS = ("MinMax", "Entropy", "Percentile", "Distribution")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How ONNX Runtime's quantize_static is called (the [settings] table of qdq.toml). Build it with
    keywords; not kw_only because matrix/models keeps to Python 3.8 syntax."""

    method: str = "MinMax"
    per_channel: bool = True
    moving_average: bool = True
    symmetric_activations: bool = True
    symmetric_weights: bool = True
    quantize_bias: bool = False
    dedicated_qdq_pair: bool = True
    op_types: tuple[str, ...] = ()  # empty: every op type ONNX Runtime quantizes
    calib_samples: int = 16

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise UserError(f"qdq settings: method {self.method!r} is not one of {', '.join(METHODS)}")
        if self.calib_samples < 1:
            raise UserError("qdq settings: calib_samples must be at least 1")

    def extra_options(self) -> dict[str, Any]:
        return {
            "ActivationSymmetric": self.symmetric_activations,
            "WeightSymmetric": self.symmetric_weights,
            "CalibMovingAverage": self.moving_average,
            "QuantizeBias": self.quantize_bias,
            "DedicatedQDQPair": self.dedicated_qdq_pair,
        }

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["op_types"] = list(self.op_types)
        return d


def load_settings(path: Path = SETTINGS_FILE) -> Settings:
    """The [settings] table of a qdq.toml, each field of its type; a UserError naming the file otherwise."""
    from matrix.models import tomlload

    try:
        table = tomlload.load(path).get("settings")
    except ValueError as exc:
        raise UserError(f"{exc} (expected a qdq.toml with a [settings] table)") from None
    if not isinstance(table, dict):
        raise UserError(f"{path}: no [settings] table (the quantizer's settings: {', '.join(_FIELDS)})")
    unknown = sorted(set(table) - set(_FIELDS))
    if unknown:
        names = ", ".join(k if k.isprintable() else repr(k) for k in unknown)[:200]
        raise UserError(f"{path}: unknown settings {names}; known: {', '.join(_FIELDS)}")
    for name, value in table.items():
        default = _FIELDS[name]
        if isinstance(default, tuple):
            ok = isinstance(value, list) and all(isinstance(v, str) and v for v in value)
        else:
            ok = type(value) is type(default)  # bool is no int here, nor an int a bool
        if not ok:
            want = "a list of op type names" if isinstance(default, tuple) else type(default).__name__
            raise UserError(f"{path}: [settings] {name} must be {want}, not {value!r:.60}")
    values = dict(table)
    if "op_types" in values:
        values["op_types"] = tuple(values["op_types"])
    if values.get("method", Settings.method) not in METHODS:
        raise UserError(f"{path}: [settings] method {values['method']!r:.60} is not one of {', '.join(METHODS)}")
    if values.get("calib_samples", Settings.calib_samples) < 1:
        raise UserError(f"{path}: [settings] calib_samples must be at least 1")
    return Settings(**values)


_FIELDS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(Settings)}


def int8_spec(name: str) -> ModelSpec:
    spec = registry.get(name)
    if spec.family not in INT8_FAMILIES:
        int8 = [n for n in registry.names() if registry.get(n).family in INT8_FAMILIES]
        raise UserError(f"{name} is not an INT8 model of the matrix; quantize takes {', '.join(int8)}")
    return spec


@contextlib.contextmanager
def _quiet(log: list[str]) -> Iterator[None]:
    """ONNX Runtime's quantizer prints progress to stdout and warns through the root logger: keep both."""
    out = io.StringIO()
    logging.disable(logging.WARNING)
    try:
        with contextlib.redirect_stdout(out):
            yield
    finally:
        logging.disable(logging.NOTSET)
        log.extend(line for line in out.getvalue().splitlines() if line.strip())


def quantize(model: bytes, samples: Sequence[np.ndarray], settings: Settings, log: list[str] | None = None) -> bytes:
    """The Q/DQ model (bytes) for an FP32 model and its calibration samples."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    proto = onnx.load_from_string(model)
    input_name = proto.graph.input[0].name
    feed = list(samples)

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.items = iter(feed)

        def get_next(self) -> dict[str, np.ndarray] | None:
            x = next(self.items, None)
            return None if x is None else {input_name: x}

    with tempfile.TemporaryDirectory(prefix="trt-matrix-qdq-") as tmp:
        src, dst = Path(tmp) / "model.onnx", Path(tmp) / "model.qdq.onnx"
        src.write_bytes(model)
        with _quiet(log if log is not None else []):
            quantize_static(
                str(src),
                str(dst),
                Reader(),
                quant_format=QuantFormat.QDQ,
                op_types_to_quantize=list(settings.op_types) or None,
                per_channel=settings.per_channel,
                reduce_range=False,
                activation_type=QuantType.QInt8,
                weight_type=QuantType.QInt8,
                calibrate_method=getattr(CalibrationMethod, settings.method),
                extra_options=settings.extra_options(),
            )
        return dst.read_bytes()


def tensorrt_problems(qdq: bytes) -> list[str]:
    """What TensorRT's ONNX parser is documented to refuse in Q/DQ nodes (a structural check).

    TensorRT quantizes symmetrically: zero points must be 0 ("TRT only supports symmetric
    quantization - zeroPt must be all zeros", the parser's assertion quoted in
    https://github.com/onnx/tensorflow-onnx/issues/1713); its integer Q/DQ type is INT8 (TensorRT
    developer guide, Working with Quantized Types); per-axis scales (`axis`) exist from opset 13."""
    import onnx
    from onnx import TensorProto, numpy_helper

    proto = onnx.load_from_string(qdq)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 0)
    inits = {t.name: t for t in proto.graph.initializer}
    problems: list[str] = []
    for node in proto.graph.node:
        if node.op_type not in ("QuantizeLinear", "DequantizeLinear"):
            continue
        if len(node.input) > 2 and node.input[2]:
            zp = inits.get(node.input[2])
            if zp is None:
                problems.append(f"{node.name}: zero point {node.input[2]} is not a constant")
            else:
                if zp.data_type != TensorProto.INT8:
                    problems.append(f"{node.name}: zero point type {TensorProto.DataType.Name(zp.data_type)}, not INT8")
                if np.any(numpy_helper.to_array(zp) != 0):
                    problems.append(f"{node.name}: non-zero zero point (TensorRT quantizes symmetrically)")
        if node.op_type == "DequantizeLinear" and node.input[0] in inits:
            dtype = inits[node.input[0]].data_type
            if dtype != TensorProto.INT8:
                problems.append(f"{node.name}: dequantizes {TensorProto.DataType.Name(dtype)} (TensorRT: INT8)")
        axis = [a for a in node.attribute if a.name == "axis"]
        scale = inits.get(node.input[1])
        per_axis = scale is not None and len(scale.dims) > 0 and int(np.prod(scale.dims)) > 1
        if (axis or per_axis) and opset < 13:
            problems.append(f"{node.name}: per-axis scales need opset 13, the model is opset {opset}")
    return problems


def problem_summary(problems: Sequence[str]) -> str:
    """'312 Q/DQ problems for TensorRT: 156x zero point type INT32, not INT8; ...' (kinds, most first)."""
    kinds: dict[str, int] = {}
    for p in problems:
        kind = p.split(": ", 1)[-1]
        kinds[kind] = kinds.get(kind, 0) + 1
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    return "{} Q/DQ problem(s) for TensorRT: {}".format(len(problems), "; ".join(f"{n}x {k}" for k, n in ranked))


def evaluate(
    spec: ModelSpec,
    fp32: Callable[[np.ndarray], dict[str, np.ndarray]],
    qdq: Callable[[np.ndarray], dict[str, np.ndarray]],
    photos: Sequence[Path],
    object_score: float = 0.5,
) -> dict[str, Any]:
    """The Q/DQ model against FP32 on the photos: per-output metrics and detection recall/precision."""
    from matrix.models import accuracy
    from matrix.models.preprocess import preprocess

    pairs, det_pairs = [], []
    for path in photos:
        x, box = preprocess(images.read_image(path), spec.preprocess)
        a, q = fp32(x), qdq(x)
        pairs.append((q, a))
        det_pairs.append((path.name, registry.decode(spec, a, box), registry.decode(spec, q, box)))
    return {
        "outputs": accuracy.outputs_over(spec, pairs, object_score),
        "detection": accuracy.detections(det_pairs),
    }


def brief(evaluation: dict[str, Any]) -> dict[str, Any]:
    """The JSON `trt-matrix quantize` prints: cosine and max_abs per output (all and object anchors)."""
    outs = {}
    for name, m in evaluation["outputs"].items():
        entry = {k: m.get(k) for k in ("cosine", "max_abs")}
        obj = m.get("objects") or {}
        entry["objects"] = {k: obj.get(k) for k in ("anchors", "cosine", "max_abs")}
        outs[name] = entry
    det = evaluation["detection"]
    return {
        "outputs": outs,
        "detection": {k: det[k] for k in ("recall", "precision", "iou", "fp32", "actual", "matched", "images")},
    }


def versions() -> dict[str, str]:
    import onnx
    import onnxruntime

    return {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__}


QDQ_MODEL = "model.qdq.onnx"
QDQ_META = "qdq.json"


def export_qdq(
    folder: Path, model: bytes, samples: Sequence[np.ndarray], say: Callable[[str], None] = lambda _m: None
) -> dict[str, Any]:
    """`models export` for an INT8 model: model.qdq.onnx from the exported calibration samples, and
    qdq.json (settings, samples, TensorRT problems, versions) beside it."""
    import json

    settings = load_settings()
    log: list[str] = []
    qdq = quantize(model, samples, settings, log)
    (folder / QDQ_MODEL).write_bytes(qdq)
    meta = {
        "generated_by": "trt-matrix models export (regenerate with the same command; do not edit)",
        "quantizer": "onnxruntime.quantization.quantize_static, QDQ format, INT8 symmetric",
        "settings": {k: v for k, v in settings.to_json().items() if k != "calib_samples"},
        "calib_samples": len(samples),  # the exported calibration set, the one TensorRT's calibrators get
        "tensorrt_problems": tensorrt_problems(qdq),
        "versions": versions(),
    }
    (folder / QDQ_META).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    say(f"{QDQ_MODEL}: {len(qdq) / 1e6:.1f} MB, Q/DQ from {len(samples)} calibration samples")
    return meta
