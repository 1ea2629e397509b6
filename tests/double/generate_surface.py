"""Regenerate the TensorRT double's API-surface snapshots (tests/double/tensorrt/surface/*.json).

Run from the repository root: `python -m tests.double.generate_surface`. For each catalogue release with
a bindings wheel, the names and kinds come from the project's own introspection of the REAL bindings
(matrix.offline.api_surface.introspect, over the stand-in library). 8.4 and 8.5 have no wheel: their
surface is 8.6.1's, minus the names ../shared/research/tensorrt-api-surface.json records as absent in
that release and plus those it records as present; every name of such a snapshot is listed as inferred.

Method signatures live beside them in tensorrt/signatures/<release>.json: regenerate those with
`python -m tests.double.generate_signatures` (tests/double/test_conformance.py compares the double with
them). Releases outside the catalogue (10.3.0, 10.16.1.11, 11.0.0.114: conformance coverage) were written
with `real(version)` and `_write`; regenerate one with
`python -c "from tests.double import generate_surface as g; s = g.real('10.3.0'); g._write(s['tensorrt_version'], s)"`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matrix import catalogue
from matrix.offline import api_surface, wheels

HERE = Path(__file__).resolve().parent / "tensorrt" / "surface"
RESEARCH = Path("/work/shared/research/tensorrt-api-surface.json")
INFERRED_FROM = "8.6.1"


def _write(version: str, body: dict[str, Any]) -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    header = {
        "generated_by": "python -m tests.double.generate_surface (do not edit)",
        "release": version,
    }
    (HERE / f"{version}.json").write_text(json.dumps({**header, **body}, indent=0, sort_keys=True) + "\n")


def real(version: str) -> dict[str, Any]:
    release = next(r for r in wheels.index() if f"{r.version}.".startswith(f"{version}."))
    surface = api_surface.introspect(release)
    if not surface.introspected:
        raise SystemExit(f"{version}: {surface.reason}")
    return {
        "source": f"introspection of {surface.wheel} (sha256 {surface.sha256[:16]})",
        "tensorrt_version": surface.tensorrt_version,
        "names": dict(surface.kinds),
        "inherited": dict(surface.inherited),
        "inferred": None,
    }


def inferred(version: str, base: dict[str, Any]) -> dict[str, Any]:
    research = json.loads(RESEARCH.read_text(encoding="utf-8"))
    names = dict(base["names"])
    adjusted = []
    for name, span in research["spans"].items():
        if " " in name or (name not in names and version not in span.get("present_in", [])):
            continue
        if version in span.get("absent_in", []) and name in names:
            adjusted.append(f"-{name}")
            names.pop(name, None)
            for child in [n for n in names if n.startswith(name + ".")]:
                names.pop(child)
        elif version in span.get("present_in", []) and name not in names:
            adjusted.append(f"+{name}")
            names[name] = "method"
    return {
        "source": f"inferred: {INFERRED_FROM}'s introspected surface adjusted by {RESEARCH.name} (no wheel exists)",
        "tensorrt_version": version,
        "names": names,
        "inherited": {k: v for k, v in base["inherited"].items() if k in names},
        "inferred": {"every_name_from": INFERRED_FROM, "research_adjustments": sorted(adjusted)},
    }


def main() -> None:
    versions = [r.tensorrt for r in catalogue.load().releases]
    snapshots = {}
    for version in versions:
        if version.startswith(("8.4", "8.5")):
            continue
        snap = real(version)
        snapshots[snap["tensorrt_version"]] = snap
        _write(snap["tensorrt_version"], snap)
    for version in versions:
        if version.startswith(("8.4", "8.5")):
            _write(version, inferred(version, snapshots[INFERRED_FROM]))


if __name__ == "__main__":
    main()
