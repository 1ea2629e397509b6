"""Latency statistics: the percentile matches numpy's definition; summaries are complete."""

from __future__ import annotations

import numpy as np
import pytest

from matrix.suite import timing


@pytest.mark.parametrize("q", [0, 10, 50, 90, 99, 100])
def test_percentile_matches_numpy(q: float) -> None:
    samples = list(np.random.default_rng(1).gamma(2.0, 1.5, size=37))
    assert timing.percentile(samples, q) == pytest.approx(float(np.percentile(samples, q)))


def test_summary_fields() -> None:
    summary = timing.summarize([1.0, 2.0, 3.0, 4.0, 10.0], "cuda-events")
    assert summary["n"] == 5 and summary["median_ms"] == 3.0 and summary["max_ms"] == 10.0
    assert summary["p90_ms"] == pytest.approx(float(np.percentile([1, 2, 3, 4, 10], 90)))
    assert summary["p90_over_median"] == pytest.approx(summary["p90_ms"] / 3.0, rel=1e-3)


def test_host_measurement_counts_repeats_not_warmup() -> None:
    calls = []
    summary = timing.measure_host(lambda: calls.append(1), warmup=3, repeats=7)
    assert len(calls) == 10 and summary["n"] == 7 and summary["method"] == "host-clock"
