"""Cells: what the matrix runs, as plain data, and the one function that plans them.

Contract: `plan(releases, ...)` returns the cells of a run in a stable order, and the same call gives
the same list in the host's `trt-matrix plan`, in the runner, and in the pytest collection inside
an image. A cell is release x check x model x precision x variant; its `id` is the key of its
result record (`check:producer>consumer:model:precision:variant`). Which cells apply to a release is
decided at run time by feature detection, never here: a cell whose API is absent records `na`.
Runs on Python 3.8.
"""

from __future__ import annotations

import dataclasses
import fnmatch
from typing import Any, Iterable, Sequence

HOST = "host"  # producer/consumer of phase-0 cells: they run on the host, tier 0, once per run

# Model names, in the order reports list them. `matrix.models` defines them; this is the index the
# planner needs without importing onnx (images run the suite without it).
MODELS = ("retinaface-mnet", "retinaface-r50", "scrfd-500m", "scrfd-2.5g", "yolov5s")
NETDEF_MODELS = ("retinaface-mnet", "retinaface-r50", "yolov5s")  # tensorrtx-style builders exist
INT8_MODELS = ("retinaface-mnet", "retinaface-r50", "scrfd-500m", "scrfd-2.5g")
DEFAULT_MODELS = ("retinaface-mnet", "scrfd-500m", "yolov5s")  # a nightly run's default, small members
NO_MODEL = "-"
NO_PRECISION = "-"


@dataclasses.dataclass(frozen=True)
class CheckSpec:
    """One check: the phase it runs in and the axes it spans.

    `models=None` means the check takes no model; `cross=True` means phase 2 runs it for every
    producer (the consumer loads what the producer made). `needs` says what must be present for
    the check to run at all: "host" (the host's Python: ONNX, ONNX Runtime, wheels), "tensorrt"
    (an importable TensorRT with its libraries, no GPU), "gpu" (TensorRT and a CUDA device), or
    "nothing" (harness checks).
    """

    name: str
    phase: int
    needs: str
    models: tuple[str, ...] | None
    precisions: tuple[str, ...]
    variants: tuple[str, ...]
    cross: bool = False
    doc: str = ""


# fmt: off
CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec("model", 0, "host", MODELS, ("fp32",), ("onnx",),
              doc="ONNX builds, passes onnx.checker, runs in ONNX Runtime with non-degenerate outputs"),
    CheckSpec("qdq", 0, "host", INT8_MODELS, ("int8",), ("ort",),
              doc="explicit Q/DQ model from ONNX Runtime's static quantizer, accuracy against FP32"),
    CheckSpec("api", 0, "host", None, (NO_PRECISION,), ("adapter-paths",),
              doc="every API path the adapter selects resolves against this release's real bindings"),
    CheckSpec("toolchain", 1, "tensorrt", None, (NO_PRECISION,), ("version",),
              doc="trtexec, the Python bindings and libnvinfer report the same release"),
    CheckSpec("toolchain", 1, "gpu", ("retinaface-mnet",), ("fp32",), ("trtexec-to-python", "python-to-trtexec"),
              doc="a plan built by trtexec loads in Python, and the reverse"),
    CheckSpec("serialize", 1, "gpu", MODELS, ("fp32", "fp16"), ("onnx", "legacy", "vc", "hc"),
              doc="build_serialized_network from ONNX; the legacy build_engine; version- and hardware-compatible"),
    CheckSpec("serialize", 1, "gpu", NETDEF_MODELS, ("fp32",), ("netdef",),
              doc="tensorrtx-style network definition from .wts weights"),
    CheckSpec("destroy-order", 1, "gpu", ("retinaface-mnet",), ("fp32",),
              ("py-right", "py-builder-first", "py-runtime-first", "py-build-engine-with-config"),
              doc="wrong and right destruction orders in Python; the API-usage log line; plan validity"),
    CheckSpec("destroy-order", 1, "gpu", None, ("fp32",), ("cpp-right", "cpp-builder-first", "cpp-runtime-first"),
              doc="the same in C++ (destroy() on 8.x, delete on 10+), a probe compiled in the image"),
    CheckSpec("int8", 1, "gpu", INT8_MODELS, ("int8",), ("entropy2", "minmax", "cache-reuse", "qdq"),
              doc="implicit calibration, cache reuse (batches counted), explicit Q/DQ; accuracy against FP32"),
    CheckSpec("int8", 1, "gpu", ("retinaface-mnet",), ("int8",), ("decode-plugin", "decode-plugin-fp32"),
              doc="RetinaFace with its decode plugin inside the network, calibrated; plugin pinned to FP32"),
    CheckSpec("execute", 1, "gpu", MODELS, ("fp32", "fp16"),
              ("execute_v2", "execute_async_v3", "execute_async_v2", "thread-context", "thread-no-context"),
              doc="outputs against ONNX Runtime and against execute_v2; zero/NaN flagged; latency"),
    CheckSpec("deserialize", 2, "gpu", MODELS, ("fp32", "fp16"), ("onnx", "vc", "hc"), cross=True,
              doc="load every producer's plan; classify refusals from the TensorRT log line"),
    CheckSpec("int8-cache", 2, "gpu", INT8_MODELS, ("int8",), ("entropy2",), cross=True,
              doc="a calibration cache made by another release offered to this one"),
    CheckSpec("exchange", 2, "nothing", None, (NO_PRECISION,), ("artifacts",), cross=True,
              doc="the producer's artifacts arrive intact and read-only (harness check)"),
)
# fmt: on
CHECK_NAMES = tuple(dict.fromkeys(c.name for c in CHECKS))  # table order
NEEDS = ("host", "tensorrt", "gpu", "nothing")


