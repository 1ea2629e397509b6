"""Run checks in-process against the TensorRT double: `python tests/double/run_checks.py ARTIFACTS CELL...`.

Needs tests/double first on PYTHONPATH and TRT_MATRIX_DOUBLE set (tests/double/test_double.py does both).
Prints one JSON object: {cell id: outcome}. Tests only: what it prints is the harness's behaviour on the
double, never TensorRT's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from matrix.suite import worker
from matrix.suite.checks import TARGETS


def main() -> None:
    artifacts = Path(sys.argv[1])
    out = {}
    for cell in sys.argv[2:]:
        release = cell.split(":")[1].split(">")[1]
        scratch = artifacts / "scratch" / cell.replace(":", "_").replace(">", "_")  # the plugin gives a fresh one too
        scratch.mkdir(parents=True, exist_ok=True)
        spec = {
            "target": TARGETS[cell.split(":")[0]],  # as the plugin resolves it (destroy-order: destroy_order)
            "context": {
                "cell": cell,
                "release": release,
                "artifacts": str(artifacts),
                "scratch": str(scratch),
            },
        }
        out[cell] = worker.run(spec).to_json()
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
