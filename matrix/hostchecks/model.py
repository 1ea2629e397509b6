"""model (tier 0): each model's ONNX is valid, runs in ONNX Runtime, and gives the stored reference.

Uses the run's exported artifacts/models/<name>/ (exporting into scratch when the run has none), then:
onnx.checker (full check) passes; the input, output names and shapes are the published ones (the
registry); ONNX Runtime on the CPU reproduces reference.npz (what every image compares against); the
outputs are finite, not all zero, and the object scores spread (a model that says the same thing
everywhere would make every later comparison meaningless).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from matrix.hostchecks import model_folder
from matrix.models import compare
from matrix.suite.outcome import CheckContext, Fail, Outcome

REPRODUCE = {"cosine_min": 0.999999, "max_abs_max": 1e-4}  # the same model, inputs and runtime: rounding only


def run(ctx: CheckContext) -> Outcome:
    import json

    import onnx

    from matrix.models import reference, registry

    name = ctx.cell.model
    spec = registry.get(name)
    folder = model_folder(ctx, name, ("meta.json", "model.onnx"))
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    data = (folder / "model.onnx").read_bytes()
    proto = onnx.load_from_string(data)
    onnx.checker.check_model(proto, full_check=True)
    problems: list[str] = []
    graph_in = [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in proto.graph.input]
    if graph_in != [(spec.input_name, list(spec.input_shape))]:
        problems.append(f"input {graph_in} is not the published {spec.input_name} {list(spec.input_shape)}")
    graph_out = [(o.name, [d.dim_value for d in o.type.tensor_type.shape.dim]) for o in proto.graph.output]
    published = [(o.name, list(o.shape)) for o in spec.outputs]
    if graph_out != published:
        problems.append(f"outputs {graph_out} are not the published {published}")
    with np.load(str(folder / "reference.npz")) as stored:
        ref = {k: stored[k] for k in stored.files}
    started = time.perf_counter()
    outputs = reference.Runner(spec, reference.session(data), meta["weights"]["label"]).outputs(ref.pop("input"))
    ort_ms = (time.perf_counter() - started) * 1000.0
    metrics = compare.compare(outputs, ref)
    problems += ["reference: " + p for p in compare.verdict(metrics, REPRODUCE)]
    scores = registry.object_scores(spec, outputs)
    spread: dict[str, Any] = {
        "std": float(np.std(scores)),
        "min": float(scores.min()),
        "max": float(scores.max()),
        "above_0.5": float(np.mean(scores > 0.5)),
    }
    if not spread["std"] > 1e-3 or not spread["max"] > spread["min"]:
        problems.append(f"object scores do not spread: {spread}")
    measurements = {
        "weights": meta["weights"]["label"],
        "opset": meta["opset"],
        "onnx_bytes": len(data),
        "model_sha256": meta["model_sha256"],
        "ort_ms": round(ort_ms, 1),
        "scores": spread,
        "outputs": metrics,
        "published": spec.published,
    }
    if problems:
        raise Fail("; ".join(problems[:4]), measurements=measurements)
    return Outcome(
        "pass",
        f"onnx.checker passed, opset {meta['opset']}; ONNX Runtime reproduces the reference; "
        f"{spread['above_0.5'] * 100:.2f}% of anchors score above 0.5 "
        f"({meta['weights']['label']} weights)",
        measurements=measurements,
    )