@dataclasses.dataclass(frozen=True, order=True)
class Cell:
    """One cell. Phase-1 cells have producer == consumer; phase-0 cells run on the host."""

    check: str
    producer: str
    consumer: str
    model: str
    precision: str
    variant: str
    phase: int = dataclasses.field(compare=False)
    needs: str = dataclasses.field(compare=False)

    @property
    def id(self) -> str:
        return f"{self.check}:{self.producer}>{self.consumer}:{self.model}:{self.precision}:{self.variant}"

    def __str__(self) -> str:
        return self.id

    @property
    def release(self) -> str:
        """The release whose image (or environment) runs the cell."""
        return self.consumer

    def record_fields(self) -> dict[str, Any]:
        """The fields a result record takes from its cell (CellResult(**cell.record_fields(), ...))."""
        return {
            "cell_id": self.id,
            "check": self.check,
            "producer": self.producer,
            "consumer": self.consumer,
            "model": self.model,
            "precision": self.precision,
            "variant": self.variant,
            "phase": self.phase,
        }

    def to_json(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        data["id"] = self.id
        return data

    @classmethod
    def from_id(cls, cell_id: str) -> Cell:
        """Parse an id back into a cell (phase and gpu from the check table)."""
        try:
            check, pair, model, precision, variant = cell_id.split(":")
            producer, consumer = pair.split(">")
        except ValueError:
            raise ValueError(
                f"not a cell id: {cell_id!r} (expected check:producer>consumer:model:precision:variant)"
            ) from None
        for spec in CHECKS:
            if spec.name == check and variant in spec.variants and precision in spec.precisions:
                return cls(check, producer, consumer, model, precision, variant, spec.phase, spec.needs)
        raise ValueError(f"cell id {cell_id!r} names no known check/variant")


def _matches_any(text: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(text, p) for p in patterns)


def select(cells: Iterable[Cell], keywords: Sequence[str] = ()) -> list[Cell]:
    """Keep cells whose id matches a keyword: a substring or glob; `not X` / `!X` excludes.

    Inclusions are OR'ed, exclusions are applied after; no inclusion means all cells.
    """
    include = [k for k in keywords if not (k.startswith("!") or k.startswith("not "))]
    exclude = [k[1:] if k.startswith("!") else k[4:] for k in keywords if k not in include]

    def hit(cell: Cell, pattern: str) -> bool:
        pattern = pattern.strip()
        if any(ch in pattern for ch in "*?["):
            return fnmatch.fnmatchcase(cell.id, pattern)
        return pattern in cell.id

    out = []
    for cell in cells:
        if include and not any(hit(cell, p) for p in include):
            continue
        if any(hit(cell, p) for p in exclude):
            continue
        out.append(cell)
    return out


def plan(
    releases: Sequence[str],
    models: Sequence[str] | None = None,
    phases: Sequence[int] = (0, 1, 2),
    keywords: Sequence[str] = (),
    producers: Sequence[str] | None = None,
    api_releases: Sequence[str] | None = None,
) -> list[Cell]:
    """All cells of a run, in a stable order: phase, check table order, release order, then axes.

    `releases` are the consumers (and, in phase 1, producers) in catalogue order. `producers`
    restricts whose artifacts phase 2 loads (default: the same releases). `api_releases` are the
    releases whose bindings can be introspected on the host (phase 0 `api` cells); default: none.
    """
    chosen_models = tuple(models) if models else DEFAULT_MODELS
    unknown = [m for m in chosen_models if m not in MODELS]
    if unknown:
        raise ValueError("unknown model(s) {}; known: {}".format(", ".join(unknown), ", ".join(MODELS)))
    producer_ids = list(producers) if producers is not None else list(releases)
    out: list[Cell] = []
    for phase in sorted(set(phases)):
        for spec in CHECKS:
            if spec.phase != phase:
                continue
            spec_models = (NO_MODEL,) if spec.models is None else tuple(m for m in spec.models if m in chosen_models)
            if phase == 0:
                pairs: list[tuple[str, str]] = (
                    [(r, r) for r in (api_releases or ())] if spec.name == "api" else [(HOST, HOST)]
                )
            elif spec.cross:
                pairs = [(p, c) for c in releases for p in producer_ids]
            else:
                pairs = [(r, r) for r in releases]
            for producer, consumer in pairs:
                for model in spec_models:
                    for precision in spec.precisions:
                        for variant in spec.variants:
                            out.append(
                                Cell(
                                    spec.name,
                                    producer,
                                    consumer,
                                    model,
                                    precision,
                                    variant,
                                    spec.phase,
                                    spec.needs,
                                )
                            )
    return select(out, keywords)


def shard(cells: Sequence[Cell], index: int, count: int, releases: Sequence[str]) -> list[Cell]:
    """The cells of shard `index` of `count` (1-based), deterministically.

    A shard owns whole releases, round-robin in catalogue order, so that one machine runs one
    release's image for both its phases: phase-1 cells go with their release, phase-2 cells with
    their consumer; phase-0 (host) cells go to shard 1. The union of all shards is `cells`, and no
    cell is in two shards.
    """
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"shard must be i/n with 1 <= i <= n, got {index}/{count}")
    owner = {release: (k % count) + 1 for k, release in enumerate(releases)}
    out = []
    for cell in cells:
        home = 1 if cell.phase == 0 else owner.get(cell.consumer, 1)
        if home == index:
            out.append(cell)
    return out


def parse_shard(text: str) -> tuple[int, int]:
    """'2/4' -> (2, 4), with a clear error for anything else."""
    try:
        left, right = text.split("/")
        index, count = int(left), int(right)
    except ValueError:
        raise ValueError(f"--shard takes i/n, for example 1/2; got {text!r}") from None
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"--shard {text} is out of range: i must be between 1 and n")
    return index, count


def releases_matching(patterns: Sequence[str], known: Sequence[str]) -> list[str]:
    """Release ids selected by `--only` globs, in catalogue order; unknown names raise."""
    if not patterns:
        return list(known)
    missing = [p for p in patterns if not _matches_any_known(p, known)]
    if missing:
        raise ValueError("unknown release id(s) {}; the catalogue has {}".format(", ".join(missing), ", ".join(known)))
    return [r for r in known if _matches_any(r, patterns)]


def _matches_any_known(pattern: str, known: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(r, pattern) for r in known)
