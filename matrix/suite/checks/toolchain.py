"""toolchain: do trtexec, the Python bindings and libnvinfer agree, and do their plans travel?

Variants: `version` (the bindings' `tensorrt.__version__`, the loaded libnvinfer's
`getInferLibVersion()` and trtexec's banner must name one release: two installations in one
environment is the classic cause of "deserialize_cuda_engine returned None"), `trtexec-to-python`
(a plan trtexec builds loads in Python) and `python-to-trtexec` (the reverse).
"""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path
from typing import Any

from matrix.suite import bom, trace
from matrix.suite.checks.common import Session, build_from_onnx, read_model
from matrix.suite.outcome import CheckContext, Fail, NotApplicable, Outcome
from matrix.suite.schema import LogLine

TRTEXEC_TIMEOUT_S = 900


def libnvinfer_version() -> str | None:
    """The version the libnvinfer mapped into this process reports, or None if none is mapped."""
    try:
        with open("/proc/self/maps", encoding="utf-8") as handle:
            paths = sorted({line.split()[-1] for line in handle if re.search(r"/libnvinfer\.so", line)})
    except OSError:
        return None
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            return bom.decode_tensorrt_number(int(lib.getInferLibVersion()))
        except (OSError, AttributeError):
            continue
    return None


def _trtexec_banner_version(path: str) -> str | None:
    try:
        proc = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    parsed = bom.parse_trtexec_banner(proc.stdout + proc.stderr)
    return parsed[0] if parsed else None


def _release_of(version: str | None) -> str | None:
    return ".".join(version.split(".")[:3]) if version else None


def _trtexec(args: list[str], scratch: Path) -> subprocess.CompletedProcess[str]:
    path = bom.find_trtexec()
    if path is None:
        raise NotApplicable("no trtexec in this image (pip-installed TensorRT ships none)")
    trace.take("trtexec " + args[0].split("=")[0])
    return subprocess.run(
        [path, *args],
        capture_output=True,
        text=True,
        timeout=TRTEXEC_TIMEOUT_S,
        cwd=str(scratch),
        check=False,
    )


def _trtexec_lines(proc: subprocess.CompletedProcess[str]) -> list[LogLine]:
    """trtexec's error and warning lines; where it failed without one (it died, or printed only a stack),
    the tail of what it wrote, so the record still says why."""
    out = []
    for line in (proc.stdout + proc.stderr).splitlines():
        if "[E]" in line:
            out.append(LogLine("error", line.strip()))
        elif "[W]" in line:
            out.append(LogLine("warning", line.strip()))
    if proc.returncode != 0 and not any(x.severity == "error" for x in out):
        tail = [x.strip() for x in (proc.stdout + "\n" + proc.stderr).splitlines() if x.strip()][-10:]
        out.extend(LogLine("stderr", x[:500]) for x in tail)
    return out[-30:]


def _version(ctx: CheckContext) -> Outcome:
    import tensorrt as trt

    trace.take("tensorrt.__version__")
    bindings = str(trt.__version__)
    library = libnvinfer_version()
    trace.take("getInferLibVersion")
    found: dict[str, Any] = {"python_bindings": bindings, "libnvinfer": library}
    path = bom.find_trtexec()
    found["trtexec"] = _trtexec_banner_version(path) if path else None
    found["trtexec_path"] = path
    releases = {k: _release_of(v) for k, v in found.items() if k != "trtexec_path" and v}
    if len(set(releases.values())) > 1:
        raise Fail(
            "two TensorRT installations: " + ", ".join(f"{k} {v}" for k, v in sorted(releases.items())),
            measurements=found,
        )
    if path is None:
        raise NotApplicable(
            "no trtexec in this image (pip-installed TensorRT ships none); bindings {} and libnvinfer {} agree".format(
                bindings, library or "(not read)"
            )
        )
    if found["trtexec"] is None:
        raise Fail(f"trtexec at {path} printed no version banner", measurements=found)
    return Outcome(
        "pass",
        "bindings {}, libnvinfer {}, trtexec {} agree".format(bindings, library, found["trtexec"]),
        measurements=found,
    )


def _trtexec_to_python(ctx: CheckContext) -> Outcome:
    onnx_path = ctx.model_file(ctx.cell.model, "model.onnx")
    plan_path = ctx.scratch / "trtexec.plan"
    proc = _trtexec([f"--onnx={onnx_path}", f"--saveEngine={plan_path}"], ctx.scratch)
    if proc.returncode != 0 or not plan_path.is_file():
        raise Fail(f"trtexec could not build the plan (exit {proc.returncode})", _trtexec_lines(proc))
    session = Session.open(ctx)
    runtime = session.api.runtime(session.logger)
    engine = session.api.deserialize(runtime, plan_path.read_bytes())
    if engine is None:
        raise session.fail("Python's deserialize_cuda_engine refused trtexec's plan")
    return Outcome(
        "pass",
        "a plan built by trtexec loads in Python",
        measurements={"plan_bytes": plan_path.stat().st_size},
    )


def _python_to_trtexec(ctx: CheckContext) -> Outcome:
    session = Session.open(ctx)
    onnx_bytes, _ = read_model(ctx, ctx.cell.model)
    plan = build_from_onnx(session, onnx_bytes, "fp32", "onnx")
    plan_path = ctx.scratch / "python.plan"
    plan_path.write_bytes(plan)
    proc = _trtexec([f"--loadEngine={plan_path}"], ctx.scratch)
    text = proc.stdout + proc.stderr
    if proc.returncode != 0 or "PASSED" not in text:
        raise Fail(
            f"trtexec could not load the Python-built plan (exit {proc.returncode})",
            _trtexec_lines(proc),
        )
    return Outcome("pass", "a plan built in Python loads and runs in trtexec", measurements={"plan_bytes": len(plan)})


def run(ctx: CheckContext) -> Outcome:
    variant = ctx.cell.variant
    if variant == "version":
        return _version(ctx)
    if variant == "trtexec-to-python":
        return _trtexec_to_python(ctx)
    if variant == "python-to-trtexec":
        return _python_to_trtexec(ctx)
    raise ValueError(f"unknown toolchain variant {variant!r}")
