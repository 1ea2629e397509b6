"""Bill of materials: what this machine or image really carries, read from itself.

Contract: `probe()` returns a JSON-ready dict (schema `trt-matrix.bom/1`) with one key per fact in
`FACTS`. A fact that could not be read is None and `notes[fact]` says why; `sources[fact]` says where
a present one was read. Nothing is guessed and nothing comes from the catalogue. Every sub-probe is
guarded and time-limited; imports and libcuda/libcudart calls run in a child interpreter, so a crash
there cannot kill the probe. Python 3.8, standard library only; also runs as a script
(`python3 bom.py` or `python3 -m matrix.suite.bom` prints the JSON).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

SCHEMA = "trt-matrix.bom/1"
CHILD_TIMEOUT_S = 60.0
TOOL_TIMEOUT_S = 20.0
TRTEXEC_CANDIDATES = (
    "/usr/src/tensorrt/bin/trtexec",
    "/opt/tensorrt/bin/trtexec",
    "/usr/local/bin/trtexec",
    "/workspace/tensorrt/bin/trtexec",
)
_BANNER = re.compile(r"\[TensorRT v(\d{4,6})\]")


class Absent(Exception):
    """A fact that could not be read; the message is the note saying why."""


def decode_tensorrt_number(number: int) -> str:
    """8601 -> '8.6.1', 100001 -> '10.0.1' (NV_TENSORRT_VERSION grew a digit at 10.0)."""
    if number >= 100000:
        return f"{number // 10000}.{(number // 100) % 100}.{number % 100}"
    return f"{number // 1000}.{(number // 100) % 10}.{number % 100}"


def parse_trtexec_banner(text: str) -> tuple[str, str] | None:
    """('8.6.1', '[TensorRT v8601]') from trtexec output, or None when it holds no banner."""
    match = _BANNER.search(text)
    if not match:
        return None
    return decode_tensorrt_number(int(match.group(1))), match.group(0)


def parse_os_release(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        if "=" not in line or line.lstrip().startswith("#"):
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _last_line(text: str, limit: int = 300) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][-limit:] if lines else ""


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def run_tool(argv: list[str], timeout: float = TOOL_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """Run a command with a time limit; Absent when it cannot start or does not finish."""
    try:
        return subprocess.run(
            argv,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
            text=True,
            errors="replace",
        )
    except subprocess.TimeoutExpired:
        raise Absent(f"{' '.join(argv[:2])} did not finish within {timeout:g} s") from None
    except OSError as exc:
        raise Absent(f"cannot run {argv[0]}: {exc.strerror or exc}") from None


def python_child(code: str, timeout: float = CHILD_TIMEOUT_S, args: list[str] | None = None) -> str:
    """Run `code` in a fresh interpreter: its last stdout line, or Absent with its error line."""
    result = run_tool([sys.executable, "-c", code, *(args or [])], timeout=timeout)
    if result.returncode < 0:
        raise Absent(f"the child process was killed by {_signal_name(result.returncode)}")
    if result.returncode != 0:
        raise Absent(_last_line(result.stderr) or f"the child process exited with {result.returncode}")
    out = _last_line(result.stdout)
    if not out:
        raise Absent("the child process printed nothing")
    return out


def probe_os() -> dict[str, Any]:
    for name in ("/etc/os-release", "/usr/lib/os-release"):
        try:
            values = parse_os_release(Path(name).read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
        if values.get("PRETTY_NAME"):
            return {"value": values["PRETTY_NAME"], "source": name}
        raise Absent(f"{name} has no PRETTY_NAME")
    raise Absent("no /etc/os-release or /usr/lib/os-release")


def probe_python() -> dict[str, Any]:
    return {"value": platform.python_version(), "source": sys.executable}


def probe_numpy() -> dict[str, Any]:
    out = python_child("import numpy; print(numpy.__version__ + ' ' + str(numpy.__file__))")
    version, _, where = out.partition(" ")
    return {"value": version, "source": where}


def probe_tensorrt_python() -> dict[str, Any]:
    out = python_child("import tensorrt; print(tensorrt.__version__ + ' ' + str(tensorrt.__file__))")
    version, _, where = out.partition(" ")
    return {"value": version, "source": where}


def find_trtexec() -> str | None:
    """trtexec on PATH or where NGC images put it; None when absent."""
    found = shutil.which("trtexec")
    if found:
        return found
    for candidate in TRTEXEC_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def probe_tensorrt_trtexec() -> dict[str, Any]:
    path = find_trtexec()
    if path is None:
        raise Absent("no trtexec on PATH or in " + ", ".join(TRTEXEC_CANDIDATES))
    result = run_tool([path, "--help"])
    parsed = parse_trtexec_banner(result.stdout + "\n" + result.stderr)
    if parsed is None:
        if result.returncode < 0:
            raise Absent(f"{path} --help was killed by {_signal_name(result.returncode)}")
        tail = _last_line(result.stderr) or _last_line(result.stdout) or "no output"
        raise Absent(f"{path} --help printed no [TensorRT vNNNN] banner: {tail}")
    return {"value": parsed[0], "source": f"{path}: {parsed[1]}"}


def _ldconfig(prefix: str) -> list[str]:
    """Paths of libraries named `prefix*` in the dynamic linker's cache."""
    tool = shutil.which("ldconfig") or ("/sbin/ldconfig" if os.access("/sbin/ldconfig", os.X_OK) else None)
    if tool is None:
        return []
    try:
        result = run_tool([tool, "-p"])
    except Absent:
        return []
    paths = []
    for line in result.stdout.splitlines():
        if line.strip().startswith(prefix) and "=>" in line:
            paths.append(line.rsplit("=>", 1)[1].strip())
    return paths


