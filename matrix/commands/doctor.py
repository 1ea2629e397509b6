"""`trt-matrix doctor [PLAN ...]`: every TensorRT on this machine, which libnvinfer each tool loads, and
whether each PLAN will load with each of them (the work is matrix.offline.doctor).

Contract: exit 0 when everything found is consistent (also when no TensorRT is found and no PLAN is
given), 1 when a problem was found (releases that disagree, a plan some installation refuses, a broken
link, a PLAN and nothing to load it with), 2 on bad input (a PLAN that cannot be read, or is no plan: a
Git LFS pointer, an ONNX model; the others are still reported). `--json` prints one object:
installations, plans, problems, fixes, consistent, machine.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="find every TensorRT on this machine and say which plans each would load",
        description="Find the tensorrt module of this Python, every libnvinfer.so* on the loader path "
        "and in the usual folders, and every trtexec; read their versions and the library each really "
        "loads; then say for each PLAN whether each installation would load it, with the log line and the "
        "fix. Probes run in subprocesses; no Docker or GPU needed.",
    )
    p.add_argument("plans", nargs="*", metavar="PLAN", help="plan (engine) files to check")
    p.add_argument("--json", action="store_true", help="print one JSON object for scripts")
    p.add_argument(
        "--python",
        action="append",
        default=None,
        metavar="EXE",
        help="an interpreter whose tensorrt to probe (repeatable; default: this one)",
    )
    p.add_argument(
        "--search", action="append", default=[], metavar="DIR", help="another folder to search (and its lib/, bin/)"
    )
    p.add_argument(
        "--no-system",
        action="store_true",
        help="look only at PATH, LD_LIBRARY_PATH and --search: not the ldconfig cache, the usual install "
        "folders, the GPU or CUDA",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matrix.offline import doctor

    scope = doctor.Scope(
        env=dict(os.environ),
        pythons=tuple(args.python or [sys.executable]),
        search=tuple(args.search),
        system=not args.no_system,
    )
    report = doctor.examine(args.plans, scope)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print("\n".join(doctor.render(report)))
    for check in report.plans:
        if check.error is not None:
            print(f"trt-matrix: error: {check.file}: {check.error}", file=sys.stderr)
    if report.bad_input:
        return 2
    return 0 if report.consistent else 1
