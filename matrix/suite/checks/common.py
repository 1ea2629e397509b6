"""What the GPU checks share: build from ONNX, save and find plans, run inference by each path.

Contract: `Session.open(ctx)` loads TensorRT and CUDA (explicit device, no implicit context) and a
recording logger; `build_from_onnx()` returns plan bytes or raises Fail with TensorRT's own lines;
`save_plan()` writes artifacts/<release>/<model>-<precision>-<variant>.plan with a .json sidecar
(builder release, flags, GPU, compute capability, sha256); `Inference` owns buffers for one engine
and runs `execute_v2`, `execute_async_v3` or `execute_async_v2` on the same inputs. Runs on 3.8.
"""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np

from matrix.suite import cuda as cudamod
from matrix.suite import trace, trtlog
from matrix.suite.adapter import Api, TensorInfo
from matrix.suite.outcome import CheckContext, Fail, Skip, sha256_file, write_json_atomic
from matrix.suite.schema import LogLine


class Session:
    """TensorRT + CUDA for one check process. Destroy order lives in `close()` alone."""

    def __init__(self, trt: Any, api: Api, cuda: cudamod.Cuda, logger: Any, device: int) -> None:
        self.trt, self.api, self.cuda, self.logger, self.device = trt, api, cuda, logger, device

    @classmethod
    def open(cls, ctx: CheckContext, need_cuda: bool = True) -> Session:
        import tensorrt as trt

        api = Api(trt)
        logger = trace.register(trtlog.make_logger(trt))
        device = int(ctx.options.get("device", 0))
        try:
            cuda = cudamod.load()
        except cudamod.CudaUnavailable as exc:
            if need_cuda:
                raise Skip(f"no CUDA device: {exc}") from None
            raise
        cuda.set_device(device)
        return cls(trt, api, cuda, logger, device)

    def log_lines(self) -> list[LogLine]:
        return list(self.logger.lines)

    def gpu(self) -> dict[str, str]:
        major, minor = self.cuda.compute_capability(self.device)
        return {
            "name": self.cuda.device_name(self.device),
            "compute_capability": f"{major}.{minor}",
        }

    def fail(self, reason: str, **measurements: Any) -> Fail:
        return Fail(reason, trtlog.relevant(self.log_lines()), measurements)


def read_model(ctx: CheckContext, model: str) -> tuple[bytes, dict[str, Any]]:
    onnx_bytes = ctx.model_file(model, "model.onnx").read_bytes()
    meta = json.loads(ctx.model_file(model, "meta.json").read_text(encoding="utf-8"))
    return onnx_bytes, meta


def weights_label(ctx: CheckContext, model: str) -> str:
    """'synthetic(seed=0)' or the real file's label, for every record a model's cell writes."""
    _, meta = read_model(ctx, model)
    return str(meta.get("weights", {}).get("label", "unknown"))


