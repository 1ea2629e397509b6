"""What the INT8 checks share: calibrators over the exported batches, an INT8 build, and judging an engine.

Contract: `require_implicit(api)` raises NotApplicable on releases without implicit INT8 (11.x:
"implicit INT8 removed in 11.0"), before any CUDA is needed: it is a fact of the release.
`new_calibrator(ctx, session, algorithm, cache, read_cache)` makes a calibrator (calibrator.py) over
artifacts/models/<model>/calib. `build(...)` / `build_onnx(...)` configure INT8 (flag, calibrator,
DETAILED profiling, optional precision constraints) and return (plan or None, seconds, detailed).
`judge(ctx, session, plan, ...)` loads the plan, reads its layer precisions, runs every evaluation
photo and returns (problems, measurements) against thresholds.toml [int8.<model>]. Python 3.8.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from matrix.models import accuracy
from matrix.suite import calibcache, layerinfo, trace
from matrix.suite import calibrator as calmod
from matrix.suite.adapter import Api
from matrix.suite.checks.common import Inference, Session, parsed_network, read_model
from matrix.suite.outcome import CheckContext, Fail, Skip

IMPLICIT_NOTE = "implicit INT8 removed in 11.0: only explicit Q/DQ remains"


def require_implicit(api: Api) -> None:
    api.require("BuilderFlag.INT8", IMPLICIT_NOTE)
    api.require("IBuilderConfig.int8_calibrator", IMPLICIT_NOTE)
    api.require("IInt8EntropyCalibrator2", IMPLICIT_NOTE)


def cache_path(ctx: CheckContext, producer: str, model: str, variant: str) -> Path:
    """artifacts/<release>/<model>-int8-<variant>.calib: what phase 2 offers to the other releases."""
    return ctx.producer_dir(producer) / f"{model}-int8-{variant}.calib"


def new_calibrator(ctx: CheckContext, session: Session, algorithm: str, cache: Path | None, read_cache: bool) -> Any:
    model = ctx.cell.model
    _, meta = read_model(ctx, model)
    folder = ctx.model_dir(model) / "calib"
    try:
        samples = calmod.load_samples(folder, meta["input"]["shape"])
    except calmod.CalibrationDataError as exc:
        raise Skip(f"calibration data: {exc}") from None
    trace.take(f"{calmod.BASES[algorithm]} subclass ({len(samples)} batches)")
    return calmod.make_calibrator(
        session.trt, algorithm, samples, meta["input"]["name"], session.cuda, cache, read_cache
    )


def build(
    session: Session,
    builder: Any,
    network: Any,
    *,
    int8_flag: bool = True,
    calibrator: Any = None,
    obey_constraints: bool = False,
) -> tuple[bytes | None, float, bool]:
    """(plan or None, build seconds, DETAILED verbosity set) for a populated network."""
    api = session.api
    config = api.create_config(builder)
    if int8_flag:
        api.set_precision(config, "int8")
    if calibrator is not None:
        api.require("IBuilderConfig.int8_calibrator", IMPLICIT_NOTE)
        api.set_calibrator(config, calibrator)
    if obey_constraints:
        api.set_flag(config, "OBEY_PRECISION_CONSTRAINTS", "weak typing removed in 11.0")
    detailed = layerinfo.request_detail(api, config)
    started = time.monotonic()
    plan = api.build_serialized(builder, network, config)
    seconds = time.monotonic() - started
    del config
    return plan, seconds, detailed


def build_onnx(
    session: Session, onnx_bytes: bytes, *, int8_flag: bool = True, calibrator: Any = None
) -> tuple[bytes | None, float, bool]:
    builder, network, parser = parsed_network(session, onnx_bytes)
    result = build(session, builder, network, int8_flag=int8_flag, calibrator=calibrator)
    del parser, network, builder  # children first
    return result


def calibration_stats(cal: Any) -> dict[str, Any]:
    stats: dict[str, Any] = cal.stats.to_json()
    stats["samples"] = len(cal.samples)
    return stats


def check_written_cache(cal: Any, release_version: str, algorithm: str) -> dict[str, Any]:
    """The cache TensorRT wrote, read back with calibcache.py; Fail when it is not TensorRT's format."""
    path = cal.cache_path
    info: dict[str, Any] = {"path": None if path is None else path.name, "written": bool(cal.stats.cache_writes)}
    if path is None or not path.is_file():
        return info
    try:
        parsed = calibcache.read(path)
    except calibcache.CacheFormatError as exc:
        raise Fail(f"TensorRT wrote a calibration cache that calibcache.py cannot read: {exc}") from None
    expected = calibcache.header_for(release_version, algorithm)
    info.update(parsed.summary())
    info["expected_header"] = expected
    info["header_as_expected"] = parsed.header == expected
    info["round_trips"] = calibcache.dumps(parsed) == path.read_bytes()
    return info


def _outputs_for(run: Inference, path: str, x: np.ndarray, input_name: str, stream: int) -> dict[str, np.ndarray]:
    ok, outs = run.run(path, {input_name: x}, stream)
    if not ok:
        raise Fail(f"{path} returned False")
    return outs


def judge(
    ctx: CheckContext,
    session: Session,
    plan: bytes,
    detailed: bool,
    pinned: Mapping[str, str] | None = None,
    decode_rows: Any = None,
) -> tuple[list[str], dict[str, Any]]:
    """Load the plan, read its layer precisions, run the evaluation photos, compare with FP32.

    decode_rows: for the decode-plugin network, a function (outputs, letterbox) -> detections (its only
    output is the plugin's records, so only detections are compared)."""
    from matrix.models import evalset, registry

    model = ctx.cell.model
    spec = registry.get(model)
    _, meta = read_model(ctx, model)
    limits = accuracy.limits("int8", model, bool(meta.get("weights", {}).get("synthetic", False)))
    runtime = session.api.runtime(session.logger)
    engine = session.api.deserialize(runtime, plan)
    if engine is None:
        raise session.fail("the INT8 plan it just built does not load in the same release")
    layers, why = layerinfo.read(session.api, engine)
    summary = layerinfo.summarize(layers, why if detailed else why or "DETAILED profiling verbosity is absent")
    problems = layerinfo.problems(summary, "int8", pinned)
    try:
        photos = evalset.load(ctx.model_dir(model))
    except evalset.EvalSetMissing as exc:
        raise Skip(str(exc)) from None
    path = "execute_async_v3" if "execute_async_v3" in session.api.execute_paths() else "execute_v2"
    stream = session.cuda.stream_create()
    run = Inference(session, engine)
    pairs, det_pairs = [], []
    try:
        for photo in photos:
            outs = _outputs_for(run, path, photo.input, spec.input_name, stream)
            fp32 = photo.fp32_detections(spec)
            if decode_rows is not None:
                det_pairs.append((photo.name, fp32, decode_rows(outs, photo.letterbox)))
                continue
            pairs.append((outs, photo.outputs))
            det_pairs.append((photo.name, fp32, registry.decode(spec, outs, photo.letterbox)))
    finally:
        run.close()
        session.cuda.stream_destroy(stream)
    del engine, runtime
    outputs = accuracy.outputs_over(spec, pairs, float(limits["object_score"])) if pairs else {}
    detection = accuracy.detections(det_pairs)
    problems += accuracy.verdict(outputs, detection, limits)
    if not problems:
        summary.pop("layer_list", None)  # every layer's formats are kept only where they explain a failure
    measurements: dict[str, Any] = {
        "execute_path": path,
        "layers": summary,
        "outputs": outputs,
        "detection": detection,
        "limits": limits,
        "eval_images": [p.name for p in photos],
    }
    return problems, measurements
