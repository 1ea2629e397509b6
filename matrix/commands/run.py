"""`trt-matrix run`: the matrix, at the highest tier this machine allows (or the one asked for)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matrix.commands import images, selection
from matrix.errors import UserError

EPILOG = """\
tiers (the run says which one it used, and why):
  2  Docker + NVIDIA container toolkit + GPU: one container per release; phase 2 cross-loads
  1  a GPU and one TensorRT in this Python (--local): that release's cells; other runs' plans cross-load
  0  no GPU: the host's tier-0 cells (models, Q/DQ, API); every GPU cell is recorded as not run, with why
examples:
  trt-matrix run                                 # everything, at the tier this machine allows
  trt-matrix run --only trt86,trt10 -k int8      # a subset
  trt-matrix run --docker --base-image trt-matrix/test-base:bookworm --skip-tensorrt -k exchange
                                                 # the container harness on a machine without GPUs
  trt-matrix run --self-test --only trt86,trt10,trt11 --base-image trt-matrix/test-base:bookworm
                                                 # the whole matrix on the TensorRT double (no GPU)
  trt-matrix run --self-test --inject scrfd-v3-zeros --only trt10   # one documented failure, as a user sees it
  trt-matrix run --self-test --list-scenarios    # the scenarios, their seeds and citations
  trt-matrix run --resume                        # finish the latest run without redoing its cells
  trt-matrix run --reuse latest                  # copy every cell whose inputs did not change; run the rest
  trt-matrix run --shard 1/2 --phase 1           # this machine's half of phase 1
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run the matrix: phase 0 on the host, phases 1 and 2 in one container per release",
        description="Plan the cells from the catalogue and selectors, run them at the highest tier this machine "
        "allows, record one result per cell (appended as it ends), and render the report.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    selection.add_arguments(p)
    add_run_options(p)
    p.add_argument("--run-id", default="", help="name of the run (default: a UTC timestamp; with --resume: the latest)")
    p.set_defaults(func=run)


def add_run_options(p: Any) -> None:
    """Every option of `run` but the selectors and --run-id (`plan --reuse` takes them too, so that it
    computes the keys the run would)."""
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--docker",
        action="store_const",
        const="docker",
        dest="mode",
        help="run the images even without a GPU (their GPU cells then say why they did not run)",
    )
    mode.add_argument(
        "--local",
        action="store_const",
        const="local",
        dest="mode",
        help="tier 1: run the suite in this Python, against its TensorRT, for the --only release",
    )
    mode.add_argument(
        "--host-only",
        action="store_const",
        const="host",
        dest="mode",
        help="tier 0 only: record every GPU cell as not run",
    )
    p.set_defaults(mode="auto")
    p.add_argument(
        "--results",
        type=Path,
        default=Path("results"),
        metavar="DIR",
        help="results root; each run writes DIR/<run id>/<release>.p<phase>.jsonl (default: results)",
    )
    p.add_argument(
        "--artifacts",
        type=Path,
        default=Path("artifacts"),
        metavar="DIR",
        help="artifacts root; each run uses DIR/<run id>/ (models/, one folder per producer)",
    )
    p.add_argument(
        "--weights",
        action="append",
        default=[],
        metavar="MODEL=FILE",
        help="real weights for a model (Pytorch_Retinaface .pth or tensorrtx .wts); others stay synthetic "
        "and every record says which",
    )
    p.add_argument("--resume", action="store_true", help="continue a run: cells already recorded are not run again")
    add_reuse_argument(p)
    p.add_argument(
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="containers at once (default: one per GPU; 2 without GPUs). Never more than one per GPU",
    )
    p.add_argument("--timeout", type=float, default=900.0, metavar="S", help="seconds one cell may run (default 900)")
    p.add_argument(
        "--warmup",
        type=int,
        default=None,
        metavar="N",
        help="execute cells: untimed runs before the latency is measured (default 10)",
    )
    p.add_argument(
        "--repeats",
        type=int,
        default=None,
        metavar="N",
        help="execute cells: timed runs the latency statistics come from (default 50; fewer for a quick run)",
    )
    p.add_argument(
        "--container-timeout",
        type=float,
        default=4 * 3600.0,
        metavar="S",
        help="seconds one container may run before the cell in flight is recorded as timeout",
    )
    p.add_argument("--memory", default=None, metavar="SIZE", help="memory limit per container (docker syntax: 32g)")
    p.add_argument(
        "--report",
        type=Path,
        default=Path("report"),
        metavar="DIR",
        help="where the report goes: DIR/<run id>/ (default: report); --no-report to skip",
    )
    p.add_argument("--no-report", action="store_true", help="do not render the report at the end")
    build = p.add_argument_group("images (docker mode)")
    images.add_build_options(build)
    double = p.add_argument_group("self-test (the TensorRT double, no GPU: a test of the harness, never a result)")
    double.add_argument(
        "--self-test",
        action="store_true",
        help="run phases 1 and 2 on the TensorRT double of each release (tests/double) in images built without "
        "TensorRT on any base, in Docker (or --local for one release); the report says it is a self-test",
    )
    double.add_argument(
        "--inject",
        action="append",
        default=[],
        metavar="SCENARIO",
        help="with --self-test: turn on one documented failure of the double (repeatable; --list-scenarios)",
    )
    double.add_argument(
        "--double",
        type=Path,
        default=None,
        metavar="DIR",
        help="with --self-test: the double's folder from another checkout (default: tests/double of this one)",
    )
    double.add_argument(
        "--list-scenarios",
        action="store_true",
        help="print the self-test scenarios with the seed failure and citation of each, and exit",
    )
    p.add_argument(
        "--inject-fault", action="append", default=[], metavar="RELEASE=crash:N|hang:N", help=argparse.SUPPRESS
    )  # harness self-tests: the container dies or hangs after N cells


