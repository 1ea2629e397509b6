"""Output comparison: zeros and NaN always fail, thresholds come from the data file."""

from __future__ import annotations

import numpy as np
import pytest

from matrix.models import compare


def test_identical_outputs_pass_every_precision() -> None:
    ref = {"scores": np.linspace(-3, 3, 100, dtype=np.float32).reshape(1, 100)}
    metrics = compare.compare({"scores": ref["scores"].copy()}, ref)
    # numpy versions round the dot product differently: 1.23 gives 0.9999999999999998 here
    assert metrics["scores"]["cosine"] == pytest.approx(1.0, abs=1e-12)
    assert metrics["scores"]["max_abs"] == 0.0
    for precision in ("fp32", "fp16", "int8"):
        assert compare.verdict(metrics, compare.for_precision(precision)) == []


def test_all_zero_output_fails_even_with_no_thresholds() -> None:
    ref = {"boxes": np.ones((1, 10, 4), np.float32)}
    metrics = compare.compare({"boxes": np.zeros((1, 10, 4), np.float32)}, ref)
    assert compare.verdict(metrics, {}) == ["boxes: all zeros"]


def test_nan_output_fails() -> None:
    out = np.ones((5,), np.float32)
    out[2] = np.nan
    metrics = compare.compare({"x": out}, {"x": np.ones((5,), np.float32)})
    assert compare.verdict(metrics, {}) == ["x: 1 NaN/Inf values"]


def test_shape_and_missing_outputs_are_named() -> None:
    metrics = compare.compare({"a": np.ones((2, 2)), "c": np.ones(1)}, {"a": np.ones((4,)), "b": np.ones(1)})
    problems = compare.verdict(metrics, {})
    assert "a: shape [2, 2] vs reference [4]" in problems
    assert "b: not produced" in problems and "c: not in the reference" in problems


def test_drift_beyond_the_fp32_threshold_fails_but_passes_int8() -> None:
    rng = np.random.default_rng(0)
    ref = rng.standard_normal((1, 1000)).astype(np.float32)
    noisy = ref + 0.05 * rng.standard_normal(ref.shape).astype(np.float32)
    metrics = compare.compare({"o": noisy}, {"o": ref})
    assert compare.verdict(metrics, compare.for_precision("fp32"))
    assert compare.verdict(metrics, compare.for_precision("int8")) == []


def test_thresholds_file_has_a_reason_beside_each_precision() -> None:
    text = compare.THRESHOLDS_FILE.read_text(encoding="utf-8")
    for section in ("[fp32]", "[fp16]", "[int8]", "[agreement]"):
        block = text.split(section, 1)[1].split("\n[", 1)[0]
        assert "#" in block, f"{section} has no reasoning written beside it"
