"""The plan-header facts a result record keeps, read without TensorRT (via matrix.suite.planfile).

Contract: `header_summary(data)` returns magic, builder version, serialization tag and kind as plain
data, or {"error": ...} when the bytes are not a readable plan; it never raises.
"""

from __future__ import annotations

from typing import Any


def header_summary(data: bytes) -> dict[str, Any]:
    try:
        from matrix.suite import planfile
    except ImportError:  # the inspector lands separately; absent means not read, never guessed
        return {"error": "plan-header reader not available"}
    try:
        info = planfile.parse(data)
    except Exception as exc:  # the reader's own error type; anything else is reported, not raised
        return {"error": str(exc)[:200]}
    return {k: v for k, v in info.to_json().items() if k in ("kind", "magic", "builder_version", "serialization_tag")}
