"""Compare outputs with a reference: cosine, max abs difference, zero and NaN flags, thresholds.

Contract: `compare(outputs, reference)` returns per-output metrics as plain data;
`verdict(metrics, precision)` returns the problems against `thresholds.toml` (empty list: pass).
`load_thresholds(path)` reads a thresholds file and checks it (the tables fp32, fp16, int8 and
agreement, each a table of known limits, finite numbers, with at most one level of per-model tables);
anything else is a `ValueError` naming the file and the entry.
All-zero and non-finite outputs are always problems, whatever the thresholds. Runs on 3.8, numpy only.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from matrix.models import tomlload

THRESHOLDS_FILE = Path(__file__).with_name("thresholds.toml")
_THRESHOLDS: dict[str, Any] = {}
REQUIRED_TABLES = ("fp32", "fp16", "int8", "agreement")
LIMITS = (
    "cosine_min",
    "object_cosine_min",
    "max_abs_max",
    "object_max_abs_max",
    "object_score",
    "recall_min",
    "precision_min",
)


def thresholds() -> dict[str, Any]:
    if not _THRESHOLDS:
        _THRESHOLDS.update(load_thresholds(THRESHOLDS_FILE))
    return _THRESHOLDS


def load_thresholds(path: Path) -> dict[str, Any]:
    """A thresholds file, checked (see the contract); ValueError naming the file and the entry."""
    data = tomlload.load(path)
    for name in REQUIRED_TABLES:
        if not isinstance(data.get(name), dict):
            raise ValueError(f"{path}: no [{name}] table of limits")
    for name, table in data.items():
        if not isinstance(table, dict):
            raise ValueError(f"{path}: {name!r} must be a table of limits, not {type(table).__name__}")
        _check_limits(path, name, table, nested=True)
    if "object_score" not in data["int8"]:
        raise ValueError(f"{path}: table 'int8' needs object_score (the FP32 score an anchor counts as an object at)")
    return data


def _check_limits(path: Path, where: str, table: Mapping[str, Any], nested: bool) -> None:
    for key, value in table.items():
        if isinstance(value, dict) and nested:  # [int8.retinaface-mnet]: one model's limits over its precision's
            _check_limits(path, f"{where}.{key}", value, nested=False)
        elif key == "judge_accuracy":
            if not isinstance(value, bool):
                raise ValueError(f"{path}: table {where!r:.60} judge_accuracy must be true or false, not {value!r:.40}")
        elif key not in LIMITS:
            known = ", ".join(LIMITS)
            raise ValueError(f"{path}: table {where!r:.60} {key!r:.40} is not a limit; the limits are {known}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{path}: table {where!r:.60} {key} must be a number, not {value!r:.40}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{path}: table {where!r:.60} {key} must be finite, not {value!r}")


def for_precision(precision: str, model: str | None = None) -> dict[str, Any]:
    table = dict(thresholds()[precision])
    if model and isinstance(table.get(model), dict):
        table.update(table.pop(model))
    return {k: v for k, v in table.items() if not isinstance(v, dict)}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    x = a.astype(np.float64).ravel()
    y = b.astype(np.float64).ravel()
    nx, ny = float(np.linalg.norm(x)), float(np.linalg.norm(y))
    if nx == 0.0 and ny == 0.0:
        return 1.0
    if nx == 0.0 or ny == 0.0:
        return 0.0
    return float(np.dot(x, y) / (nx * ny))


def output_metrics(actual: np.ndarray, reference: np.ndarray) -> dict[str, Any]:
    actual = np.asarray(actual)
    reference = np.asarray(reference)
    finite = bool(np.all(np.isfinite(actual)))
    metrics: dict[str, Any] = {
        "shape": list(actual.shape),
        "finite": finite,
        "all_zero": bool(actual.size > 0 and not np.any(actual)),
        "nan_count": int(np.count_nonzero(np.isnan(actual))) if actual.dtype.kind == "f" else 0,
    }
    if actual.shape != reference.shape:
        metrics["shape_mismatch"] = [list(actual.shape), list(reference.shape)]
        return metrics
    if finite:
        diff = np.abs(actual.astype(np.float64) - reference.astype(np.float64))
        metrics["max_abs"] = float(diff.max()) if diff.size else 0.0
        metrics["mean_abs"] = float(diff.mean()) if diff.size else 0.0
        metrics["cosine"] = cosine(actual, reference)
    return metrics


def compare(outputs: Mapping[str, np.ndarray], reference: Mapping[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Metrics per output name present in both; outputs missing from either side are reported."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(outputs) | set(reference)):
        if name not in outputs:
            out[name] = {"missing": "not produced"}
        elif name not in reference:
            out[name] = {"missing": "not in the reference"}
        else:
            out[name] = output_metrics(outputs[name], reference[name])
    return out


def verdict(metrics: Mapping[str, Mapping[str, Any]], limits: Mapping[str, Any]) -> list[str]:
    """Problems, one string each; an empty list means every output is within the limits."""
    problems: list[str] = []
    for name, m in metrics.items():
        if "missing" in m:
            problems.append("{}: {}".format(name, m["missing"]))
            continue
        if "shape_mismatch" in m:
            problems.append("{}: shape {} vs reference {}".format(name, *m["shape_mismatch"]))
            continue
        if not m["finite"]:
            problems.append("{}: {} NaN/Inf values".format(name, m.get("nan_count", "some")))
            continue
        if m["all_zero"]:
            problems.append(f"{name}: all zeros")
            continue
        if "cosine_min" in limits and m["cosine"] < float(limits["cosine_min"]):
            problems.append("{}: cosine {:.6f} < {}".format(name, m["cosine"], limits["cosine_min"]))
        if "max_abs_max" in limits and m["max_abs"] > float(limits["max_abs_max"]):
            problems.append("{}: max |diff| {:.4g} > {}".format(name, m["max_abs"], limits["max_abs_max"]))
    return problems
