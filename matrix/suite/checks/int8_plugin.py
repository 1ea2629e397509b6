"""int8, RetinaFace with its decode plugin inside the network, calibrated (tensorrtx's retina_mnet INT8 path).

`decode-plugin`: the network-definition RetinaFace from weights.wts, ending in the
RetinaFaceDecode_TRTM plugin (IPluginV2IOExt, compiled here with nvcc), built with the INT8 flag and
an IInt8EntropyCalibrator2: on 8.6.1 this is where TensorRT asserts `scales.size() == 1`
(pluginV2Runner.cpp::getInputHostScale, https://github.com/wang-xinyu/tensorrtx/issues/1456); the
build's own log line is kept and named. `decode-plugin-fp32`: the same with the plugin layer pinned to
FP32 (layer precision and output types) and OBEY_PRECISION_CONSTRAINTS, the remedy NVIDIA suggested
(https://github.com/NVIDIA/TensorRT/issues/2621), to show whether that avoids it. A built engine's
detections on the evaluation photos are compared with the FP32 ONNX model's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from matrix.models import accuracy
from matrix.suite import classify, trace, trtlog
from matrix.suite.checks import int8_build as ib
from matrix.suite.checks.common import Session, save_plan, weights_label
from matrix.suite.outcome import CheckContext, Fail, Outcome, Skip

PLUGIN_LAYER = "decode_plugin"  # netdef names the plugin layer so


def _plugin_library(ctx: CheckContext) -> Path:
    """Compile the plugin once per release (kept in the release's artifacts folder for its other cells)."""
    from matrix.errors import UserError
    from matrix.models import plugin

    out = ctx.own_dir / "plugins" / "retinaface_decode"
    lib = out / plugin.LIBRARY
    if lib.is_file():
        return lib
    try:
        result = plugin.build(out)
    except UserError as exc:
        raise Skip(f"the decode plugin could not be compiled here: {str(exc).splitlines()[0]}") from None
    trace.take(f"nvcc: {plugin.LIBRARY}")
    return result.path


def _pin_fp32(session: Session, network: Any) -> list[str]:
    trt = session.trt
    pinned = []
    for i in range(network.num_layers):
        layer = network.get_layer(i)
        if layer.name != PLUGIN_LAYER:
            continue
        layer.precision = trt.float32
        for k in range(layer.num_outputs):
            layer.set_output_type(k, trt.float32)
        pinned.append(layer.name)
    if not pinned:
        raise Fail(f"no layer named {PLUGIN_LAYER!r} in the network to pin to FP32")
    trace.take("plugin layer precision=float32, output types float32")
    return pinned


def run(ctx: CheckContext, session: Session, pin_fp32: bool) -> Outcome:
    from matrix.models import netdef, plugin, postprocess, registry
    from matrix.models import weights as wmod

    cell = ctx.cell
    ib.require_implicit(session.api)
    spec = registry.get(cell.model)
    loaded = wmod.load(spec, ctx.model_file(cell.model, "weights.wts"))
    lib = _plugin_library(ctx)
    api = session.api
    creator = api.call("plugin.load", plugin.load, session.trt, lib)
    decode = api.call("plugin.create", plugin.create, session.trt, creator)
    builder = api.call("Builder", session.trt.Builder, session.logger)
    network = api.call("netdef.create_network", netdef.create_network, session.trt, builder)
    trace.take(f"network-definition API from weights.wts ({cell.model}) + decode plugin")
    built = api.call(
        "netdef.build_network",
        netdef.build_network,
        session.trt,
        network,
        cell.model,
        loaded.tensors,
        decode_plugin=decode,
    )
    pinned = _pin_fp32(session, network) if pin_fp32 else []
    cal = ib.new_calibrator(ctx, session, "entropy2", ctx.scratch / "decode-plugin.calib", read_cache=False)
    try:
        plan, build_s, detailed = ib.build(session, builder, network, calibrator=cal, obey_constraints=pin_fp32)
    finally:
        cal.close()
    del built, network, builder
    measurements: dict[str, Any] = {
        "weights": weights_label(ctx, cell.model),
        "gpu": session.gpu(),
        "calibration": ib.calibration_stats(cal),
        "pinned_fp32": pinned,
    }
    if plan is None:
        known = classify.classify([x.text for x in session.log_lines()], only=("int8-plugin-scales",))
        why = f": {known.describe()}" if known else ""
        raise session.fail(
            f"build_serialized_network returned None for the calibrated plugin network{why}", **measurements
        )
    measurements["build_s"] = round(build_s, 3)
    threshold = spec.score_threshold

    def rows(outs: dict[str, Any], box: Any) -> Any:
        return postprocess.decode_plugin_output(outs[netdef.PLUGIN_OUTPUT][0], box, threshold)

    problems, judged = ib.judge(ctx, session, plan, detailed, {PLUGIN_LAYER: "fp32"} if pin_fp32 else None, rows)
    measurements.update(judged)
    path, _ = save_plan(
        ctx,
        session,
        plan,
        cell.model,
        "int8",
        cell.variant,
        ["INT8", "calibrator=entropy2", "decode plugin"] + (["plugin FP32", "OBEY"] if pin_fp32 else []),
        measurements["weights"],
    )
    if problems:
        raise Fail("; ".join(problems[:4]), trtlog.relevant(session.log_lines()), measurements)
    return Outcome(
        "pass",
        "calibrated with the decode plugin inside{}: {}".format(
            " (plugin pinned to FP32)" if pin_fp32 else "",
            accuracy.summary({}, measurements["detection"], measurements["limits"]),
        ),
        measurements=measurements,
        artifacts=[f"{ctx.release}/{path.name}", f"{ctx.release}/{path.stem}.json"],
    )
