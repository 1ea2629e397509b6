"""Everything `trt-matrix run` decides before the first cell, and what it prints after the last.

Contract: `prepare(args, selection)` picks the tier (and says why), the run id and folders, builds
the images and reads their bills of materials (docker mode), exports the models the cells need, and
returns the runner's options; every problem a user can fix is a UserError. `finish()` renders the
report and returns the summary lines.
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from matrix.commands.images import build_options
from matrix.commands.selection import Selection, default_run_id
from matrix.errors import UserError
from matrix.run import gpus as gpumod
from matrix.run import runner as runmod
from matrix.suite import cells as cellmod


@dataclasses.dataclass(frozen=True, kw_only=True)
class Setup:
    options: runmod.RunOptions
    client: Any
    report_dir: Path | None


def _self_test_mode(args: argparse.Namespace, chosen: Selection) -> tuple[runmod.Mode, str, Any, gpumod.GpuReport]:
    """--self-test: the double stands in for TensorRT and CUDA, so no GPU is looked for or handed out."""
    none = gpumod.GpuReport(gpus=(), reason="the self-test needs no GPU")
    if args.mode == "host":
        raise UserError("--self-test runs phases 1 and 2 on the TensorRT double: drop --host-only")
    if args.mode == "local":
        if len(chosen.releases) != 1:
            raise UserError("--local --self-test runs one release's double in this Python: name it with --only ID")
        return "local", "self-test: the TensorRT double in this Python (--local), not TensorRT", None, none
    from matrix import docker_env

    try:
        client = docker_env.connect()
    except UserError as exc:
        raise UserError(
            f"--self-test runs the images in Docker, which is not usable ({exc}); "
            "or run one release in this Python with --local --self-test --only ID"
        ) from None
    return "docker", "self-test: the TensorRT double in Docker, not TensorRT", client, none


def _mode(args: argparse.Namespace, chosen: Selection) -> tuple[runmod.Mode, str, Any, gpumod.GpuReport]:
    if args.self_test:
        return _self_test_mode(args, chosen)
    report = gpumod.discover()
    gpu_text = (f"{report.count} GPU(s): " + ", ".join(g.name for g in report.gpus)) if report.count else report.reason
    if args.mode == "host":
        return "host", "--host-only", None, report
    if args.mode == "local":
        if len(chosen.releases) != 1:
            raise UserError("--local runs one release, the TensorRT in this Python: name it with --only ID")
        return "local", f"this Python's TensorRT (--local); {gpu_text}", None, report
    if args.mode == "docker":
        from matrix import docker_env

        client = docker_env.connect()
        return "docker", f"Docker (--docker); {gpu_text}", client, report
    if not report.count:
        return "host", f"{report.reason}, so only tier 0 runs here", None, report
    try:
        from matrix import docker_env

        client = docker_env.connect()
    except UserError as exc:
        return (
            "host",
            f"{gpu_text}, but Docker is not usable ({exc}); try --local with a TensorRT in this Python",
            None,
            report,
        )
    ok, why = gpumod.docker_gpu_support(client)
    if ok:
        return "docker", f"Docker with the NVIDIA runtime; {gpu_text}", client, report
    return "host", f"{gpu_text}, but {why}", None, report


def _run_id(args: argparse.Namespace) -> str:
    if args.run_id:
        return str(args.run_id)
    if args.resume:
        runs = sorted(p.name for p in args.results.glob("*") if p.is_dir() and any(p.glob("*.jsonl")))
        if not runs:
            raise UserError(f"--resume found no run in {args.results}; start one with `trt-matrix run`")
        return str(runs[-1])
    return default_run_id()


def _faults(args: argparse.Namespace, releases: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for text in args.inject_fault:
        release, _, spec = text.partition("=")
        kind, _, count = spec.partition(":")
        if release not in releases or kind not in ("crash", "hang", "burn") or not count.isdigit():
            raise UserError(f"--inject-fault takes RELEASE=crash:N, RELEASE=hang:N or RELEASE=burn:S, got {text!r}")
        out[release] = spec
    return out


def check_weights(items: list[str]) -> None:
    """Each `--weights NAME=FILE` names a model and a weights file that loads: a bad one stops the run
    before any image is built, with the loader's one line (not the export subprocess's two)."""
    from matrix.commands.models import MODEL_NAMES, parse_weights
    from matrix.models import registry
    from matrix.models import weights as weightsmod

    for name, path in parse_weights(items, list(MODEL_NAMES)).items():
        weightsmod.load(registry.get(name), path)


def _export_models(artifacts: Path, models: set[str], weights: list[str]) -> None:
    """Export what the cells need (once per run; models given real --weights are exported with them)."""
    real = {text.partition("=")[0] for text in weights}
    missing = sorted(m for m in models if m in real or not (artifacts / "models" / m / "meta.json").is_file())
    if not missing:
        return
    chosen = [w for w in weights if w.partition("=")[0] in missing]
    args = ["models", "export", "--artifacts", str(artifacts), "--models", *missing]
    args += [x for w in chosen for x in ("--weights", w)]
    proc = subprocess.run([sys.executable, "-m", "matrix", *args], check=False)
    if proc.returncode != 0:
        raise UserError(
            f"exporting the models {', '.join(missing)} failed (exit {proc.returncode}); "
            f"`trt-matrix {' '.join(args)}` shows why"
        )


def _images(
    args: argparse.Namespace, chosen: Selection, client: Any
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    from matrix.images import bom as image_bom
    from matrix.images import build as images
    from matrix.images.display import choose
    from matrix.suite import bom

    options = build_options(args)
    if args.self_test:  # the double replaces TensorRT: images without it, on any base, with what it needs
        from matrix.run import selftest

        double = selftest.load()
        options = dataclasses.replace(
            options, skip_tensorrt=True, extra_pip=double.image_pip, extra_apt=double.image_apt
        )
    refs: dict[str, str] = {}
    boms: dict[str, dict[str, Any]] = {}
    needed = [r for r in chosen.releases if any(c.phase in (1, 2) and c.consumer == r.id for c in chosen.cells)]
    with choose(False) as display:
        for release in needed:
            plan = images.plan(release, chosen.catalogue, options)
            try:
                built = images.build(client, plan, display)
            except images.BuildFailure as exc:
                raise UserError(f"the image for {release.id} could not be built: {exc}") from None
            record, _ = image_bom.ensure(client, release, built.image_id, plan.record(options))
            refs[release.id] = built.image_id
            boms[release.id] = {
                **bom.flat(record["bom"]),
                "image": images.latest_tag(release.id),
                "image_id": built.image_id,
            }
    return refs, boms


def _image_env(client: Any, image: str, name: str) -> str:
    """A variable of the image's own environment ('' when it sets none)."""
    for entry in client.images.get(image).attrs.get("Config", {}).get("Env") or []:
        key, _, value = str(entry).partition("=")
        if key == name:
            return value
    return ""