def _site_dirs() -> list[Path]:
    return [Path(p) for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]


def _glob(root: str, pattern: str) -> list[str]:
    base = Path(root)
    return [str(p) for p in sorted(base.glob(pattern))] if base.is_dir() else []


def _versioned(paths: list[str], stem: str) -> tuple[str, str] | None:
    """(version suffix, real path) of the most specific `stem.so.X[.Y.Z]` among `paths`."""
    best: tuple[str, str] | None = None
    for path in paths:
        real = os.path.realpath(path)
        match = re.search(re.escape(stem) + r"\.so\.([0-9][0-9.]*)$", Path(real).name)
        if match and (best is None or len(match.group(1)) > len(best[0])):
            best = (match.group(1).rstrip("."), real)
    return best


def probe_libnvinfer() -> dict[str, Any]:
    notes = []
    dpkg = shutil.which("dpkg-query")
    if dpkg:
        result = run_tool([dpkg, "-W", "-f", "${db:Status-Abbrev} ${Package} ${Version}\\n", "libnvinfer*"])
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[0] == "ii" and re.match(r"^libnvinfer\d+$", parts[1]):
                return {"value": parts[2], "source": f"dpkg: {parts[1]} {parts[2]}"}
        notes.append("no libnvinferN package installed (dpkg)")
    else:
        notes.append("no dpkg-query")
    found = _ldconfig("libnvinfer.so")
    for site in _site_dirs():
        found.extend(_glob(str(site), "tensorrt*/libnvinfer.so*"))
    versioned = _versioned(found, "libnvinfer")
    if versioned:
        return {"value": versioned[0], "source": versioned[1]}
    notes.append("no libnvinfer.so in the ldconfig cache or in site-packages/tensorrt*")
    raise Absent("; ".join(notes))


_CUDART_CODE = """
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
version = ctypes.c_int()
rc = lib.cudaRuntimeGetVersion(ctypes.byref(version))
if rc != 0:
    raise SystemExit('cudaRuntimeGetVersion returned %d' % rc)
print('%d.%d' % (version.value // 1000, version.value % 1000 // 10))
"""