def add_reuse_argument(p: Any) -> None:
    p.add_argument(
        "--reuse",
        default=None,
        metavar="RUN",
        help="an earlier run (its results folder, its id under --results, or 'latest'): a cell whose input key "
        "(image id, code, model, GPU, options, producers' artifacts) equals a finished cell's of RUN is copied, "
        "marked reused, instead of run; crash, timeout and infra_error cells always run again",
    )


def run(args: argparse.Namespace) -> int:
    from matrix.commands import run_setup
    from matrix.run import runner as runmod

    if args.list_scenarios:
        for line in scenario_lines():
            print(line)
        return 0
    run_setup.check_self_test(args)
    chosen = selection.resolve(args)
    if not chosen.cells:
        raise_empty(chosen)
    setup = run_setup.prepare(args, chosen)
    from matrix.run import progress

    display = progress.make()
    display.note(
        f"run {setup.options.run_id}: tier {setup.options.tier} ({setup.options.mode_reason}); "
        f"{len(chosen.cells)} cells; results in {setup.options.results_dir}"
    )
    runner = runmod.Runner(setup.options, display, client=setup.client)
    signal.signal(signal.SIGTERM, _terminate)  # `kill` and CI cancellation: stop cleanly, as Ctrl-C does
    try:
        summary = runner.execute()
    except UserError:  # a fault of the machine (full disk, lost daemon): the display ends before its line
        display.close()
        raise
    except (KeyboardInterrupt, runmod.Interrupted):
        display.close()
        print(
            f"trt-matrix: interrupted; every finished cell is kept in {setup.options.results_dir}; "
            f"continue with: trt-matrix run --resume --run-id {setup.options.run_id}",
            file=sys.stderr,
        )
        return 130
    display.close()
    try:
        lines = run_setup.finish(args, setup, summary)
    except OSError as exc:
        from matrix.suite import resultfile

        if not resultfile.is_full(exc):
            raise
        raise UserError(
            f"the file system of {exc.filename or args.report} is full ({exc.strerror}) while writing the report; "
            f"free space, then trt-matrix report {setup.options.results_dir}"
        ) from None
    for line in lines:
        print(line)
    broken = _broken(summary, tuple(getattr(args, "inject", None) or ()), bool(getattr(args, "self_test", False)))
    return 1 if broken or summary.recorded < summary.planned else 0


def _broken(summary: Any, injected: Sequence[str] = (), self_test: bool = False) -> int:
    """Cells that failed, crashed or timed out where no cited expectation says they do (as the report
    counts them): an expected refusal off the diagonal is not a broken run.

    In a self-test the double shows a seed failure only when its scenario is injected: a cell an injected
    scenario explains is what was asked for, and an XPASS of a known issue whose scenario was not injected
    is the clean double doing what it should (the report still shows both as they are)."""
    if not summary.broken:
        return 0
    from matrix.report import expectations
    from matrix.run.results import load
    from matrix.suite.expect import apply_all
    from matrix.suite.schema import BROKEN

    records = apply_all(load([summary.results_dir]), expectations.load(None))
    broken = [r for r in records if r.status in BROKEN or r.status == "infra_error"]
    if not self_test:
        return len(broken)
    from matrix.run import selftest

    double = selftest.load()
    chosen = double.select(injected)
    quiet = {s.expectation for s in double.scenarios if s.expectation and s.name not in injected}

    def asked_for(record: Any) -> bool:
        if record.status == "xpass" and (record.expectation or {}).get("id") in quiet:
            return True
        return any(s.explains(record) for s in chosen)

    return sum(1 for r in broken if not asked_for(r))


def scenario_lines() -> list[str]:
    """What --list-scenarios prints: each scenario, its seed, its citation and the cells it breaks."""
    from matrix.run import selftest

    lines = []
    for s in selftest.load().scenarios:
        cells = "; ".join(
            f"{'|'.join(c.check)}:{'|'.join(c.model)}:{'|'.join(c.variant)} on {','.join(c.release)} -> {c.status}"
            for c in s.cells
        )
        lines += [
            s.name,
            f"  seed:     {s.seed}",
            f"  citation: {s.citation or 'none (a harness scenario)'}",
            f"  cells:    {cells}",
        ]
    return lines


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def raise_empty(chosen: selection.Selection) -> None:
    from matrix.errors import UserError

    raise UserError(
        "the selectors leave no cells to run: check --only, -k, --models, --phase and --shard "
        f"(releases: {', '.join(r.id for r in chosen.releases)}); `trt-matrix plan` shows the cells"
    )


def is_ci() -> bool:
    return bool(os.environ.get("CI"))
