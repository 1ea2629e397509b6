"""The plan-header facts a result record keeps, read without TensorRT (via matrix.suite.planfile).

Contract: `header_summary(data)` returns kind, magic, builder version and serialization tag as plain
data, or {"error": ...} when the bytes are not a readable plan; it never raises.
"""

from __future__ import annotations

from typing import Any

from matrix.suite import planfile

KEPT = ("kind", "magic", "builder_version", "serialization_tag", "version_compatible")


def header_summary(data: bytes) -> dict[str, Any]:
    try:
        info = planfile.inspect_bytes(data)
    except planfile.PlanFileError as exc:
        return {"error": str(exc)[:200]}
    return {k: v for k, v in info.to_json().items() if k in KEPT}
