"""destroy-order: destroy TensorRT objects in right and wrong orders; what is logged, does it crash?

Python variants (model's ONNX): `py-right`; `py-builder-first` (`del builder` while its network and
config live); `py-runtime-first` (`del runtime` while its engine lives); and
`py-build-engine-with-config` (10.6+: that path keeps no reference from the engine to the builder,
so `del builder` really destroys it first). C++ variants run the probe in cpp/destroy_order.cpp,
compiled here against this image's headers: `cpp-right`, `cpp-builder-first`, `cpp-runtime-first`
(destroy() on 8.x, delete from 10.0). A cell passes when no destroy-order API-usage error is logged
and the plan stays valid; the message, the crash (a cell of its own kind) and plan validity are
recorded either way.
"""

from __future__ import annotations

import gc
import glob
import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from matrix.suite import classify, trace, trtlog
from matrix.suite.checks.common import Inference, Session, parsed_network, read_model, read_reference
from matrix.suite.outcome import CheckContext, Fail, Outcome, Skip
from matrix.suite.schema import LogLine

SOURCE = Path(__file__).resolve().parent.parent / "cpp" / "destroy_order.cpp"
DESTROY_PATTERNS = ("destroy-order-builder", "destroy-order-runtime", "destroy-order-engine")
INCLUDE_DIRS = (
    "/usr/include/x86_64-linux-gnu",
    "/usr/include/aarch64-linux-gnu",
    "/usr/include",
    "/usr/local/tensorrt/include",
    "/opt/tensorrt/include",
    "/workspace/tensorrt/include",
)
LIB_DIRS = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/local/tensorrt/lib",
    "/opt/tensorrt/lib",
    "/workspace/tensorrt/lib",
)
CUDA_INCLUDE_DIRS = ("/usr/local/cuda/include", "/usr/local/cuda-*/include")  # globs, in order
COMPILE_TIMEOUT_S = 300
PROBE_TIMEOUT_S = 600


def _destroy_lines(lines: list[LogLine]) -> list[str]:
    texts = [x.text for x in lines]
    found: list[str] = []
    for pattern in DESTROY_PATTERNS:
        found.extend(classify.matching(texts, pattern))
    return found


def _verdict(what: str, lines: list[LogLine], plan_valid: bool | None, measurements: dict[str, Any]) -> Outcome:
    messages = _destroy_lines(lines)
    measurements["destroy_order_messages"] = len(messages)
    measurements["plan_valid"] = plan_valid
    kept = trtlog.relevant(lines)
    if messages:
        raise Fail(f"{what}: TensorRT logged an API usage error: {messages[0][:300]}", kept, measurements)
    if plan_valid is False:
        raise Fail(f"{what}: no error logged, but the plan no longer loads", kept, measurements)
    return Outcome(
        "pass",
        f"{what}: no destroy-order error logged; the plan still loads",
        measurements=measurements,
    )


def _python(ctx: CheckContext) -> Outcome:
    variant = ctx.cell.variant
    session = Session.open(ctx)
    api, logger = session.api, session.logger
    onnx_bytes, _ = read_model(ctx, ctx.cell.model)
    measurements: dict[str, Any] = {"gpu": session.gpu()}
    builder, network, parser = parsed_network(session, onnx_bytes)
    config = api.create_config(builder)
    engine: Any = None
    if variant == "py-build-engine-with-config":
        engine = api.build_engine_with_config(builder, network, config)
        if engine is None:
            raise session.fail("build_engine_with_config returned None")
        plan = api.serialize_engine(engine)
        trace.take("del builder (engine alive)")
        del parser, network, config
        del builder  # no keep_alive from engine to builder on this path: the C++ builder goes now
        gc.collect()
        inputs, _ = read_reference(ctx, ctx.cell.model)
        stream = session.cuda.stream_create()
        run = Inference(session, engine)
        try:
            usable, _outputs = run.run("execute_v2", inputs, stream)
        finally:
            run.close()
            session.cuda.stream_destroy(stream)
        measurements["engine_usable_after"] = bool(usable)
        del engine
    else:
        built = api.build_serialized(builder, network, config)
        if built is None:
            raise session.fail("build_serialized_network returned None")
        plan = built
        if variant == "py-builder-first":
            trace.take("del builder (network, config, parser alive)")
            del builder
            gc.collect()
            del parser, network, config
        else:
            del parser, network, config, builder
        gc.collect()
        runtime = api.runtime(logger)
        engine = api.deserialize(runtime, plan)
        if engine is None:
            raise session.fail("deserialize_cuda_engine returned None")
        context = api.create_context(engine)
        if variant == "py-runtime-first":
            trace.take("del runtime (engine, context alive)")
            del runtime
            gc.collect()
            del context, engine
        else:
            trace.take("del context, engine, runtime")
            del context, engine, runtime
        gc.collect()
    # Is the plan still good? A fresh runtime must load it.
    runtime2 = api.runtime(logger)
    reloaded = api.deserialize(runtime2, plan)
    plan_valid = reloaded is not None
    del reloaded, runtime2
    gc.collect()
    return _verdict(variant, session.log_lines(), plan_valid, measurements)


def _find(names: list[str], dirs: list[str]) -> str | None:
    for d in dirs:
        for name in names:
            hits = glob.glob(os.path.join(d, name))
            if hits:
                return d
    return None


