"""An incremental matrix: each cell's input key, and copying unchanged cells from an earlier run.

Contract: `cell_key(cell, inputs, producers)` is a sha256 over everything a cell's outcome depends on:
the code that runs it (`IN_IMAGE_CODE`, with the double under --self-test; the whole host code for
phase 0), the environment (the image's content id; in --local mode the interpreter and the installed
tensorrt; the host Python and its packages for phase 0), the exported model it reads
(artifacts/models/<model>/), the GPUs, the run options that reach the cell, and for phase-2 cells the
digest of the producer's artifacts (`producer_digest`, taken after phase 1: the folder's bytes and the
producer's phase-1 keys, so a producer that re-ran changes its column). The runner writes the keys
(`write_keys`) for the suite process to store in its records and stores them in its own.

`open_source(text, results_root)` reads an earlier run (a results folder or `latest`); `copy_phase()`
copies each cell whose key equals a finished record's (`REUSABLE`: never crash, timeout or
infra_error) into this run's results file, marked `reused_from` (the run that executed it and when),
and for phase 1 carries the producer's artifacts folder over, so phase 2 can load it and
`Runner.missing()` skips the copied cells. A release whose old artifacts are gone or altered gets no
phase-1 cell copied. `RUN_FILE` in each results folder names its artifacts folder, its producers'
digests and the models' export key (`carry_models` skips the export when they match).
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import sys
from collections.abc import Iterable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from matrix.errors import UserError
from matrix.suite import cells as cellmod
from matrix.suite import resultfile
from matrix.suite.schema import CellResult

REUSABLE = frozenset({"pass", "fail", "xfail", "xpass", "skip", "na"})
RUN_FILE = "reuse.json"
# What runs inside an image (the suite imports matrix.errors, hence the package root): a change to any
# of it re-runs every phase-1 and phase-2 cell.
IN_IMAGE_CODE = (
    "matrix/__init__.py",
    "matrix/errors.py",
    "matrix/suite",
    "matrix/models",
    "matrix/expectations.toml",
    "tests/compat",
    "conftest.py",
)
HOST_CODE = ("matrix", "tests/compat", "conftest.py")  # phase 0 runs on the host: all of the package
HOST_PACKAGES = ("numpy", "onnx", "onnxruntime", "pytest")
MODELS_CODE = ("matrix/models",)
ABSENT = "absent"


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out.extend(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return [p for p in out if p.suffix != ".pyc"]


def tree_digest(root: Path, names: Iterable[str] = ("",)) -> str:
    """sha256 over the relative paths and bytes of every file under root/<name> (sorted; no bytecode)."""
    digest = hashlib.sha256()
    files = sorted({p.relative_to(root).as_posix(): p for p in _files(root / n for n in names)}.items())
    for rel, path in files:
        digest.update(rel.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _sha(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclasses.dataclass(frozen=True, kw_only=True)
class KeyInputs:
    """What a run's keys are made of, computed once on the host before the first cell."""

    code: str  # the in-image code (and the double under --self-test)
    host: str  # phase 0: the host's code, Python and packages
    environments: Mapping[str, str]  # release -> its image's content id, or the local interpreter
    models: Mapping[str, str]  # model -> digest of artifacts/models/<model>/ ("absent" if not exported)
    gpu: str  # "name sm driver; ..." or "none"
    options: Mapping[str, str]  # release (or host) -> digest of the run options that reach its cells


def cell_key(cell: cellmod.Cell, inputs: KeyInputs, producers: Mapping[str, str]) -> str:
    parts: dict[str, Any] = {
        "cell": cell.id,
        "gpu": inputs.gpu,
        "model": inputs.models.get(cell.model, ABSENT) if cell.model != cellmod.NO_MODEL else "",
        "options": inputs.options.get(cell.consumer, ""),
    }
    if cell.phase == 0:
        parts["code"] = inputs.host
    else:
        parts["code"] = inputs.code
        parts["environment"] = inputs.environments.get(cell.consumer, ABSENT)
    if cell.phase == 2:
        parts["producer"] = producers.get(cell.producer, ABSENT)
    return _sha(parts)


