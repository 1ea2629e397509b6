"""Latency measurement: warm-up, repeats, CUDA events, and robust statistics.

Contract: `measure_events(cuda, stream, enqueue, warmup, repeats)` times each repeat between two CUDA
events recorded on `stream` around `enqueue(stream)` and returns `summarize()` of the samples in ms;
`measure_host(fn, ...)` does the same with the host clock for synchronous calls (execute_v2).
`summarize` gives n, median, p90, mean, min, max, stdev and the spread (p90/median). Runs on 3.8.
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

WARMUP = 10
REPEATS = 50


def percentile(samples: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), the same definition as numpy's default."""
    ordered = sorted(samples)
    if not ordered:
        raise ValueError("no samples")
    pos = (len(ordered) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarize(samples: list[float], method: str) -> dict[str, Any]:
    median = statistics.median(samples)
    p90 = percentile(samples, 90)
    return {
        "method": method,
        "n": len(samples),
        "median_ms": round(median, 6),
        "p90_ms": round(p90, 6),
        "mean_ms": round(statistics.fmean(samples) if hasattr(statistics, "fmean") else statistics.mean(samples), 6),
        "min_ms": round(min(samples), 6),
        "max_ms": round(max(samples), 6),
        "stdev_ms": round(statistics.stdev(samples), 6) if len(samples) > 1 else 0.0,
        "p90_over_median": round(p90 / median, 4) if median > 0 else None,
    }


def measure_events(
    cuda: Any, stream: int, enqueue: Callable[[int], Any], warmup: int = WARMUP, repeats: int = REPEATS
) -> dict[str, Any]:
    for _ in range(warmup):
        enqueue(stream)
    cuda.stream_synchronize(stream)
    start, end = cuda.event_create(), cuda.event_create()
    samples: list[float] = []
    try:
        for _ in range(repeats):
            cuda.event_record(start, stream)
            enqueue(stream)
            cuda.event_record(end, stream)
            cuda.event_synchronize(end)
            samples.append(cuda.event_elapsed_ms(start, end))
    finally:
        cuda.event_destroy(start)
        cuda.event_destroy(end)
    return summarize(samples, "cuda-events")


def measure_host(fn: Callable[[], Any], warmup: int = WARMUP, repeats: int = REPEATS) -> dict[str, Any]:
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0)
    return summarize(samples, "host-clock")
