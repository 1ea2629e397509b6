"""How long `import matrix.plans` takes in a fresh interpreter (issue 21: under 100 ms), and what it loads.

Run from the repository root: `python3 benchmarks/bench_plans_import.py [--runs N]`. Each run is a new
interpreter that times the import itself with perf_counter (interpreter start-up is not counted; it is
reported alongside, as the time of an interpreter that imports nothing). The median decides. Also
reports how many modules the import adds and the time of a first identify + will_load of a fixture plan
(the first will_load reads the facts file). The last line is the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, emit

TARGET_MS = 100.0
CHILD = """
import sys, time, json
before = set(sys.modules)
t0 = time.perf_counter()
import matrix.plans as plans
t1 = time.perf_counter()
first = None
if len(sys.argv) > 1:
    info = plans.identify(sys.argv[1])
    plans.will_load(info, "10.8.0.43")
    first = (time.perf_counter() - t1) * 1000
print(json.dumps({"import_ms": (t1 - t0) * 1000, "added": len(set(sys.modules) - before), "first_ms": first}))
"""


def fixture() -> str:
    for base in (ROOT.parent / "shared" / "fixtures", Path("/work/shared/fixtures")):
        found = sorted((base / "engines").glob("*.plan"))
        if found:
            return str(found[0])
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    plan = fixture()
    samples = []
    for _ in range(args.runs):
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, *([plan] if plan else [])],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            check=True,
        )
        samples.append(json.loads(proc.stdout))
    starts = []
    for _ in range(args.runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
        starts.append((time.perf_counter() - started) * 1000)
    median = statistics.median(s["import_ms"] for s in samples)
    firsts = [s["first_ms"] for s in samples if s["first_ms"] is not None]
    emit(
        "plans_import",
        {
            "runs": args.runs,
            "import_ms_median": round(median, 2),
            "import_ms_max": round(max(s["import_ms"] for s in samples), 2),
            "modules_added": samples[0]["added"],
            "first_identify_and_will_load_ms_median": round(statistics.median(firsts), 2) if firsts else None,
            "interpreter_start_ms_median": round(statistics.median(starts), 2),
        },
        f"import matrix.plans < {TARGET_MS:.0f} ms (median of fresh interpreters)",
        median < TARGET_MS,
        "" if plan else "no fixture plan found: first identify/will_load not measured",
    )


if __name__ == "__main__":
    main()
