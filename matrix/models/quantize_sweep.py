"""Choosing the Q/DQ settings by measurement: candidate quantizer settings, each measured against FP32.

Contract: `sweep(name, weights, calib_photos, eval_photos, count)` quantizes the model with every
candidate in `CANDIDATES` (ONNX Runtime's defaults, the TensorRT-valid symmetric variants of each
calibration method, per-tensor and per-channel, and an opset-11 control), runs each Q/DQ model in
ONNX Runtime and returns one row per candidate (detections, cosines, TensorRT problems, or the error
that stopped it). `best(rows)` is the ranking rule; `record(path, rows)` rewrites the generated
measurements below the marker line of qdq.toml, keeping the hand-written [settings] above it.
`lower_to_opset11(model)` is the control: the same graph declared at opset 11 (exact for these ops).
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matrix.errors import UserError
from matrix.models import images
from matrix.models.quantize import Settings, evaluate, int8_spec, quantize, tensorrt_problems
from matrix.models.quantize_model import calibration_samples

MARKER = "# ---- measurements (generated below this line; do not edit) ----"
ORT_DEFAULTS = Settings(
    method="MinMax",
    per_channel=False,
    moving_average=False,
    symmetric_activations=False,
    symmetric_weights=True,
    quantize_bias=True,
    dedicated_qdq_pair=False,
)


def _candidates() -> list[tuple[str, Settings, int]]:
    out: list[tuple[str, Settings, int]] = [
        ("ort-defaults", ORT_DEFAULTS, 13),
        (
            "distribution-asymmetric-per-channel",
            dataclasses.replace(ORT_DEFAULTS, method="Distribution", per_channel=True),
            13,
        ),
    ]
    for method, ma in (
        ("MinMax", True),
        ("MinMax", False),
        ("Entropy", False),
        ("Percentile", False),
        ("Distribution", False),
    ):
        for per_channel in (True, False):
            label = "{}{}-{}".format(
                method.lower(), "-ma" if ma else "", "per-channel" if per_channel else "per-tensor"
            )
            out.append((label, Settings(method=method, per_channel=per_channel, moving_average=ma), 13))
    for ops in (("Conv",), ("Conv", "Add")):
        label = "minmax-ma-per-channel-{}".format("-".join(o.lower() for o in ops))
        out.append((label, Settings(method="MinMax", per_channel=True, moving_average=True, op_types=ops), 13))
    out.append(("minmax-ma-per-channel-opset11", Settings(method="MinMax", per_channel=True, moving_average=True), 11))
    return out


CANDIDATES = _candidates()


def lower_to_opset11(model: bytes) -> bytes:
    """The same graph declared at opset 11: Resize gets an explicit empty roi, Softmax must be on the
    last axis (opset 11 flattens from the axis, which is the same there). Refuses other ops."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    proto = onnx.load_from_string(model)
    allowed = {"Conv", "Relu", "LeakyRelu", "Add", "Concat", "Reshape", "Transpose", "Resize", "Softmax", "Sigmoid"}
    shapes = {v.name: len(v.type.tensor_type.shape.dim) for v in proto.graph.output}
    roi = "opset11.empty_roi"
    for node in proto.graph.node:
        if node.op_type not in allowed:
            raise UserError(f"lowering to opset 11: op {node.op_type} is not handled")
        if node.op_type == "Resize" and node.input[1] == "":
            node.input[1] = roi
        if node.op_type == "Softmax":
            axis = next((a.i for a in node.attribute if a.name == "axis"), -1)
            rank = shapes.get(node.output[0])
            if axis != -1 and (rank is None or axis != rank - 1):
                raise UserError("lowering to opset 11: a Softmax not on the last axis changes meaning")
    proto.graph.initializer.append(numpy_helper.from_array(np.zeros(0, dtype=np.float32), roi))
    del proto.opset_import[:]
    proto.opset_import.append(helper.make_opsetid("", 11))
    return bytes(proto.SerializeToString())


def _row(label: str, settings: Settings, opset: int) -> dict[str, Any]:
    return {"candidate": label, "opset": opset, **{k: v for k, v in settings.to_json().items() if k != "calib_samples"}}


