"""Realistic result records for report tests, built with the real planner and schema.

`three_release_run()` is a nightly as the matrix would record it: tier-0 host cells, trt86 and
trt10 on a GPU machine, trt11 without a usable GPU (its GPU cells skipped with the reason, its
implicit-INT8 cells n/a by feature detection), and planted outcomes: refusals off the diagonal with
TensorRT's own log lines, destroy-order messages, the 8.6.1 decode-plugin assertion, a crash, a
timeout, an infrastructure error, an unexplained failure and a plan that loads where a known
issue says it cannot (XPASS once expectations are applied). These are test inputs for the
renderers, written through the real `ResultWriter`; they are never presented as results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from matrix.suite import cells
from matrix.suite.resultfile import ResultWriter, result_file_name
from matrix.suite.schema import CellResult, LogLine

RUN = "nightly-2026-11-20"
BOM = {
    "trt86": {
        "tensorrt": "8.6.1.6",
        "cuda": "12.3",
        "driver": "550.54.15",
        "gpu": "NVIDIA H100 80GB HBM3",
        "compute_capability": "9.0",
        "python": "3.10.12",
        "numpy": "1.24.4",
        "image": "nvcr.io/nvidia/tensorrt:24.01-py3@sha256:" + "1" * 64,
    },
    "trt10": {
        "tensorrt": "10.8.0.43",
        "cuda": "12.8",
        "driver": "550.54.15",
        "gpu": "NVIDIA H100 80GB HBM3",
        "compute_capability": "9.0",
        "python": "3.12.3",
        "numpy": "1.26.4",
        "image": "nvcr.io/nvidia/tensorrt:25.01-py3@sha256:" + "2" * 64,
    },
    "trt11": {
        "tensorrt": "11.4.0.106",
        "cuda": "12.8",
        "driver": "none",
        "gpu": "none",
        "python": "3.10.12",
        "numpy": "1.26.4",
        "image": "trt-matrix/trt11@sha256:" + "3" * 64,
    },
    cells.HOST: {"python": "3.11.7", "onnx": "1.17.0", "onnxruntime": "1.20.1", "numpy": "2.1.3"},
}
WEIGHTS = {
    "retinaface-mnet": "pretrained: mobilenet0.25_Final.pth (biubug6/Pytorch_Retinaface)",
    "scrfd-500m": "synthetic: seeded random initialisation (seed 0)",
    "yolov5s": "synthetic: seeded random initialisation (seed 0)",
}
VERSION_TAG = (
    "1: [stdArchiveReader.cpp::StdArchiveReader::42] Error Code 1: Serialization (Serialization assertion "
    "stdVersionRead == serializationVersion failed.Version tag does not match. Note: Current Version: {cur}, "
    "Serialized Engine Version: {old})"
)
TAGS = {"trt84": 213, "trt85": 220, "trt86": 228, "trt100": 237, "trt10": 239, "trt11": 241}  # planted values
BUILDER = (
    "3: [builder.cpp::~Builder::341] Error Code 3: API Usage Error (Parameter check failed at: "
    "builder.cpp::~Builder::341, condition: mObjectCounter.use_count() == 1. Destroying a builder object "
    "before destroying objects it created leads to undefined behavior.)"
)
RUNTIME = (
    "3: [runtime.cpp::~Runtime::346] Error Code 3: API Usage Error (Parameter check failed at: "
    "runtime/rt/runtime.cpp::~Runtime::346, condition: mEngineCounter.use_count() == 1. Destroying a runtime "
    "before destroying deserialized engines created by the runtime leads to undefined behavior.)"
)
SCALES = (
    "2: [pluginV2Runner.cpp::getInputHostScale::88] Error Code 2: Internal Error "
    "(Assertion scales.size() == 1 failed. )"
)


def record(
    cell: cells.Cell,
    status: str,
    reason: str = "",
    log: Sequence[tuple[str, str]] = (),
    run_id: str = RUN,
    **extra: object,
) -> CellResult:
    release = cell.consumer
    tier = 0 if cell.phase == 0 else 2
    fields: dict[str, object] = {
        "run_id": run_id,
        "cell_id": cell.id,
        "check": cell.check,
        "producer": cell.producer,
        "consumer": cell.consumer,
        "model": cell.model,
        "precision": cell.precision,
        "variant": cell.variant,
        "phase": cell.phase,
        "tier": tier,
        "status": status,
        "reason": reason,
        "duration_s": 0.4 if status in ("skip", "na") else 3.2,
        "api_path": ("build_serialized_network",) if cell.check == "serialize" else (),
        "log": tuple(LogLine(sev, text) for sev, text in log),
        "bom": BOM[cells.HOST] if cell.phase == 0 else BOM.get(release, {}),
        "weights": WEIGHTS.get(cell.model, ""),
        "where": "ci-runner-h100-01" if release in ("trt86", "trt10") else "ci-runner-cpu-02",
        "started_at": "2026-11-20T02:00:00Z",
        "finished_at": "2026-11-20T03:41:00Z",
    }
    fields.update(extra)
    return CellResult(**fields)  # type: ignore[arg-type]


def outcome(cell: cells.Cell) -> CellResult:
    """What the planted nightly recorded for one cell (observed, before expectations)."""
    p, c, v = cell.producer, cell.consumer, cell.variant
    if cell.phase == 0:
        return record(cell, "pass", measurements={"max_abs_diff": 1.9e-6} if cell.check == "model" else {})
    if "trt11" in (p, c) and cell.check == "int8" and v not in ("qdq",):
        return record(cell, "na", "BuilderFlag.INT8 absent in 11.0 (implicit quantization removed)")
    if c == "trt11" or (p == "trt11" and cell.phase == 2):
        return record(cell, "skip", "no CUDA device: nvidia-smi found no GPU in the trt11 container")
    if cell.id == "deserialize:trt86>trt10:yolov5s:fp16:hc":
        return record(cell, "pass", measurements={"load_ms": 41.0})
    if cell.check == "deserialize":
        if p == c or (v == "vc" and p == "trt86"):
            return record(cell, "pass", measurements={"load_ms": 38.5})
        if v == "vc":
            return record(
                cell,
                "fail",
                "deserialize_cuda_engine returned None",
                [
                    (
                        "error",
                        "1: [stdArchiveReader.cpp::StdArchiveReader::54] Error Code 1: Serialization "
                        "(Serialization assertion stdVersionRead == kSERIALIZATION_VERSION failed.)",
                    )
                ],
            )
        return record(
            cell,
            "fail",
            "deserialize_cuda_engine returned None",
            [
                ("error", VERSION_TAG.format(cur=TAGS[c], old=TAGS[p])),
                (
                    "internal_error",
                    "2: [runtime.cpp::deserializeCudaEngine::50] Error Code 2: Internal Error "
                    "(Assertion engine->deserialize(start, size, allocator, runtime) failed. )",
                ),
            ],
        )
    if cell.check == "destroy-order" and v == "cpp-builder-first":
        return record(cell, "fail", "API-usage error logged on builder destruction", [("error", BUILDER)])
    if cell.check == "destroy-order" and v == "cpp-runtime-first":
        return record(cell, "fail", "API-usage error logged on runtime destruction", [("error", RUNTIME)])
    if cell.check == "int8" and v == "decode-plugin" and c == "trt86":
        return record(
            cell,
            "fail",
            "build_serialized_network returned None",
            [("error", "2: Assertion scales.size() == 1 failed."), ("error", SCALES)],
        )
    if cell.check == "int8" and v.startswith("decode-plugin"):
        return record(cell, "na", "implicit-batch IPluginV2IOExt decode plugin cannot be built on 10.x")
    if cell.check == "serialize" and v == "legacy" and c == "trt10":
        return record(cell, "na", "Builder.build_engine absent in 10.0")
    if cell.check == "execute" and v == "execute_async_v2" and c == "trt10":
        return record(cell, "na", "IExecutionContext.execute_async_v2 absent in 10.0")
    if cell.id == "execute:trt86>trt86:scrfd-500m:fp16:thread-no-context":
        return record(
            cell,
            "crash",
            "the check's process died",
            [("stderr", "Segmentation fault (core dumped)")],
            signal="SIGSEGV",
        )
    if cell.id == "execute:trt10>trt10:yolov5s:fp16:thread-context":
        return record(cell, "timeout", "killed after 600 s", duration_s=600.0)
    if cell.id == "exchange:trt86>trt10:-:-:artifacts":
        return record(cell, "infra_error", "artifacts/trt86/meta.json missing: the producer job uploaded nothing")
    if cell.id == "execute:trt10>trt10:retinaface-mnet:fp16:execute_async_v3":
        return record(
            cell,
            "fail",
            "outputs differ from execute_v2 (max abs diff 0.31 > 0.05)",
            [("warning", "[W] [TRT] Detected subnormal FP16 values.")],
            measurements={"latency_ms": 1.84, "max_abs_diff": 0.31},
        )
    measures: dict[str, object] = {}
    if cell.check == "execute":
        measures = {"latency_ms": 2.1 if c == "trt86" else 1.9, "max_abs_diff": 4e-4}
    elif cell.check == "int8":
        measures = {"cosine_vs_fp32": 0.994}
    return record(cell, "pass", measurements=measures)


def three_release_run(
    releases: Sequence[str] = ("trt86", "trt10", "trt11"), models: Sequence[str] = cells.DEFAULT_MODELS
) -> list[CellResult]:
    planned = cells.plan(list(releases), models=list(models), api_releases=list(releases))
    return [outcome(cell) for cell in planned]


def write_run(results: Sequence[CellResult], folder: Path) -> Path:
    """Write records as `trt-matrix run` does: one JSONL file per release and phase."""
    writers: dict[str, ResultWriter] = {}
    for r in results:
        name = result_file_name(r.consumer, r.phase)
        writers.setdefault(name, ResultWriter(folder / name)).write(r)
    return folder
