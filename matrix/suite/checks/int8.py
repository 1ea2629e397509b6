"""int8: implicit calibration, calibration-cache reuse, explicit Q/DQ, and RetinaFace's decode plugin.

Variants: `entropy2` / `minmax` (calibrate the exported ONNX with IInt8EntropyCalibrator2 /
IInt8MinMaxCalibrator fed from the exported batches; the cache is written to
artifacts/<release>/<model>-int8-<variant>.calib and must be TensorRT's format); `cache-reuse` (build
twice: the second calibrator offers the first's cache, and must not be asked for a single batch);
`qdq` (build the host's model.qdq.onnx: the INT8 flag on 8.x-10.x, strongly typed on 11.x);
`decode-plugin` / `decode-plugin-fp32` (int8_plugin.py). Every built engine's layer precisions are
read back (engine inspector) and its outputs and detections on the evaluation photos are judged
against thresholds.toml [int8.<model>]. Implicit variants are `na` on 11.x.
"""

from __future__ import annotations

from typing import Any

from matrix.models import accuracy
from matrix.suite import trace, trtlog
from matrix.suite.adapter import load_tensorrt
from matrix.suite.checks import int8_build as ib
from matrix.suite.checks.common import Session, read_model, save_plan, weights_label
from matrix.suite.outcome import CheckContext, Fail, Outcome, Skip


def _calibrated(ctx: CheckContext, session: Session, algorithm: str) -> Outcome:
    cell = ctx.cell
    onnx_bytes, _ = read_model(ctx, cell.model)
    cache = ib.cache_path(ctx, ctx.release, cell.model, cell.variant)
    cache.parent.mkdir(parents=True, exist_ok=True)
    if cache.exists():
        cache.unlink()  # calibrate afresh: the cache this cell leaves is this build's own
    cal = ib.new_calibrator(ctx, session, algorithm, cache, read_cache=False)
    try:
        plan, build_s, detailed = ib.build_onnx(session, onnx_bytes, calibrator=cal)
    finally:
        cal.close()
    stats = ib.calibration_stats(cal)
    measurements: dict[str, Any] = {
        "weights": weights_label(ctx, cell.model),
        "gpu": session.gpu(),
        "calibration": stats,
    }
    if plan is None:
        raise session.fail(f"build_serialized_network returned None with the {algorithm} calibrator", **measurements)
    measurements["build_s"] = round(build_s, 3)
    measurements["cache"] = ib.check_written_cache(cal, session.api.version, algorithm)
    problems = []
    if stats["batches_served"] == 0:
        problems.append("TensorRT built an INT8 engine without asking for a single calibration batch")
    if not stats["cache_writes"]:
        problems.append("TensorRT never wrote the calibration cache")
    more, judged = ib.judge(ctx, session, plan, detailed)
    measurements.update(judged)
    problems += more
    path, _ = save_plan(
        ctx,
        session,
        plan,
        cell.model,
        "int8",
        cell.variant,
        ["INT8", f"calibrator={algorithm}"],
        measurements["weights"],
    )
    if problems:
        raise Fail("; ".join(problems[:4]), trtlog.relevant(session.log_lines()), measurements)
    rel = f"{ctx.release}/{path.name}"
    return Outcome(
        "pass",
        "{} calibration: {} batches, cache {} ({} tensors); {}".format(
            algorithm,
            stats["batches_served"],
            cache.name,
            measurements["cache"].get("tensors"),
            accuracy.summary(measurements["outputs"], measurements["detection"], measurements["limits"]),
        ),
        measurements=measurements,
        artifacts=[rel, rel[: -len(".plan")] + ".json", f"{ctx.release}/{cache.name}"],
    )


