"""What this environment can run: TensorRT importable? A CUDA device? trtexec? Said precisely.

Contract: `probe()` inspects the environment in a child process (an `import tensorrt` that aborts
cannot take the suite down) and returns an `Environment`; `Environment.not_runnable(needs)` gives
None when a cell with those needs can run here, else the exact reason ("tensorrt not importable:
libnvinfer.so.8: cannot open shared object file", "no CUDA device: libcuda.so.1 not found: ...").
The API-introspection stand-in library is recognised and refused: checks never run on it.
`python -m matrix.suite.environment` prints the probe as JSON. Runs on Python 3.8.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from typing import Any

PROBE_TIMEOUT_S = 120.0


@dataclasses.dataclass(frozen=True)
class Environment:
    python: str
    tensorrt_version: str | None
    tensorrt_error: str | None
    cuda_devices: list[dict[str, str]]
    cuda_error: str | None
    cuda_backend: str | None
    cuda_driver: int | None
    cuda_runtime: int | None
    trtexec: str | None
    # The version a test double of TensorRT says it behaves as (tensorrt.__trt_matrix_double__, see
    # tests/double/); None for real TensorRT. A record made with a double is never a result.
    tensorrt_double: str | None = None
    # The documented failures the double was asked to show (its scenario names); None for real TensorRT.
    tensorrt_double_faults: list[str] | None = None

    def not_runnable(self, needs: str) -> str | None:
        """None if a cell that needs `needs` ("tensorrt", "gpu", "host", "nothing") can run here."""
        if needs in ("nothing", "host"):
            return None
        missing = []
        if self.tensorrt_version is None:
            missing.append("tensorrt not importable: {}".format(self.tensorrt_error or "unknown reason"))
        if needs == "gpu" and not self.cuda_devices:
            missing.append("no CUDA device: {}".format(self.cuda_error or "none found"))
        return "; ".join(missing) or None

    @property
    def gpu(self) -> dict[str, str] | None:
        return self.cuda_devices[0] if self.cuda_devices else None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Environment:
        return cls(**{f.name: data.get(f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def loaded_standin() -> bool:
    """True if a libnvinfer mapped into this process is the API-introspection stand-in (read from its
    symbol table, without loading anything)."""
    from matrix.suite import standin_probe

    return bool(standin_probe.loaded_standins())


def _probe_here() -> dict[str, Any]:
    """Runs in the child: everything guarded, nothing guessed."""
    out: dict[str, Any] = {"python": "{}.{}.{}".format(*sys.version_info[:3])}
    try:
        import tensorrt as trt

        if loaded_standin():
            out["tensorrt_version"] = None
            out["tensorrt_error"] = (
                "this tensorrt links the API-introspection stand-in library, not TensorRT; checks never run on it"
            )
        else:
            out["tensorrt_version"] = str(getattr(trt, "__version__", "")) or None
            double = getattr(trt, "__trt_matrix_double__", None)
            out["tensorrt_double"] = str(double) if double else None
            faults = getattr(trt, "__trt_matrix_double_faults__", None) if double else None
            out["tensorrt_double_faults"] = [str(f) for f in faults] if faults is not None else None
            out["tensorrt_error"] = None if out["tensorrt_version"] else "tensorrt has no __version__"
    except Exception as exc:  # ImportError, OSError from the loader, anything the bindings raise
        out["tensorrt_version"] = None
        out["tensorrt_error"] = _short(exc)
    out["cuda_devices"] = []
    out["cuda_backend"] = out["cuda_driver"] = out["cuda_runtime"] = None
    try:
        from matrix.suite import cuda as cudamod

        cuda = cudamod.load()
        out["cuda_backend"] = cuda.backend
        out["cuda_driver"] = cuda.driver_version()
        out["cuda_runtime"] = cuda.runtime_version()
        for index in range(cuda.device_count()):
            major, minor = cuda.compute_capability(index)
            out["cuda_devices"].append(
                {
                    "index": str(index),
                    "name": cuda.device_name(index),
                    "compute_capability": f"{major}.{minor}",
                }
            )
        out["cuda_error"] = None
    except Exception as exc:
        out["cuda_error"] = _short(exc)
    from matrix.suite.bom import find_trtexec

    out["trtexec"] = find_trtexec()
    return out


def probe(python: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> Environment:
    """Probe in a child process; a crash or hang of the child is itself reported as the reason."""
    cmd = [python or sys.executable, "-m", "matrix.suite.environment", "--json"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        reason = f"the environment probe hung for {timeout:.0f} s (importing tensorrt or initialising CUDA)"
        return Environment(sys.version.split()[0], None, reason, [], reason, None, None, None, None)
    if proc.returncode != 0:
        tail = " ".join(proc.stderr.strip().splitlines()[-2:])
        reason = f"the environment probe died (exit {proc.returncode}): {tail[:300]}"
        if proc.returncode < 0:
            reason = f"importing tensorrt or initialising CUDA killed the process with signal {-proc.returncode}"
        return Environment(sys.version.split()[0], None, reason, [], reason, None, None, None, None)
    return Environment.from_json(json.loads(proc.stdout.strip().splitlines()[-1]))


if __name__ == "__main__":
    print(json.dumps(_probe_here()))  # noqa: T201 - the probe's output is its interface