def probe_cuda_runtime() -> dict[str, Any]:
    found = _ldconfig("libcudart.so")
    found.extend(_glob("/usr/local", "cuda*/lib64/libcudart.so*"))
    found.extend(_glob("/usr/local", "cuda*/targets/*/lib/libcudart.so*"))
    for site in _site_dirs():
        found.extend(_glob(str(site), "nvidia/cuda_runtime/lib/libcudart.so*"))
    versioned = _versioned(found, "libcudart")
    if versioned is None:
        raise Absent("no libcudart.so in the ldconfig cache, /usr/local/cuda*, or site-packages/nvidia")
    suffix, real = versioned
    result = run_tool([sys.executable, "-c", _CUDART_CODE, real], timeout=CHILD_TIMEOUT_S)
    if result.returncode == 0 and _last_line(result.stdout):
        return {"value": _last_line(result.stdout), "source": f"cudaRuntimeGetVersion() in {real}"}
    why = _last_line(result.stderr) or f"exit status {result.returncode}"
    return {"value": suffix, "source": f"file name {real} (cudaRuntimeGetVersion failed: {why})"}


def probe_cuda_env() -> dict[str, Any]:
    value = os.environ.get("CUDA_VERSION", "").strip()
    if not value:
        raise Absent("CUDA_VERSION is not set in the environment")
    return {"value": value, "source": "environment variable CUDA_VERSION"}


def probe_nvcc() -> dict[str, Any]:
    path = shutil.which("nvcc") or next(iter(_glob("/usr/local", "cuda*/bin/nvcc")), None)
    if path is None:
        raise Absent("no nvcc on PATH or in /usr/local/cuda*/bin")
    result = run_tool([path, "--version"])
    match = re.search(r"release ([0-9.]+), V([0-9.]+)", result.stdout)
    if not match:
        raise Absent(f"{path} --version printed no 'release X.Y, VX.Y.Z' line")
    return {"value": match.group(2), "source": path}


_CUDA_PYTHON_CODE = """
import importlib.metadata as m
for name in ('cuda-python', 'cuda-bindings'):
    try:
        print(name + ' ' + m.version(name))
        break
    except m.PackageNotFoundError:
        pass
else:
    raise SystemExit('neither cuda-python nor cuda-bindings is installed')
"""


def probe_cuda_python() -> dict[str, Any]:
    name, _, version = python_child(_CUDA_PYTHON_CODE).partition(" ")
    return {"value": version, "source": "distribution " + name}


_LIBCUDA_CODE = """
import ctypes, json, sys
DRIVER = sys.argv[1] or None
try:
    cuda = ctypes.CDLL('libcuda.so.1')
except OSError as exc:
    raise SystemExit('libcuda.so.1 cannot be loaded, no NVIDIA driver is visible here (%s)' % exc)
rc = cuda.cuInit(0)
if rc != 0:
    name = ctypes.c_char_p()
    cuda.cuGetErrorName(rc, ctypes.byref(name))
    raise SystemExit('cuInit(0) returned %d (%s)' % (rc, (name.value or b'unnamed').decode()))
version, count = ctypes.c_int(), ctypes.c_int()
cuda.cuDriverGetVersion(ctypes.byref(version))
cuda.cuDeviceGetCount(ctypes.byref(count))
gpus = []
for index in range(count.value):
    device, major, minor = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    cuda.cuDeviceGet(ctypes.byref(device), index)
    name = ctypes.create_string_buffer(256)
    cuda.cuDeviceGetName(name, 256, device)
    cuda.cuDeviceGetAttribute(ctypes.byref(major), 75, device)
    cuda.cuDeviceGetAttribute(ctypes.byref(minor), 76, device)
    gpus.append({'name': name.value.decode(), 'driver': DRIVER,
                 'compute_capability': '%d.%d' % (major.value, minor.value),
                 'driver_cuda': '%d.%d' % (version.value // 1000, version.value % 1000 // 10)})
if not gpus:
    raise SystemExit('libcuda reports no CUDA device')
print(json.dumps(gpus))
"""


def parse_nvidia_driver(text: str) -> str | None:
    """'580.159.04' from /proc/driver/nvidia/version ('NVRM version: ... Kernel Module  580.159.04 ...')."""
    match = re.search(r"NVRM version:.*?\s(\d+\.\d+(?:\.\d+)?)\s", text + " ")
    return match.group(1) if match else None


