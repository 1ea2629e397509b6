"""deserialize: load a plan another release (or this one) built, and run it once.

Phase 2, one consumer image, every producer's artifacts mounted read-only. Sets
`engine_host_code_allowed` for version-compatible plans. Passes when the plan loads and its outputs
match the FP32 reference within the precision's thresholds. A refusal is `fail` with the class of
the TensorRT log line that explains it (serialization tag, library version, not a plan, unsupported
SM, missing plugin) and that line; expectations.toml turns the documented refusals into xfail.
"""

from __future__ import annotations

import time
from typing import Any

from matrix.models import compare
from matrix.suite import classify
from matrix.suite.checks.common import Inference, Session, find_plan, read_reference, weights_label
from matrix.suite.outcome import CheckContext, Fail, Outcome
from matrix.suite.planfile_glue import header_summary


def run(ctx: CheckContext) -> Outcome:
    cell = ctx.cell
    path = find_plan(ctx, cell.producer, cell.model, cell.precision, cell.variant)
    plan = path.read_bytes()
    measurements: dict[str, Any] = {
        "plan": path.name,
        "plan_bytes": len(plan),
        "header": header_summary(plan),
        "weights": weights_label(ctx, cell.model),
    }
    session = Session.open(ctx)
    runtime = session.api.runtime(session.logger, host_code_allowed=cell.variant == "vc")
    started = time.monotonic()
    engine = session.api.deserialize(runtime, plan)
    measurements["load_ms"] = round((time.monotonic() - started) * 1000.0, 3)
    if engine is None:
        texts = [line.text for line in session.log_lines()]
        match = classify.classify(texts)
        measurements["refusal"] = match.pattern.id if match else "unclassified"
        why = match.describe() if match else "no TensorRT log line explains it"
        raise Fail(f"deserialize_cuda_engine returned None: {why}", session.log_lines(), measurements)
    inputs, reference = read_reference(ctx, cell.model)
    stream = session.cuda.stream_create()
    run_ = Inference(session, engine)
    try:
        ok, outputs = run_.run("execute_v2", inputs, stream)
    finally:
        run_.close()
        session.cuda.stream_destroy(stream)
    metrics = compare.compare(outputs, reference)
    measurements["outputs"] = metrics
    problems = ([] if ok else ["execute_v2 returned False"]) + compare.verdict(
        metrics, compare.for_precision(cell.precision, cell.model)
    )
    if problems:
        raise Fail(
            "loads, but its outputs are wrong: {}".format("; ".join(problems[:3])),
            session.log_lines(),
            measurements,
        )
    del engine, runtime
    return Outcome(
        "pass",
        f"loaded {path.name} built by {cell.producer} and its outputs match the reference",
        measurements=measurements,
    )
