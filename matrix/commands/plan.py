"""`trt-matrix plan`: the cells a run would execute, without running them; or the run as CI jobs."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from typing import Any

from matrix.commands import selection


def register(sub: Any) -> None:
    p = sub.add_parser(
        "plan",
        help="print the cells a run would execute (or its GitHub/Kubernetes job matrix)",
        description="Plan the cells (release x check x model x precision x variant) that `trt-matrix run` "
        "would execute with the same selectors, without running anything. --format github prints "
        "the job matrix for a workflow's strategy.matrix; --format k8s prints Kubernetes Jobs.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  trt-matrix plan --only trt86,trt10 -k int8\n  trt-matrix plan --json | jq length\n"
        "  trt-matrix plan --format github --gpu-label h100=9.0 --gpu-label a100=8.0",
    )
    selection.add_arguments(p)
    p.add_argument(
        "--format",
        choices=("text", "json", "github", "k8s"),
        default="text",
        help="text (default): counts and one cell per line; json: a list of cells; github: "
        "{'include': [...]} for strategy.matrix; k8s: Job manifests",
    )
    p.add_argument("--json", action="store_const", const="json", dest="format", help="same as --format json")
    p.add_argument(
        "--gpu-label",
        action="append",
        default=[],
        metavar="NAME[=CC]",
        help="github: a runner label for GPU jobs, optionally with the compute capability it has; "
        "releases that do not support that capability are left out (and named on stderr)",
    )
    p.add_argument("--registry", default="registry.example.com", help="k8s: where the images were pushed")
    p.add_argument(
        "--repo-url", default="https://github.com/trt-matrix/trt-matrix.git", help="k8s: repository to check out"
    )
    p.add_argument("--ref", default="main", help="k8s: branch or tag to check out")
    p.add_argument(
        "--pvc", default="trt-matrix-data", help="k8s: a ReadWriteMany volume claim for results and artifacts"
    )
    p.add_argument("--run-id", default="", help="k8s: run id (default: a UTC timestamp)")
    from matrix.commands import run as runcmd

    # with --reuse RUN: which cells the run would execute and which it would copy from RUN; it takes the
    # options of `trt-matrix run`, so that the keys are the ones that run would compute
    runcmd.add_run_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matrix.run import ci_matrix

    chosen = selection.resolve(args)
    if args.format == "github":
        labels = [ci_matrix.GpuLabel.parse(text) for text in args.gpu_label]
        matrix, notes = ci_matrix.github(chosen.releases, labels)
        for note in notes:
            print(f"trt-matrix: left out {note}", file=sys.stderr)
        print(json.dumps(matrix))
        return 0
    if args.format == "k8s":
        print(
            ci_matrix.kubernetes(
                chosen.releases,
                registry=args.registry,
                repo_url=args.repo_url,
                ref=args.ref,
                pvc=args.pvc,
                run_id=args.run_id or selection.default_run_id(),
            ),
            end="",
        )
        return 0
    if args.format == "json":
        print(json.dumps([c.to_json() for c in chosen.cells], indent=1))
        return 0
    if not chosen.cells:
        print(
            f"0 cells for {', '.join(r.id for r in chosen.releases)}: the selectors (--only, -k, --models, "
            "--phase, --shard, --api-releases) leave none"
        )
        return 0
    if args.reuse:
        return _reuse(args, chosen)
    by_phase = collections.Counter(c.phase for c in chosen.cells)
    by_check = collections.Counter(c.check for c in chosen.cells)
    print(
        f"{len(chosen.cells)} cells for {', '.join(r.id for r in chosen.releases)}"
        f"{' (shard ' + args.shard + ')' if args.shard else ''}: "
        + ", ".join(f"phase {p}: {n}" for p, n in sorted(by_phase.items()))
    )
    print("  " + ", ".join(f"{check} {n}" for check, n in by_check.items()))
    for cell in chosen.cells:
        print(cell.id)
    return 0


def _reuse(args: argparse.Namespace, chosen: selection.Selection) -> int:
    from matrix.commands import run_setup

    decided = run_setup.plan_reuse(args, chosen)
    if args.format == "json":
        print(json.dumps([{**c.to_json(), "action": action} for c, action in decided], indent=1))
        return 0
    runs = [c for c, action in decided if action == "run"]
    print(f"{len(runs)} of {len(decided)} cells would run; {len(decided) - len(runs)} would be reused ({args.reuse})")
    by_phase = collections.Counter(c.phase for c in runs)
    if runs:
        print("  to run: " + ", ".join(f"phase {p}: {n}" for p, n in sorted(by_phase.items())))
    for cell, action in decided:
        print(f"{action:<12} {cell.id}")
    return 0
