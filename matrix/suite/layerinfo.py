"""What precision each layer of a built engine runs in, from TensorRT's engine inspector, and whether that is
what was asked.

Contract: `request_detail(api, config)` sets DETAILED profiling verbosity where the release has it
(the inspector then describes every layer's input and output formats; without it, only names).
`read(api, engine)` returns the inspector's JSON layers, or None (with the reason in `why`) where the
release has no inspector. `precision(fmt)` maps a "Format/Datatype" text ("Channel major INT8 format
where channel % 16 == 0", "Row major linear FP32") to int8/fp16/fp32/...; `summarize(layers)` counts
layers per precision; `problems(summary, asked, pinned)` flags an INT8 build with no INT8 layer and
pinned layers (by exact layer name, Reformat layers left out) that do not run in their pinned precision.
Python 3.8.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

# Words in the inspector's format texts, most specific first (BFloat16 before Float, UInt8 before Int8).
_WORDS: tuple[tuple[str, str], ...] = (
    ("bfloat16", "bf16"),
    ("fp8", "fp8"),
    ("fp16", "fp16"),
    ("half", "fp16"),
    ("fp32", "fp32"),
    ("float", "fp32"),
    ("uint8", "uint8"),
    ("int8", "int8"),
    ("int32", "int32"),
    ("int64", "int64"),
    ("bool", "bool"),
)


def request_detail(api: Any, config: Any) -> bool:
    """DETAILED profiling verbosity on the builder config, where the release has it."""
    if not (api.has("ProfilingVerbosity.DETAILED") and hasattr(config, "profiling_verbosity")):
        return False
    api.call(
        "profiling_verbosity=DETAILED", setattr, config, "profiling_verbosity", api.trt.ProfilingVerbosity.DETAILED
    )
    return True


def read(api: Any, engine: Any) -> tuple[list[Any] | None, str]:
    """(layers from the engine inspector's JSON, '') or (None, why not)."""
    if not api.has("ICudaEngine.create_engine_inspector") or not api.has("LayerInformationFormat.JSON"):
        return None, "this release has no engine inspector"
    inspector = api.call("ICudaEngine.create_engine_inspector", engine.create_engine_inspector)
    if inspector is None:
        return None, "create_engine_inspector returned None"
    text = api.call(
        "IEngineInspector.get_engine_information",
        inspector.get_engine_information,
        api.trt.LayerInformationFormat.JSON,
    )
    del inspector
    try:
        data = json.loads(text)
    except ValueError as exc:
        return None, f"the inspector's JSON does not parse: {exc}"
    layers = data.get("Layers") if isinstance(data, dict) else None
    if not isinstance(layers, list):
        return None, "the inspector's JSON has no Layers list"
    return layers, ""


def precision(fmt: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", str(fmt).lower())
    for needle, name in _WORDS:
        if needle in words:
            return name
    return "other"


def describe(layer: Any) -> dict[str, Any] | None:
    """One detailed layer: name, type, and the precisions of its inputs and outputs."""
    if not isinstance(layer, dict):
        return None
    return {
        "name": str(layer.get("Name", "")),
        "type": str(layer.get("LayerType", "")),
        "inputs": [precision(t.get("Format/Datatype", "")) for t in layer.get("Inputs", []) if isinstance(t, dict)],
        "outputs": [precision(t.get("Format/Datatype", "")) for t in layer.get("Outputs", []) if isinstance(t, dict)],
    }


def summarize(layers: list[Any] | None, why: str = "") -> dict[str, Any]:
    if layers is None:
        return {"detailed": False, "why": why}
    described = [d for d in (describe(x) for x in layers) if d is not None]
    if not described:
        return {
            "detailed": False,
            "why": "the inspector named the layers only (no DETAILED verbosity)",
            "layers": len(layers),
        }
    counts: dict[str, int] = {}
    for d in described:
        key = "int8" if "int8" in d["inputs"] + d["outputs"] else (d["outputs"] or ["none"])[0]
        counts[key] = counts.get(key, 0) + 1
    return {"detailed": True, "layers": len(described), "by_precision": counts, "layer_list": described}


def reformat(layer: Mapping[str, Any]) -> bool:
    """A layer TensorRT inserted to convert formats ("Reformatting CopyNode for Input Tensor 0 to X"):
    INT8 in and FP32 out by design, so it is never the layer a precision was pinned on."""
    return str(layer.get("type", "")).lower() == "reformat" or str(layer.get("name", "")).startswith("Reformatting ")


def pinned_layer(layer: Mapping[str, Any], name: str) -> bool:
    """The layer the network named `name`: that exact name, or a fusion whose name lists it as a
    part ("conv1 + decode_plugin"); never a Reformat layer inserted before or after it."""
    if reformat(layer):
        return False
    full = str(layer.get("name", ""))
    return full == name or name in (part.strip() for part in re.split(r"\s\+\s|,", full))


def problems(summary: Mapping[str, Any], asked: str, pinned: Mapping[str, str] | None = None) -> list[str]:
    """What the engine does not do as asked (empty when the inspector cannot tell: see summary['why'])."""
    if not summary.get("detailed"):
        return []
    out: list[str] = []
    counts = summary.get("by_precision", {})
    if asked == "int8" and not counts.get("int8"):
        out.append(
            "INT8 was asked but no layer runs in INT8 ({}): the engine is quietly {}".format(
                ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), "/".join(sorted(counts)) or "empty"
            )
        )
    for needle, want in (pinned or {}).items():
        hits = [d for d in summary.get("layer_list", []) if pinned_layer(d, needle)]
        if not hits:
            out.append(f"no layer named {needle!r} in the engine (pinned to {want})")
        for d in hits:
            got = set(d["inputs"] + d["outputs"]) - {"int32", "int64", "bool", "other"}
            if got and got != {want}:
                out.append("{} ({}) runs in {}, pinned to {}".format(d["name"], d["type"], "/".join(sorted(got)), want))
    return out