def _compile(ctx: CheckContext) -> Path:
    compiler = shutil.which("g++") or shutil.which("c++")
    if compiler is None:
        raise Skip("no C++ compiler in this image (g++ not found), so the C++ probe cannot be built")
    include = _find(["NvInfer.h"], list(INCLUDE_DIRS))
    if include is None:
        raise Skip("TensorRT C++ headers (NvInfer.h) not found in this image; pip-installed TensorRT ships none")
    cuda_include = _find(
        ["cuda_runtime_api.h"], [d for pattern in CUDA_INCLUDE_DIRS for d in sorted(glob.glob(pattern))]
    )
    if cuda_include is None:
        raise Skip("CUDA headers (cuda_runtime_api.h) not found in this image")
    libdir = _find(["libnvinfer.so", "libnvinfer.so.*"], list(LIB_DIRS))
    if libdir is None:
        raise Skip("libnvinfer.so not found in the usual places, so the C++ probe cannot be linked")
    source = SOURCE.read_bytes()
    key = hashlib.sha256(source + include.encode()).hexdigest()[:12]
    binary = ctx.scratch / f"destroy_order-{key}"
    link_name = "-lnvinfer"
    if not glob.glob(os.path.join(libdir, "libnvinfer.so")):  # only the versioned SONAME: link it by path
        link_name = sorted(glob.glob(os.path.join(libdir, "libnvinfer.so.*")))[0]
    cmd = [
        compiler,
        "-std=c++14",
        "-O1",
        "-Wno-deprecated-declarations",
        "-I" + include,
        "-I" + cuda_include,
        str(SOURCE),
        "-o",
        str(binary),
        "-L" + libdir,
        link_name,
        "-Wl,-rpath," + libdir,
    ]
    trace.take("g++ destroy_order.cpp")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=COMPILE_TIMEOUT_S, check=False)
    if proc.returncode != 0:
        for line in (proc.stderr or proc.stdout).splitlines()[-15:]:
            trace.note(line)
        raise Fail(f"the C++ probe does not compile against this image's headers (exit {proc.returncode})")
    return binary


def _cpp(ctx: CheckContext) -> Outcome:
    mode = ctx.cell.variant[len("cpp-") :]
    binary = _compile(ctx)
    trace.take("C++ probe: " + mode)
    proc = subprocess.run([str(binary), mode], capture_output=True, text=True, timeout=PROBE_TIMEOUT_S, check=False)
    lines: list[LogLine] = []
    steps: list[str] = []
    plan_valid: bool | None = None
    for raw in proc.stdout.splitlines():
        parts = raw.split("\t", 2)
        if parts[0] == "LOG" and len(parts) == 3:
            lines.append(LogLine(parts[1], parts[2]))
        elif parts[0] == "STEP" and len(parts) >= 2:
            steps.append(parts[1])
        elif parts[0] == "RESULT" and len(parts) == 3 and parts[1] == "plan_valid":
            plan_valid = parts[2].strip() == "1"
    measurements: dict[str, Any] = {"steps": steps, "exit_code": proc.returncode}
    for line in proc.stderr.splitlines()[-10:]:
        lines.append(LogLine("stderr", line))
    measurements["probe_log"] = _keep_full_log(ctx, mode, proc.stdout, proc.stderr)
    measurements["probe_log_lines"] = len(lines)
    full, lines = lines, trtlog.relevant(lines)  # the record keeps what matters; the artifact keeps it all
    measurements["destroy_order_messages"] = len(_destroy_lines(full))
    if proc.returncode < 0:
        import signal as signals

        name = signals.Signals(-proc.returncode).name
        raise _Crash(
            "the C++ probe died on {} at step {!r}".format(name, steps[-1] if steps else "start"),
            name,
            lines,
            measurements,
        )
    if proc.returncode != 0:
        raise Fail(
            "the C++ probe exited with code {} at step {!r}".format(proc.returncode, steps[-1] if steps else "start"),
            lines,
            measurements,
        )
    return _verdict("C++ " + mode, lines, plan_valid, measurements)


def _keep_full_log(ctx: CheckContext, mode: str, stdout: str, stderr: str) -> str | None:
    """The probe's whole output (every VERBOSE line) as an artifact beside the plans, where the
    producer's folder is writable; its path relative to artifacts/, or None."""
    folder = ctx.own_dir / "logs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"destroy-order-cpp-{mode}.log"
        path.write_text(stdout + ("\n--- stderr ---\n" + stderr if stderr else ""), encoding="utf-8")
    except OSError as exc:
        trace.note(f"the C++ probe's full log was not kept: {exc}")
        return None
    return str(path.relative_to(ctx.artifacts))


class _Crash(Fail):
    status = "crash"

    def __init__(self, reason: str, signal_name: str, log: list[LogLine], measurements: dict[str, Any]) -> None:
        super().__init__(reason, log, measurements)
        self.signal_name = signal_name


def run(ctx: CheckContext) -> Outcome:
    if ctx.cell.variant.startswith("cpp-"):
        try:
            return _cpp(ctx)
        except _Crash as crash:
            return Outcome(
                "crash",
                crash.reason,
                log=crash.log,
                measurements=crash.measurements,
                signal=crash.signal_name,
            )
    return _python(ctx)
