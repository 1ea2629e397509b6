"""int8-cache (phase 2): a calibration cache made by one release, offered to another release's calibrator.

The producer's artifacts/<producer>/<model>-int8-entropy2.calib (from its `int8 ... entropy2` cell) is
copied to scratch and offered by this release's IInt8EntropyCalibrator2 while it builds the same ONNX
model. What happened is recorded, never guessed: `accepted` (the cache was read and no batch was asked
for), `recalibrated` (TensorRT asked for batches although a cache was offered: it rejected it), or the
build failing; with the "Missing scale and zero-point" warnings (tensors the cache does not cover) and
the header of each cache. Passes only when the cache was used as offered, with no missing scales, and
the engine is accurate (thresholds.toml [int8.<model>]); the log lines are kept either way.
"""

from __future__ import annotations

import shutil
from typing import Any

from matrix.models import accuracy
from matrix.suite import calibcache, classify, trace, trtlog
from matrix.suite.adapter import load_tensorrt
from matrix.suite.checks import int8_build as ib
from matrix.suite.checks.common import Session, read_model, weights_label
from matrix.suite.outcome import CheckContext, Fail, Outcome, Skip

PRODUCER_VARIANT = "entropy2"


def run(ctx: CheckContext) -> Outcome:
    cell = ctx.cell
    _, api = load_tensorrt()
    ib.require_implicit(api)  # `na` on 11.x whatever the machine
    session = Session.open(ctx)
    offered = ib.cache_path(ctx, cell.producer, cell.model, PRODUCER_VARIANT)
    if not offered.is_file():
        raise Skip(
            f"{cell.producer} left no calibration cache {offered.name} (see its cell "
            f"int8:{cell.producer}>{cell.producer}:{cell.model}:int8:{PRODUCER_VARIANT})"
        )
    measurements: dict[str, Any] = {"weights": weights_label(ctx, cell.model), "gpu": session.gpu()}
    try:
        measurements["offered"] = calibcache.read(offered).summary()
    except calibcache.CacheFormatError as exc:
        measurements["offered"] = {"error": str(exc)}
    measurements["consumer_header"] = calibcache.header_for(session.api.version, PRODUCER_VARIANT)
    local = ctx.scratch / offered.name
    shutil.copyfile(str(offered), str(local))
    onnx_bytes, _ = read_model(ctx, cell.model)
    trace.take(f"the cache of {cell.producer} offered to {PRODUCER_VARIANT}")
    cal = ib.new_calibrator(ctx, session, PRODUCER_VARIANT, local, read_cache=True)
    try:
        plan, build_s, detailed = ib.build_onnx(session, onnx_bytes, calibrator=cal)
    finally:
        cal.close()
    stats = ib.calibration_stats(cal)
    texts = [x.text for x in session.log_lines()]
    missing = classify.matching(texts, "int8-missing-scale")
    verdict = (
        "accepted"
        if stats["cache_hits"] and stats["get_batch_calls"] == 0
        else ("recalibrated" if stats["get_batch_calls"] else "not read")
    )
    measurements.update(
        calibration=stats, cache_use=verdict, missing_scale_warnings=len(missing), missing_scale_examples=missing[:3]
    )
    if plan is None:
        raise session.fail(f"the build offered {cell.producer}'s cache returned None ({verdict})", **measurements)
    measurements["build_s"] = round(build_s, 3)
    problems: list[str] = []
    if verdict == "recalibrated":
        problems.append(
            f"{cell.producer}'s cache was rejected: TensorRT recalibrated ({stats['get_batch_calls']} get_batch calls)"
        )
    elif verdict == "not read":
        problems.append("read_calibration_cache was never called")
    if missing:
        problems.append(
            f"{len(missing)} 'Missing scale and zero-point' warning(s): the cache does not cover this network's tensors"
        )
    more, judged = ib.judge(ctx, session, plan, detailed)
    measurements.update(judged)
    problems += more
    if problems:
        raise Fail("; ".join(problems[:4]), trtlog.relevant(session.log_lines()), measurements)
    return Outcome(
        "pass",
        "{}'s cache ({}) accepted: no batch asked for, no missing scale; {}".format(
            cell.producer,
            measurements["offered"].get("header"),
            accuracy.summary(measurements["outputs"], measurements["detection"], measurements["limits"]),
        ),
        measurements=measurements,
    )