def _proc_driver() -> str | None:
    try:
        return parse_nvidia_driver(Path("/proc/driver/nvidia/version").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return None


def probe_gpu() -> dict[str, Any]:
    notes = []
    smi = shutil.which("nvidia-smi")
    if smi:
        result = run_tool([smi, "--query-gpu=name,driver_version,compute_cap", "--format=csv,noheader"])
        gpus = []
        for line in result.stdout.strip().splitlines() if result.returncode == 0 else []:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) == 3:
                gpus.append({"name": parts[0], "driver": parts[1], "compute_capability": parts[2]})
        if gpus:
            return {"value": gpus, "source": "nvidia-smi"}
        said = _last_line(result.stdout + "\n" + result.stderr) or "no output"
        notes.append(f"nvidia-smi failed: {said}")
    else:
        notes.append("no nvidia-smi on PATH")
    try:
        gpus = json.loads(python_child(_LIBCUDA_CODE, args=[_proc_driver() or ""]))
        return {"value": gpus, "source": "libcuda.so.1 (driver from /proc/driver/nvidia/version)"}
    except Absent as exc:
        notes.append(str(exc))
    raise Absent("; ".join(notes))


PROBES: tuple[tuple[str, Callable[[], dict[str, Any]]], ...] = (
    ("os", probe_os),
    ("python", probe_python),
    ("numpy", probe_numpy),
    ("tensorrt_python", probe_tensorrt_python),
    ("tensorrt_trtexec", probe_tensorrt_trtexec),
    ("libnvinfer", probe_libnvinfer),
    ("cuda_runtime", probe_cuda_runtime),
    ("cuda_env", probe_cuda_env),
    ("nvcc", probe_nvcc),
    ("cuda_python", probe_cuda_python),
    ("gpu", probe_gpu),
)
FACTS = tuple(name for name, _ in PROBES)


def probe(skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Read every fact; an absent one is None with a note. `skip` names facts not to probe."""
    started = time.monotonic()
    bom: dict[str, Any] = {"schema": SCHEMA}
    notes: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, function in PROBES:
        if name in skip:
            bom[name] = None
            notes[name] = "not probed (skipped on request)"
            continue
        try:
            found = function()
        except Absent as exc:
            bom[name] = None
            notes[name] = str(exc)
            continue
        except Exception as exc:  # a bug in one probe must not lose the other facts
            bom[name] = None
            notes[name] = f"probe error: {type(exc).__name__}: {exc}"
            continue
        bom[name] = found["value"]
        if found.get("source"):
            sources[name] = str(found["source"])
    bom["notes"] = notes
    bom["sources"] = sources
    bom["probe_seconds"] = round(time.monotonic() - started, 3)
    return bom


RECORD_FACTS = (
    "tensorrt_python",
    "tensorrt_trtexec",
    "libnvinfer",
    "cuda_runtime",
    "cuda_python",
    "python",
    "numpy",
    "os",
)


def flat(bom: dict[str, Any]) -> dict[str, Any]:
    """The facts a result record keeps, one flat level: absent ones stay None (shown as absent)."""
    out: dict[str, Any] = {name: bom.get(name) for name in RECORD_FACTS}
    gpus = bom.get("gpu") or []
    first = gpus[0] if gpus else {}
    out["gpu"] = first.get("name")
    out["compute_capability"] = first.get("compute_capability")
    out["driver"] = first.get("driver")
    if len(gpus) > 1:
        out["gpu_count"] = len(gpus)
    return out


def main(argv: list[str] | None = None) -> int:
    """`--skip=FACT` (repeatable) leaves a fact out; prints the BOM as JSON on stdout."""
    args = sys.argv[1:] if argv is None else argv
    skip = tuple(a.split("=", 1)[1] for a in args if a.startswith("--skip="))
    sys.stdout.write(json.dumps(probe(skip=skip), indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
