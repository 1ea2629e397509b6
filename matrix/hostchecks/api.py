"""api (tier 0): the adapter's API-path selection against a release's REAL Python bindings.

Imports the release's compiled bindings wheel over the stand-in library (matrix.offline.standin) in a child
process and asks the suite's adapter what it would do there. Passes when the release offers every
operation the suite needs by at least one path (build, load, run, tensor I/O), the recording logger
subclasses this release's ILogger and records, and a calibrator subclass constructs wherever the
release has the base class. The selection itself is kept in the cell's measurements. Releases
without a bindings wheel on PyPI (8.4, 8.5) are `na`: not introspected, never guessed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from matrix.suite.outcome import CheckContext, Fail, NotApplicable, Outcome, Skip

PROBE_TIMEOUT_S = 120


def run(ctx: CheckContext) -> Outcome:
    from matrix import catalogue
    from matrix.errors import UserError
    from matrix.offline import standin, wheels

    release = catalogue.load().get(ctx.cell.consumer)
    try:
        wheels.find(release.tensorrt)
    except wheels.NoWheel as exc:
        raise NotApplicable(f"not introspected: {exc}") from None
    except UserError as exc:
        if "no TensorRT bindings release" in str(exc):
            raise NotApplicable(
                f"not introspected: no bindings wheel of {release.tensorrt} on the package index "
                "(PyPI lists TensorRT bindings from 8.6.1 on)"
            ) from None
        raise Skip(f"the package index could not be read: {exc}") from None
    try:
        env = standin.bindings_env(release.tensorrt)
    except wheels.NoWheel as exc:
        raise NotApplicable(f"not introspected: {exc}") from None
    except UserError as exc:
        raise Skip(f"the bindings of {release.tensorrt} could not be fetched: {exc}") from None
    proc = subprocess.run(
        [sys.executable, "-m", "matrix.hostchecks.adapter_probe"],
        env=env,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-3:])
        raise Fail(f"the adapter probe failed against the real {release.tensorrt} bindings: {tail[:400]}")
    found: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    paths = found["describe"]
    problems = []
    if not paths["build"]:
        problems.append("no build path (build_serialized_network / build_engine)")
    if not paths["execute"]:
        problems.append("no execute path")
    if not found["logger"]["subclass_of_ILogger"] or found["logger"]["recorded"] != [["warning", "probe"]]:
        problems.append(f"the recording logger does not work against this ILogger: {found['logger']}")
    broken = {k: v for k, v in found["calibrators"].items() if v not in ("constructs", "absent")}
    if broken:
        problems.append(f"calibrator subclasses do not construct: {broken}")
    measurements = {"bindings": paths["version"], **found}
    if problems:
        raise Fail("; ".join(problems), measurements=measurements)
    return Outcome(
        "pass",
        f"bindings {paths['version']}: build via {', '.join(paths['build'])}; execute via "
        f"{', '.join(paths['execute'])}; {paths['io']} I/O; INT8 "
        f"{'flag and ' + ', '.join(paths['calibrators']) if paths['int8'] else 'absent'}",
        measurements=measurements,
    )
