"""serialize: build a plan by the cell's path and save it for every other release to load.

Variants: `onnx` (build_serialized_network from the exported ONNX), `legacy` (Builder.build_engine,
8.x only), `vc` (VERSION_COMPATIBLE, 8.6+), `hc` (hardware-compatible AMPERE_PLUS, 8.6+), `netdef`
(tensorrtx-style network definition from .wts weights). Passes when a plan is produced and reloads
in this release; the plan and a .json sidecar go to artifacts/<release>/.
"""

from __future__ import annotations

import time
from typing import Any

from matrix.suite import trace
from matrix.suite.checks.common import Session, build_from_onnx, parsed_network, read_model, save_plan
from matrix.suite.outcome import CheckContext, Fail, Outcome


def _legacy(session: Session, onnx_bytes: bytes, precision: str) -> bytes:
    api = session.api
    api.require("Builder.build_engine", "removed in 10.0; build_serialized_network replaces it")
    builder, network, parser = parsed_network(session, onnx_bytes)
    config = api.create_config(builder)
    api.set_precision(config, precision)
    engine = api.build_engine_legacy(builder, network, config)
    if engine is None:
        raise session.fail("build_engine returned None")
    plan = api.serialize_engine(engine)
    del engine, parser, network, config, builder
    return plan


def _netdef(ctx: CheckContext, session: Session, model: str, precision: str) -> bytes:
    from matrix.models import netdef, registry  # numpy-only at import; builds with the given trt module
    from matrix.models import weights as wmod

    loaded = wmod.load(registry.get(model), ctx.model_file(model, "weights.wts"))
    api = session.api
    builder = api.call("Builder", session.trt.Builder, session.logger)
    network = api.call("netdef.create_network", netdef.create_network, session.trt, builder)
    trace.take(f"network-definition API from weights.wts ({model})")
    built = api.call("netdef.build_network", netdef.build_network, session.trt, network, model, loaded.tensors)
    config = api.create_config(builder)
    api.set_precision(config, precision)
    plan = api.build_serialized(builder, network, config)
    del built, network, config, builder  # the weights stay alive (in `built`) until the plan is built
    if plan is None:
        raise session.fail("build_serialized_network returned None for the network definition")
    return plan


def run(ctx: CheckContext) -> Outcome:
    cell = ctx.cell
    session = Session.open(ctx)
    onnx_bytes, meta = read_model(ctx, cell.model)
    flags: list[str] = [cell.precision.upper()] if cell.precision != "fp32" else []
    flags += {"vc": ["VERSION_COMPATIBLE"], "hc": ["AMPERE_PLUS"]}.get(cell.variant, [])
    started = time.monotonic()
    if cell.variant == "legacy":
        plan = _legacy(session, onnx_bytes, cell.precision)
    elif cell.variant == "netdef":
        plan = _netdef(ctx, session, cell.model, cell.precision)
    else:
        plan = build_from_onnx(session, onnx_bytes, cell.precision, cell.variant)
    build_s = time.monotonic() - started
    weights = str(meta.get("weights", {}).get("label", ""))
    path, digest = save_plan(ctx, session, plan, cell.model, cell.precision, cell.variant, flags, weights)
    # The plan must load where it was built (the diagonal of the cross-load matrix).
    runtime = session.api.runtime(session.logger, host_code_allowed=cell.variant == "vc")
    engine = session.api.deserialize(runtime, plan)
    measurements: dict[str, Any] = {
        "build_s": round(build_s, 3),
        "plan_bytes": len(plan),
        "sha256": digest,
        "gpu": session.gpu(),
        "weights": weights,
    }
    if engine is None:
        raise Fail("the plan it just built does not load in the same release", measurements=measurements)
    del engine, runtime
    rel = f"{ctx.release}/{path.name}"
    return Outcome(
        "pass",
        f"built {path.name} ({len(plan)} bytes) and reloaded it",
        measurements=measurements,
        artifacts=[rel, rel[: -len(".plan")] + ".json"],
    )