def producer_digest(artifacts: Path, phase1_keys: Iterable[str]) -> str:
    """A producer's artifacts as phase 2 loads them, and the inputs that made them."""
    folder_hash = tree_digest(artifacts) if artifacts.is_dir() else ABSENT
    return _sha({"artifacts": folder_hash, "made_by": sorted(phase1_keys)})


def gpu_text(gpus: Sequence[Any]) -> str:
    """The GPUs a cell may get (matrix.run.gpus.Gpu), or "none"."""
    if not gpus:
        return "none"
    return "; ".join(f"{g.name} sm{g.compute_capability} driver {g.driver}" for g in gpus)


def local_environment() -> str:
    """--local: this interpreter and the tensorrt it would import (its version and path; never imported)."""
    spec = importlib.util.find_spec("tensorrt")
    where = str(spec.origin or list(spec.submodule_search_locations or [])) if spec else ABSENT
    try:
        version = metadata.version("tensorrt")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return f"local:{sys.executable}:python {platform.python_version()}:tensorrt {version} at {where}"


def host_inputs(root: Path) -> str:
    packages = {}
    for name in HOST_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = ABSENT
    return _sha({"code": tree_digest(root, HOST_CODE), "python": platform.python_version(), "packages": packages})


def code_digest(root: Path, double_dir: Path | None) -> str:
    """The code every image runs; with the double (--self-test) its folder too."""
    parts = {"code": tree_digest(root, IN_IMAGE_CODE)}
    if double_dir is not None:
        parts["double"] = tree_digest(double_dir)
    return _sha(parts)


def models_export_key(root: Path, weights: Sequence[str]) -> str:
    """What an export of the models depends on: their code and any real weights given (MODEL=FILE)."""
    given = {}
    for text in weights:
        model, _, name = text.partition("=")
        path = Path(name)
        given[model] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ABSENT
    return _sha({"code": tree_digest(root, MODELS_CODE), "weights": given})


def model_digests(artifacts: Path, models: Iterable[str]) -> dict[str, str]:
    out = {}
    for model in models:
        folder = artifacts / "models" / model
        out[model] = tree_digest(folder) if folder.is_dir() else ABSENT
    return out


def keys_file_name(owner: str, phase: int) -> str:
    return f"input-keys.{owner}.p{phase}.json"


def write_keys(results: Path, owner: str, phase: int, keys: Mapping[str, str]) -> Path:
    path = results / keys_file_name(owner, phase)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(dict(sorted(keys.items())), indent=0), encoding="utf-8")
    os.replace(tmp, path)
    return path


# --- the run reused from -----------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, kw_only=True)
class Source:
    run_id: str
    results_dir: Path
    records: Mapping[str, CellResult]  # cell id -> its last record
    artifacts_dir: Path | None
    producers: Mapping[str, str]  # producer -> digest its phase 2 was keyed with
    models_export: str


def _runs(results_root: Path) -> list[Path]:
    if not results_root.is_dir():
        return []
    return [p for p in results_root.iterdir() if p.is_dir() and any(p.glob("*.jsonl"))]


def resolve(text: str, results_root: Path, exclude: str = "") -> Path:
    """RUN of --reuse: a results folder, a run id under the results root, or `latest` (the newest)."""
    if text == "latest":
        runs = [p for p in _runs(results_root) if p.name != exclude]
        if not runs:
            raise UserError(f"--reuse latest: no earlier run in {results_root}; run once without --reuse")
        return max(runs, key=lambda p: max(f.stat().st_mtime for f in p.glob("*.jsonl")))
    path = Path(text)
    if not path.is_dir() and (results_root / text).is_dir():
        path = results_root / text
    if not path.is_dir() or not any(path.glob("*.jsonl")):
        raise UserError(
            f"--reuse {text}: not a results folder of `trt-matrix run` (no *.jsonl in it); give one, or latest"
        )
    return path


