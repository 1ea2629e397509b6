"""Cold and warm time of `trt-matrix api` over every release with wheels, and where the cold time goes.

Run from the repository root: `python3 benchmarks/bench_api_surface.py [--jobs N] [--pip-cache]`.
Cold = an empty TRT_MATRIX_CACHE (and pip's own HTTP cache off, unless --pip-cache); warm = the same
command again. A third, instrumented cold run in-process sums the time spent in each phase (phases
overlap across the --jobs worker threads, so the sums exceed the wall time). Needs the package index.
The last line is the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import emit
from matrix.offline import api_surface, standin, wheels

TOTALS: dict[str, float] = collections.defaultdict(float)
COUNTS: dict[str, int] = collections.defaultdict(int)
LOCK = threading.Lock()


def _timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        try:
            return func(*args, **kwargs)
        finally:
            with LOCK:
                TOTALS[name] += time.monotonic() - started
                COUNTS[name] += 1

    return wrapper


def _cli(cache: str, jobs: int, env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "matrix", "api", "--json", "--jobs", str(jobs)],
        env={**env, "TRT_MATRIX_CACHE": cache},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pip-cache", action="store_true", help="leave pip's HTTP cache on")
    args = parser.parse_args()
    env = dict(os.environ)
    if not args.pip_cache:
        env["PIP_NO_CACHE_DIR"] = "1"
        os.environ["PIP_NO_CACHE_DIR"] = "1"
    with tempfile.TemporaryDirectory() as cold_cache:
        cold = _cli(cold_cache, args.jobs, env)
        warm = _cli(cold_cache, args.jobs, env)
        size = sum(p.stat().st_size for p in Path(cold_cache).rglob("*") if p.is_file())
    print(f"cold {cold:.1f} s, warm {warm:.2f} s (jobs={args.jobs}, cache {size / 1e6:.0f} MB)")
    for module, name, label in (
        (wheels, "_list_versions", "pip index versions"),
        (wheels, "download", "pip download"),
        (wheels, "_unpack", "unpack + sha256"),
        (standin, "required_symbols", "nm/readelf/ldconfig"),
        (standin, "_compile", "cc"),
        (api_surface, "_run_introspection", "import in a subprocess"),
    ):
        setattr(module, name, _timed(label, getattr(module, name)))
    with tempfile.TemporaryDirectory() as cache:
        os.environ["TRT_MATRIX_CACHE"] = cache
        started = time.monotonic()
        table = api_surface.surface_table(jobs=args.jobs)
        wall = time.monotonic() - started
    done = sum(1 for s in table.releases if s.introspected)
    print(f"instrumented cold run: {wall:.1f} s wall, {done} releases introspected; time per phase:")
    for label, total in sorted(TOTALS.items(), key=lambda item: -item[1]):
        print(f"  {label:<24}{total:7.1f} s over {COUNTS[label]} calls")
    figures = {
        "jobs": args.jobs,
        "releases": done,
        "cold_s": round(cold, 2),
        "warm_s": round(warm, 3),
        "instrumented_cold_s": round(wall, 2),
        "phase_s": {label: round(total, 2) for label, total in TOTALS.items()},
    }
    emit(
        "api_surface",
        figures,
        "warm run over every release with wheels <= 30 s",
        warm <= 30.0 and done > 0,
        "cold time is dominated by pip (download, then its own start-up per call): see phase_s",
    )


if __name__ == "__main__":
    main()