def _cache_reuse(ctx: CheckContext, session: Session) -> Outcome:
    """Calibrate once (writing the cache), then build again offering it: no batch may be asked for."""
    cell = ctx.cell
    onnx_bytes, _ = read_model(ctx, cell.model)
    cache = ib.cache_path(ctx, ctx.release, cell.model, cell.variant)
    cache.parent.mkdir(parents=True, exist_ok=True)
    if cache.exists():
        cache.unlink()
    first = ib.new_calibrator(ctx, session, "entropy2", cache, read_cache=False)
    try:
        plan1, build1, _ = ib.build_onnx(session, onnx_bytes, calibrator=first)
    finally:
        first.close()
    measurements: dict[str, Any] = {
        "weights": weights_label(ctx, cell.model),
        "gpu": session.gpu(),
        "first": ib.calibration_stats(first),
    }
    if plan1 is None:
        raise session.fail("the calibrating build returned None", **measurements)
    if not cache.is_file():
        raise Fail(
            "the calibrating build wrote no cache, so there is nothing to reuse",
            trtlog.relevant(session.log_lines()),
            measurements,
        )
    written = cache.read_bytes()
    trace.take("second build: the cache offered")
    second = ib.new_calibrator(ctx, session, "entropy2", cache, read_cache=True)
    try:
        plan2, build2, detailed = ib.build_onnx(session, onnx_bytes, calibrator=second)
    finally:
        second.close()
    s2 = ib.calibration_stats(second)
    measurements.update(
        second=s2,
        build_s=[round(build1, 3), round(build2, 3)],
        cache=ib.check_written_cache(second, session.api.version, "entropy2"),
        cache_unchanged=cache.read_bytes() == written,
    )
    if plan2 is None:
        raise session.fail("the build that reads the cache returned None", **measurements)
    problems = []
    if measurements["first"]["get_batch_calls"] == 0:
        problems.append("the first build asked for no calibration batch")
    if s2["cache_hits"] == 0:
        problems.append("the second build never read the cache (read_calibration_cache not called)")
    if s2["get_batch_calls"] > 0:
        problems.append(
            f"the second build recalibrated ({s2['get_batch_calls']} get_batch calls) although the cache was offered"
        )
    more, judged = ib.judge(ctx, session, plan2, detailed)
    measurements.update(judged)
    problems += more
    if problems:
        raise Fail("; ".join(problems[:4]), trtlog.relevant(session.log_lines()), measurements)
    return Outcome(
        "pass",
        "first build: {} get_batch calls, cache written; second build read it and asked for 0 batches; {}".format(
            measurements["first"]["get_batch_calls"],
            accuracy.summary(measurements["outputs"], measurements["detection"], measurements["limits"]),
        ),
        measurements=measurements,
    )


def _qdq(ctx: CheckContext, session: Session) -> Outcome:
    """The host's Q/DQ ONNX: the INT8 flag where it exists (8.x-10.x), strongly typed where not (11.x)."""
    cell = ctx.cell
    qdq_bytes = ctx.model_file(cell.model, "model.qdq.onnx").read_bytes()
    int8_flag = session.api.has("BuilderFlag.INT8")
    if not int8_flag:
        trace.take("strongly typed: the Q/DQ nodes set the precision (no INT8 flag in this release)")
    plan, build_s, detailed = ib.build_onnx(session, qdq_bytes, int8_flag=int8_flag)
    measurements: dict[str, Any] = {
        "weights": weights_label(ctx, cell.model),
        "gpu": session.gpu(),
        "int8_flag": int8_flag,
    }
    if plan is None:
        raise session.fail("build_serialized_network returned None for the Q/DQ model", **measurements)
    measurements["build_s"] = round(build_s, 3)
    problems, judged = ib.judge(ctx, session, plan, detailed)
    measurements.update(judged)
    flags = ["INT8", "Q/DQ"] if int8_flag else ["strongly typed", "Q/DQ"]
    path, _ = save_plan(ctx, session, plan, cell.model, "int8", "qdq", flags, measurements["weights"])
    if problems:
        raise Fail("; ".join(problems[:4]), trtlog.relevant(session.log_lines()), measurements)
    rel = f"{ctx.release}/{path.name}"
    return Outcome(
        "pass",
        "Q/DQ engine ({}): {}".format(
            ", ".join(flags),
            accuracy.summary(measurements["outputs"], measurements["detection"], measurements["limits"]),
        ),
        measurements=measurements,
        artifacts=[rel, rel[: -len(".plan")] + ".json"],
    )


IMPLICIT = ("entropy2", "minmax", "cache-reuse", "decode-plugin", "decode-plugin-fp32")


def run(ctx: CheckContext) -> Outcome:
    variant = ctx.cell.variant
    if variant in IMPLICIT:
        _, api = load_tensorrt()
        ib.require_implicit(api)  # `na` on 11.x whatever the machine: a fact of the release
        if variant == "decode-plugin-fp32":
            api.require("BuilderFlag.OBEY_PRECISION_CONSTRAINTS", "weak typing removed in 11.0")
    session = Session.open(ctx)
    if variant in ("entropy2", "minmax"):
        return _calibrated(ctx, session, variant)
    if variant == "cache-reuse":
        return _cache_reuse(ctx, session)
    if variant == "qdq":
        return _qdq(ctx, session)
    if variant in ("decode-plugin", "decode-plugin-fp32"):
        from matrix.suite.checks import int8_plugin

        return int8_plugin.run(ctx, session, pin_fp32=variant == "decode-plugin-fp32")
    raise Skip(f"unknown int8 variant {variant!r}")
