"""Regenerate the real bindings' method signatures (tests/double/tensorrt/signatures/<release>.json).

Run from the repository root: `python -m tests.double.generate_signatures [VERSION ...]` (default: the
releases in RELEASES). Each release's REAL compiled bindings are imported in a subprocess over the
stand-in library (matrix.offline.standin.bindings_env, the wheel downloaded once into the cache), and
tests/double/introspect_signatures.py reads every callable's pybind11 docstring signature lines.
tests/double/test_conformance.py compares the double's modelled methods with these files.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from matrix.offline import standin

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent / "tensorrt" / "signatures"
# 8.6.1 and seven 10.x/11.x releases: the catalogue's wheels plus the first and last of each major
RELEASES = ("8.6.1", "10.0.1", "10.3.0", "10.4.0", "10.8.0.43", "10.16.1.11", "11.0.0.114", "11.4.0.106")


def introspect(version: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.double.introspect_signatures"],
        env=standin.bindings_env(version),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{version}: the bindings did not import: {proc.stderr.strip()[-500:]}")
    found: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return found


def main(versions: list[str]) -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for version in versions or list(RELEASES):
        found = introspect(version)
        body = {
            "generated_by": "python -m tests.double.generate_signatures (do not edit)",
            "release": version,
            **found,
        }
        (HERE / f"{version}.json").write_text(json.dumps(body, indent=0, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