def open_source(text: str, results_root: Path, exclude: str = "") -> Source:
    folder = resolve(text, results_root, exclude).resolve()
    records: list[CellResult] = []
    try:
        for path in sorted(folder.glob("*.jsonl")):
            records.extend(resultfile.read(path))
        meta = json.loads((folder / RUN_FILE).read_text(encoding="utf-8")) if (folder / RUN_FILE).is_file() else {}
    except (resultfile.ResultFileError, OSError, ValueError) as exc:
        raise UserError(f"--reuse {text}: cannot read {folder} ({exc}); give another run") from None
    artifacts = meta.get("artifacts")
    return Source(
        run_id=records[0].run_id if records else folder.name,
        results_dir=folder,
        records=resultfile.latest_by_cell(records),
        artifacts_dir=Path(artifacts) if artifacts else None,
        producers=dict(meta.get("producers", {})),
        models_export=str(meta.get("models_export", "")),
    )


def write_run_file(results: Path, artifacts: Path, producers: Mapping[str, str], models_export: str) -> None:
    data = {"artifacts": str(artifacts), "producers": dict(sorted(producers.items())), "models_export": models_export}
    tmp = results / (RUN_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, results / RUN_FILE)


def carry_models(source: Source | None, artifacts: Path, models: Iterable[str], export_key: str) -> list[str]:
    """Copy the source run's exported models when they were exported from the same code and weights;
    returns the models carried (the export then skips them)."""
    if source is None or source.artifacts_dir is None or source.models_export != export_key:
        return []
    carried = []
    for model in sorted(models):
        old = source.artifacts_dir / "models" / model
        new = artifacts / "models" / model
        if (old / "meta.json").is_file() and not new.exists():
            shutil.copytree(old, new)
            carried.append(model)
    return carried


def reusable(cell: cellmod.Cell, key: str, source: Source) -> CellResult | None:
    old = source.records.get(cell.id)
    if old is None or old.status not in REUSABLE or not old.input_key or old.input_key != key:
        return None
    return old


def copied(old: CellResult, run_id: str) -> CellResult:
    """The old record in this run: its first execution stays named (a chain of reuses keeps the original)."""
    origin = old.reused_from or {"run_id": old.run_id, "finished_at": old.finished_at}
    return old.replace(run_id=run_id, reused_from=dict(origin))


def _give_to_container_user(path: Path) -> None:
    if os.getuid() == 0:  # the runner's rule: containers run as 1000 when the host user is root
        for p in [path, *path.rglob("*")]:
            os.chown(p, 1000, 1000)


def carry_artifacts(source: Source, release: str, artifacts: Path) -> str:
    """Copy the source run's artifacts of one producer; '' when done, else why not."""
    if source.artifacts_dir is None:
        return f"{source.results_dir} names no artifacts folder"
    old = source.artifacts_dir / release
    made = [r.input_key for r in source.records.values() if r.phase == 1 and r.producer == release and r.input_key]
    if release in source.producers:  # what that run's phase 2 loaded: it must still be there, unchanged
        if producer_digest(old, made) != source.producers[release]:
            return f"its artifacts folder {old} is not what that run's phase 2 loaded (changed or gone)"
    elif not old.is_dir():
        return f"its artifacts folder {old} is gone"
    if not old.is_dir():
        return ""  # it made none, and phase 2 loaded none
    new = artifacts / release
    shutil.copytree(old, new, dirs_exist_ok=True)
    _give_to_container_user(new)
    return ""


def plan_phase(cells: Sequence[cellmod.Cell], keys: Mapping[str, str], source: Source | None) -> dict[str, CellResult]:
    """cell id -> the record to copy, for this phase's cells (phase 1: whole releases lose their copies
    when their artifacts cannot be carried, which `copy_phase` decides)."""
    if source is None:
        return {}
    out = {}
    for cell in cells:
        old = reusable(cell, keys[cell.id], source)
        if old is not None:
            out[cell.id] = old
    return out