def measure(
    spec_name: str,
    model: bytes,
    weights_label: str,
    calib: Sequence[Any],
    eval_photos: Sequence[Path],
    label: str,
    settings: Settings,
    opset: int,
    object_score: float,
) -> dict[str, Any]:
    import onnx

    from matrix.models import reference

    spec = int8_spec(spec_name)
    row = _row(label, settings, opset)
    row.update(model=spec_name, weights=weights_label)
    source = model if opset == 13 else lower_to_opset11(model)
    started = time.monotonic()
    try:
        qdq = quantize(source, calib, settings)
    except Exception as exc:  # what ONNX Runtime says is the measurement
        row["error"] = f"quantize_static: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
        return row
    row["quantize_s"] = round(time.monotonic() - started, 2)
    problems = tensorrt_problems(qdq)
    row["tensorrt_problems"] = len(problems)
    row["tensorrt_problem_example"] = problems[0] if problems else ""
    try:
        onnx.checker.check_model(onnx.load_from_string(qdq), full_check=True)
        row["checker"] = "ok"
    except Exception as exc:  # onnx raises its own ValidationError types
        row["checker"] = str(exc).strip().splitlines()[0][:200]
    try:
        qdq_run = reference.Runner(spec, reference.session(qdq), weights_label)
    except Exception as exc:  # onnxruntime raises its own exception types
        row["error"] = f"ONNX Runtime cannot load it: {str(exc).splitlines()[0][:200]}"
        return row
    fp32_run = reference.Runner(spec, reference.session(model), weights_label)
    ev = evaluate(spec, fp32_run.outputs, qdq_run.outputs, eval_photos, object_score)
    det = ev["detection"]
    cos = [m["cosine"] for m in ev["outputs"].values() if "cosine" in m]
    obj = [m["objects"]["cosine"] for m in ev["outputs"].values() if m.get("objects", {}).get("cosine") is not None]
    row.update(
        fp32_detections=det["fp32"],
        qdq_detections=det["actual"],
        recall=_r(det["recall"]),
        precision=_r(det["precision"]),
        cosine_min=_r(min(cos)) if cos else -1.0,
        object_cosine_min=_r(min(obj)) if obj else -1.0,
    )
    return row


def _r(x: float | None) -> float:
    return -1.0 if x is None else round(float(x), 4)


def sweep(
    name: str,
    weights: Path | None,
    calib_photos: Sequence[Path] | None,
    eval_photos: Sequence[Path] | None,
    count: int,
    say: Any = lambda _m: None,
) -> list[dict[str, Any]]:
    from matrix.models import compare, reference

    spec = int8_spec(name)
    w = reference.resolve_weights(spec, weights)
    model = reference.model_bytes(spec, w)
    calib = calibration_samples(spec, list(calib_photos) if calib_photos else images.bundled_photos(), count)
    evals = list(eval_photos) if eval_photos else (list(calib_photos) if calib_photos else images.bundled_photos())
    object_score = float(compare.for_precision("int8", name)["object_score"])
    rows = []
    for label, settings, opset in CANDIDATES:
        say(f"{name}: {label}")
        row = measure(name, model, w.label, calib, evals, label, settings, opset, object_score)
        row.update(calib_samples=count, eval_images=len(evals))
        rows.append(row)
    return rows


def valid(row: dict[str, Any]) -> bool:
    return "error" not in row and row.get("tensorrt_problems") == 0 and row.get("checker") == "ok"


def rank_key(row: dict[str, Any]) -> tuple[float, ...]:
    """Detections first (recall, then precision), then the worst object-anchor cosine, then all-anchor."""
    return (row["recall"], row["precision"], row["object_cosine_min"], row["cosine_min"])


def best(rows: Sequence[dict[str, Any]], model: str) -> dict[str, Any]:
    mine = [r for r in rows if r["model"] == model and valid(r)]
    if not mine:
        raise UserError(f"no TensorRT-valid candidate was measured for {model}")
    return max(mine, key=rank_key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def record(path: Path, rows: Sequence[dict[str, Any]], commands: Sequence[str], versions: dict[str, str]) -> None:
    """Rewrites the generated part of qdq.toml (below MARKER) with these rows; the top stays as written."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    head = text.split(MARKER)[0].rstrip() + "\n\n" if MARKER in text else (text.rstrip() + "\n\n" if text else "")
    lines = [
        MARKER,
        "# Regenerate with the commands below (one per model; each keeps the other models' rows).",
        "[measured]",
        f'date = "{datetime.date.today().isoformat()}"',
        f"commands = {_toml_value(list(commands))}",
        *(f"{k} = {_toml_value(v)}" for k, v in sorted(versions.items())),
        "",
    ]
    for row in rows:
        lines.append("[[measurement]]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in row.items())
        lines.append("")
    path.write_text(head + "\n".join(lines), encoding="utf-8")