def _self_test_env(
    args: argparse.Namespace, chosen: Selection, mode: runmod.Mode, client: Any, refs: dict[str, str]
) -> dict[str, dict[str, str]]:
    """release -> the double's activation (tests/double/selftest.toml), with the --inject faults."""
    import os
    import sys

    from matrix import repo
    from matrix.run import selftest

    data = selftest.load()
    scenarios = data.select(args.inject)
    ids = [r.id for r in chosen.releases]
    out: dict[str, dict[str, str]] = {}
    for release in chosen.releases:
        faults = [f for s in scenarios if release.id in s.releases(ids) for f in s.faults]
        if mode == "docker":
            root, double = runmod.IN_IMAGE_REPO, ""
            path = _image_env(client, refs[release.id], "PATH") or DEFAULT_PATH
            pythonpath = _image_env(client, refs[release.id], "PYTHONPATH")
        else:
            # this Python's bin first: the double's own tools (its trtexec) run on the Python the suite runs on
            path = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", DEFAULT_PATH)])
            root, pythonpath = str(repo.root()), str(repo.root())
            double = str(args.double.resolve()) if args.double else ""
        out[release.id] = data.environment(
            tensorrt=release.tensorrt,
            repo_root=root,
            base_path=path,
            base_pythonpath=pythonpath,
            faults=faults,
            double_dir=double,
        )
    return out