def read_reference(ctx: CheckContext, model: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(inputs, outputs) by tensor name from the host's ONNX Runtime reference."""
    _, meta = read_model(ctx, model)
    with np.load(str(ctx.model_file(model, "reference.npz"))) as data:
        arrays = {k: data[k] for k in data.files}
    output_names = [t["name"] for t in meta["outputs"]]
    missing = [n for n in ["input", *output_names] if n not in arrays]
    if missing:
        raise Skip("reference.npz of {} lacks {}: re-export the models".format(model, ", ".join(missing)))
    return {meta["input"]["name"]: arrays["input"]}, {n: arrays[n] for n in output_names}


def parsed_network(session: Session, onnx_bytes: bytes) -> tuple[Any, Any, Any]:
    """(builder, network, parser) with the model parsed; Fail with the parser's errors when it refuses.

    The caller owns all three and deletes them children first (the destroy-order rule)."""
    api = session.api
    builder = api.call("Builder", session.trt.Builder, session.logger)
    network = api.create_network(builder)
    parser, ok, errors = api.parse_onnx(network, session.logger, onnx_bytes)
    if not ok:
        raise session.fail("the ONNX parser refused the model: {}".format("; ".join(errors[:3]) or "no error text"))
    return builder, network, parser


def build_from_onnx(session: Session, onnx_bytes: bytes, precision: str, variant: str, calibrator: Any = None) -> bytes:
    """Parse, configure for the cell's precision and variant, and build a serialized plan."""
    api = session.api
    builder, network, parser = parsed_network(session, onnx_bytes)
    config = api.create_config(builder)
    api.set_precision(config, precision)
    if calibrator is not None:
        api.set_calibrator(config, calibrator)
    if variant == "vc":
        api.set_version_compatible(config)
    elif variant == "hc":
        api.set_hardware_compatible(config)
    plan = api.build_serialized(builder, network, config)
    del parser, network, config, builder  # children first: the destroy-order rule
    if plan is None:
        raise session.fail("build_serialized_network returned None")
    return plan


def save_plan(
    ctx: CheckContext,
    session: Session,
    plan: bytes,
    model: str,
    precision: str,
    variant: str,
    flags: list[str],
    weights: str = "",
) -> tuple[Path, str]:
    ctx.own_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.own_dir / ctx.plan_name(model, precision, variant)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(plan)
    tmp.replace(path)
    digest = sha256_file(path)
    gpu = session.gpu()
    write_json_atomic(
        path.with_suffix(".json"),
        {
            "plan": path.name,
            "builder_release": ctx.release,
            "tensorrt": session.api.version,
            "model": model,
            "precision": precision,
            "variant": variant,
            "flags": flags,
            "gpu": gpu["name"],
            "compute_capability": gpu["compute_capability"],
            "sha256": digest,
            "bytes": len(plan),
            "weights": weights,
            "api_path": list(trace.API_PATH),
            "built_at": datetime.datetime.utcnow().replace(microsecond=0).isoformat() + "Z",
        },
    )
    return path, digest


def find_plan(ctx: CheckContext, producer: str, model: str, precision: str, variant: str) -> Path:
    path = ctx.producer_dir(producer) / ctx.plan_name(model, precision, variant)
    if not path.is_file():
        raise Skip(
            f"{producer} left no plan {path.name} "
            f"(see its serialize cell serialize:{producer}>{producer}:{model}:{precision}:{variant})"
        )
    return path


class Inference:
    """Device buffers for one engine's I/O, fed with the reference inputs."""

    def __init__(self, session: Session, engine: Any) -> None:
        self.session = session
        self.api = session.api
        self.cuda = session.cuda
        self.engine = engine
        self.tensors = self.api.tensors(engine)
        self.api.static_shapes(self.tensors)
        self.context = self.api.create_context(engine)
        self.buffers: dict[str, int] = {}
        self.host: dict[str, np.ndarray] = {}
        for info in self.tensors:
            self.host[info.name] = np.zeros(info.shape, dtype=info.dtype)
            self.buffers[info.name] = self.cuda.malloc(self.host[info.name].nbytes)

    @property
    def bindings(self) -> list[int]:
        return [self.buffers[t.name] for t in sorted(self.tensors, key=lambda t: t.index)]

    def inputs(self) -> list[TensorInfo]:
        return [t for t in self.tensors if t.is_input]

    def outputs(self) -> list[TensorInfo]:
        return [t for t in self.tensors if not t.is_input]

    def load_inputs(self, inputs: dict[str, np.ndarray], stream: int | None = None) -> None:
        for info in self.inputs():
            if info.name not in inputs:
                raise Skip(
                    "the reference has no input named {!r} (engine inputs: {})".format(
                        info.name, ", ".join(t.name for t in self.inputs())
                    )
                )
            data = np.ascontiguousarray(inputs[info.name].astype(info.dtype, copy=False))
            if data.shape != self.host[info.name].shape:
                raise Fail(
                    f"input {info.name} has shape {data.shape} but the engine expects {self.host[info.name].shape}"
                )
            self.host[info.name][...] = data
            self.cuda.memcpy_htod(self.buffers[info.name], self.host[info.name], stream)

    def clear_outputs(self) -> None:
        for info in self.outputs():
            self.cuda.memset(self.buffers[info.name], 0, self.host[info.name].nbytes)

    def read_outputs(self, stream: int | None = None) -> dict[str, np.ndarray]:
        out = {}
        for info in self.outputs():
            array = np.empty_like(self.host[info.name])
            self.cuda.memcpy_dtoh(array, self.buffers[info.name], stream)
            out[info.name] = array
        if stream is not None:
            self.cuda.stream_synchronize(stream)
        return {k: v.astype(np.float32) for k, v in out.items()}

    def enqueue(self, path: str, stream: int) -> bool:
        if path == "execute_v2":
            return self.api.execute_v2(self.context, self.bindings)
        if path == "execute_async_v3":
            return self.api.execute_async_v3(self.context, self.tensors, self.bindings, stream)
        if path == "execute_async_v2":
            return self.api.execute_async_v2(self.context, self.bindings, stream)
        raise ValueError(f"unknown execute path {path!r}")

    def run(self, path: str, inputs: dict[str, np.ndarray], stream: int) -> tuple[bool, dict[str, np.ndarray]]:
        """One inference from zeroed outputs (so stale data cannot pass for a result)."""
        self.clear_outputs()
        self.load_inputs(inputs, None if path == "execute_v2" else stream)
        ok = self.enqueue(path, stream)
        if path != "execute_v2":
            self.cuda.stream_synchronize(stream)
        return ok, self.read_outputs(None if path == "execute_v2" else stream)

    def close(self) -> None:
        """Context first, then buffers: the engine and runtime are the caller's to drop, after this."""
        self.context = None
        for name in list(self.buffers):
            self.cuda.free(self.buffers.pop(name))
