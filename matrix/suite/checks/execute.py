"""execute: run one engine through each execution path; compare, flag zeros and NaN, time it.

Variants: `execute_v2` (synchronous bindings), `execute_async_v3` (set_tensor_address, 8.5+),
`execute_async_v2` (8.x only), and from a worker thread: `thread-context` (the engine's explicit
CUDA context pushed in the thread) and `thread-no-context` (not pushed: the mistake behind
"invalid resource handle" and all-zero outputs, e.g. pycuda.autoinit with threads). Outputs are
compared with the ONNX Runtime reference and, for every path but execute_v2, with execute_v2 on the
same engine. Latency: warm-up, repeats, CUDA events (host clock for the synchronous execute_v2).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from matrix.models import compare
from matrix.suite import classify, timing, trace
from matrix.suite.checks.common import Inference, Session, build_from_onnx, read_model, read_reference, weights_label
from matrix.suite.outcome import CheckContext, Fail, Outcome, Skip


def _engine(ctx: CheckContext, session: Session) -> tuple[Any, Any, str]:
    cell = ctx.cell
    plan_path = ctx.own_dir / ctx.plan_name(cell.model, cell.precision, "onnx")
    if plan_path.is_file():
        plan, source = plan_path.read_bytes(), f"reused {plan_path.name}"
    else:
        onnx_bytes, _ = read_model(ctx, cell.model)
        plan, source = build_from_onnx(session, onnx_bytes, cell.precision, "onnx"), "built in this cell"
    runtime = session.api.runtime(session.logger)
    engine = session.api.deserialize(runtime, plan)
    if engine is None:
        raise session.fail("deserialize_cuda_engine returned None for this release's own plan")
    return runtime, engine, source


def _judge(
    session: Session,
    cell_precision: str,
    model: str,
    ok: bool,
    outputs: dict[str, np.ndarray],
    reference: dict[str, np.ndarray],
    baseline: dict[str, np.ndarray] | None,
    measurements: dict[str, Any],
    label: str,
) -> list[str]:
    metrics = compare.compare(outputs, reference)
    measurements["outputs"] = metrics
    problems = [] if ok else [f"{label} returned False"]
    problems += compare.verdict(metrics, compare.for_precision(cell_precision, model))
    if baseline is not None:
        agreement = compare.compare(outputs, baseline)
        measurements["against_execute_v2"] = agreement
        problems += ["vs execute_v2: " + p for p in compare.verdict(agreement, compare.thresholds()["agreement"])]
    known = classify.classify(
        [x.text for x in session.log_lines()],
        only=("cutensor-permutate", "invalid-resource-handle", "out-of-memory"),
    )
    if known:  # first: the reason keeps only the first few problems, and this one names the cause
        problems.insert(0, known.describe())
    return problems


def _paths(session: Session, variant: str) -> str:
    available = session.api.execute_paths()
    if variant in ("execute_v2", "execute_async_v3", "execute_async_v2"):
        if variant not in available:
            note = {"execute_async_v3": "added in 8.5", "execute_async_v2": "removed in 10.0"}.get(variant, "")
            raise session.api.absent("IExecutionContext." + variant, note)
        return variant
    # worker-thread variants use the asynchronous path the release has, v3 first
    for path in ("execute_async_v3", "execute_async_v2"):
        if path in available:
            return path
    raise session.api.absent("IExecutionContext.execute_async_v3")


def _same_thread(ctx: CheckContext, session: Session, path: str) -> Outcome:
    cell = ctx.cell
    runtime, engine, source = _engine(ctx, session)
    inputs, reference = read_reference(ctx, cell.model)
    measurements: dict[str, Any] = {
        "weights": weights_label(ctx, cell.model),
        "engine": source,
        "gpu": session.gpu(),
        "cuda_backend": session.cuda.backend,
    }
    stream = session.cuda.stream_create()
    run = Inference(session, engine)
    try:
        baseline = None
        if path != "execute_v2":
            ok_v2, baseline = run.run("execute_v2", inputs, stream)
            if not ok_v2:
                baseline = None
        ok, outputs = run.run(path, inputs, stream)
        problems = _judge(session, cell.precision, cell.model, ok, outputs, reference, baseline, measurements, path)
        warmup = int(ctx.options.get("warmup", timing.WARMUP))
        repeats = int(ctx.options.get("repeats", timing.REPEATS))
        if ok and not problems:
            if path == "execute_v2":
                measurements["latency"] = timing.measure_host(lambda: run.enqueue(path, stream), warmup, repeats)
            else:
                measurements["latency"] = timing.measure_events(
                    session.cuda, stream, lambda s: run.enqueue(path, s), warmup, repeats
                )
    finally:
        run.close()
        session.cuda.stream_destroy(stream)
    del engine, runtime
    if problems:
        raise Fail("{}: {}".format(path, "; ".join(problems[:4])), session.log_lines(), measurements)
    return Outcome(
        "pass",
        "{} outputs match the reference{}".format(path, "" if path == "execute_v2" else " and execute_v2"),
        measurements=measurements,
    )


def _worker_thread(ctx: CheckContext, session: Session, path: str, push_context: bool) -> Outcome:
    """The engine lives in an explicit context made in the main thread; a worker thread runs it.

    Only TensorRT's enqueue and the stream synchronisation run in the thread: the harness's own copies
    and memsets stay in the main thread, where the context is current, so a failure in the thread is
    TensorRT's ("invalid resource handle", all-zero outputs), never the harness's cudaMemset. A thread
    that outlives its join limit may still use the context, so the context is then left alive."""
    cell = ctx.cell
    cuda = session.cuda
    context_handle = cuda.ctx_create(session.device)  # current in this thread, like pycuda.autoinit
    trace.take("cuCtxCreate (explicit context, main thread)")
    runtime = engine = None
    thread_alive = False
    try:
        runtime, engine, source = _engine(ctx, session)
        inputs, reference = read_reference(ctx, cell.model)
        run = Inference(session, engine)
        stream = cuda.stream_create()
        ok_v2, baseline = run.run("execute_v2", inputs, stream)
        run.clear_outputs()
        run.load_inputs(inputs)  # synchronous copies in the main thread, before the worker starts
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                if push_context:
                    cuda.ctx_push(context_handle)
                    trace.take("cuCtxPushCurrent (worker thread)")
                else:
                    trace.take("no context pushed (worker thread)")
                try:
                    result["ok"] = run.enqueue(path, stream)
                    cuda.stream_synchronize(stream)
                finally:
                    result["cuda_error"] = cuda.last_error()
                    if push_context:
                        cuda.ctx_pop()
            except Exception as exc:  # a CUDA call failing in the thread is the observation
                result["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"

        thread = threading.Thread(target=work, name="trt-matrix-worker", daemon=True)
        thread.start()
        thread.join(timeout=float(ctx.options.get("thread_timeout_s", 120)))
        if thread.is_alive():
            thread_alive = True
            raise Fail("the worker thread did not finish within its limit (its CUDA context is left alive)")
        measurements: dict[str, Any] = {
            "weights": weights_label(ctx, cell.model),
            "engine": source,
            "gpu": session.gpu(),
            "pushed_context": push_context,
            "cuda_backend": cuda.backend,
        }
        if "error" in result:
            measurements["thread_error"] = result["error"]
            raise Fail("in the worker thread: {}".format(result["error"]), session.log_lines(), measurements)
        if result.get("cuda_error"):
            measurements["thread_cuda_error"] = result["cuda_error"]
        cuda.stream_synchronize(stream)
        outputs = run.read_outputs()  # synchronous copies, back in the main thread
        problems = _judge(
            session,
            cell.precision,
            cell.model,
            bool(result["ok"]),
            outputs,
            reference,
            baseline if ok_v2 else None,
            measurements,
            path,
        )
        if result.get("cuda_error"):
            problems.append("CUDA error in the thread: {}".format(result["cuda_error"]))
        run.close()
        cuda.stream_destroy(stream)
        if problems:
            raise Fail(
                "{} from a worker thread{}: {}".format(
                    path, "" if push_context else " without the engine's context", "; ".join(problems[:4])
                ),
                session.log_lines(),
                measurements,
            )
        return Outcome(
            "pass",
            "{} from a worker thread ({}) matches the reference".format(
                path, "context pushed" if push_context else "no context pushed"
            ),
            measurements=measurements,
        )
    finally:
        if not thread_alive:
            del engine, runtime
            cuda.ctx_destroy(context_handle)


def run(ctx: CheckContext) -> Outcome:
    session = Session.open(ctx)
    variant = ctx.cell.variant
    path = _paths(session, variant)
    if variant in ("execute_v2", "execute_async_v3", "execute_async_v2"):
        return _same_thread(ctx, session, path)
    if variant in ("thread-context", "thread-no-context"):
        return _worker_thread(ctx, session, path, push_context=variant == "thread-context")
    raise Skip(f"unknown execute variant {variant!r}")