def check_self_test(args: argparse.Namespace) -> None:
    """--inject needs --self-test, and names scenarios of tests/double/selftest.toml (before any build)."""
    if args.inject and not args.self_test:
        raise UserError(
            "--inject turns on faults of the TensorRT double: add --self-test (it runs on real TensorRT otherwise)"
        )
    if args.double and not (args.self_test and (args.double / "tensorrt").is_dir()):
        raise UserError(f"--double {args.double}: needs --self-test and a folder holding the double's tensorrt/")
    if args.self_test:
        from matrix.run import selftest

        selftest.load().select(args.inject)


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def prepare(args: argparse.Namespace, chosen: Selection, scratch: Path | None = None) -> Setup:
    """`scratch`: a throwaway folder for the run's results and artifacts (`plan --reuse`)."""
    from matrix import repo

    repo.root()  # before any work: the suite runs from the checkout
    check_self_test(args)
    check_weights(args.weights)
    for name in ("warmup", "repeats"):
        value = getattr(args, name, None)
        if value is not None and value < (0 if name == "warmup" else 1):
            raise UserError(f"--{name} {value}: must be at least {0 if name == 'warmup' else 1}")
    run_id = _run_id(args)
    if getattr(args, "reuse", None):  # a wrong RUN is said before any folder or image is made
        from matrix.run import reuse

        reuse.resolve(args.reuse, args.results, exclude=run_id)
    mode, reason, client, report = _mode(args, chosen)
    results_dir = ((scratch / "results" if scratch else args.results) / run_id).resolve()
    artifacts_dir = ((scratch / "artifacts" if scratch else args.artifacts) / run_id).resolve()
    runmod.validate_writable(results_dir, "results folder")
    runmod.validate_writable(artifacts_dir, "artifacts folder")
    releases = tuple(r.id for r in chosen.releases)
    refs: dict[str, str] = {}
    boms: dict[str, dict[str, Any]] = {}
    if mode == "docker":
        refs, boms = _images(args, chosen, client)
    self_test = _self_test_env(args, chosen, mode, client, refs) if args.self_test else {}
    will_run = [c for c in chosen.cells if c.phase == 0 or mode != "host"]
    models = {c.model for c in will_run if c.model != cellmod.NO_MODEL}
    keyed = _reuse_inputs(args, run_id, (mode, reason), releases, report, boms, self_test, artifacts_dir, models)
    if models:
        _export_models(artifacts_dir, models, args.weights)
    gpus = tuple(g.index for g in report.gpus) if mode == "docker" else ()
    jobs = args.jobs or (len(gpus) if gpus else 2)
    if gpus:
        jobs = min(jobs, len(gpus))
    options = runmod.RunOptions(
        run_id=run_id,
        releases=releases,
        cells=chosen.cells,
        mode=mode,
        mode_reason=reason,
        results_dir=results_dir,
        artifacts_dir=artifacts_dir,
        resume=args.resume,
        jobs=max(1, jobs),
        gpus=gpus,
        cell_timeout_s=args.timeout,
        latency=(args.warmup, args.repeats),
        container_timeout_s=args.container_timeout,
        images=refs,
        boms=boms,
        models=chosen.models,
        keywords=chosen.keywords,
        api_releases=chosen.api_releases,
        memory=args.memory,
        fault=_faults(args, releases),
        self_test=self_test,
        double={r.id: r.tensorrt for r in chosen.releases} if args.self_test else {},
        double_dir=args.double.resolve() if args.self_test and args.double else None,
        **keyed(),
    )
    report_dir = None if args.no_report else (args.report / run_id)
    return Setup(options=options, client=client, report_dir=report_dir)


def _reuse_inputs(
    args: argparse.Namespace,
    run_id: str,
    how: tuple[runmod.Mode, str],
    releases: tuple[str, ...],
    report: gpumod.GpuReport,
    boms: dict[str, dict[str, Any]],
    self_test: dict[str, dict[str, str]],
    artifacts_dir: Path,
    models: set[str],
) -> Any:
    """Before the export: the run reused from (--reuse; its models carried when their export key
    matches). Returns what, after the export, gives the runner's key fields (matrix/run/reuse.py)."""
    from matrix import repo
    from matrix.run import reuse

    root, (mode, reason) = repo.root(), how
    source = reuse.open_source(args.reuse, args.results, exclude=run_id) if getattr(args, "reuse", None) else None
    export_key = reuse.models_export_key(root, args.weights)
    reuse.carry_models(source, artifacts_dir, models, export_key)

    def fields() -> dict[str, Any]:
        double = (args.double.resolve() if args.double else root / "tests" / "double") if args.self_test else None
        if mode == "docker":
            environments = {r: f"image {boms.get(r, {}).get('image_id') or reuse.ABSENT}" for r in releases}
        elif mode == "local":
            environments = {r: reuse.local_environment() for r in releases}
        else:  # tier 0: every GPU cell is recorded as not run, with this reason
            environments = {r: f"not run: {reason}" for r in releases}
        faults = _faults(args, releases)
        options = {
            release: json.dumps(
                {
                    "mode": mode,
                    "timeout": args.timeout,
                    "latency": [args.warmup, args.repeats],
                    "self_test": self_test.get(release, {}),
                    "fault": faults.get(release, ""),
                },
                sort_keys=True,
            )
            for release in (*releases, cellmod.HOST)
        }
        inputs = reuse.KeyInputs(
            code=reuse.code_digest(root, double),
            host=reuse.host_inputs(root),
            environments=environments,
            models=reuse.model_digests(artifacts_dir, models),
            gpu=reuse.gpu_text(report.gpus),
            options=options,
        )
        return {"key_inputs": inputs, "reuse_source": source, "models_export": export_key}

    return fields


def plan_reuse(args: argparse.Namespace, chosen: Selection) -> list[tuple[cellmod.Cell, str]]:
    """`plan --reuse RUN`: each cell and what the run would do with it ('reuse <run>' or 'run'), from the
    keys the run would compute (images built or found in the cache, models exported or carried), in a
    throwaway folder. Phase 2 is predicted: a producer with any phase-1 cell to run gets a placeholder
    artifacts folder, so its column's keys change as they will."""
    import shutil
    import tempfile

    from matrix.run import progress, reuse

    args.resume, args.run_id = False, ""
    with tempfile.TemporaryDirectory(prefix="trt-matrix-plan-") as tmp:
        setup = prepare(args, chosen, scratch=Path(tmp))
        runner = runmod.Runner(setup.options, progress.PlainProgress(io.StringIO()))
        runner.prepare_phase(0)
        runner.prepare_phase(1)
        copied = {r.cell_id: r for r in runmod._records(setup.options.results_dir)}
        for producer in {c.producer for c in chosen.cells if c.phase == 1 and c.id not in copied}:
            folder = setup.options.artifacts_dir / producer
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            (folder / "to-be-made").write_text(reuse.ABSENT)
        runner.prepare_phase(2)
        copied = {r.cell_id: r for r in runmod._records(setup.options.results_dir)}
    out = []
    for cell in chosen.cells:
        old = copied.get(cell.id)
        origin = (old.reused_from or {}) if old else {}
        out.append((cell, f"reuse {origin.get('run_id', '?')}" if old else "run"))
    return out


def finish(args: argparse.Namespace, setup: Setup, summary: runmod.RunSummary) -> list[str]:
    from matrix.run.progress import SYMBOL

    o = setup.options
    counts = ", ".join(f"{SYMBOL.get(s, '?')} {n} {s}" for s, n in sorted(summary.counts.items()))
    lines = [
        f"run {summary.run_id}: tier {o.tier} ({o.mode_reason})",
        f"  {summary.recorded}/{summary.planned} cells recorded: {counts}",
        f"  {summary.containers_started} container(s) started, {summary.duration_s:.0f} s; "
        f"results: {summary.results_dir}",
    ]
    lines += [f"  note: {note}" for note in summary.notes]
    if setup.report_dir is not None and summary.recorded:
        from matrix.commands.report import render

        lines += ["  " + line for line in render([summary.results_dir], setup.report_dir)]
    return lines
