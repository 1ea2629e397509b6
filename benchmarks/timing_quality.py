"""Benchmark 6: how trustworthy is the execute check's timing method on a real GPU?

Runs the suite's own method (matrix.suite.timing.measure_events: warm-up, repeats, CUDA events,
median and p90) on GPU workloads that need no TensorRT: a compute kernel of about 1 ms (a detector
engine's scale; compiled with nvcc on the spot and launched through the driver API), the same kernel
cut to tens of microseconds (where launch latency dominates), a device-to-device copy, and a
host-to-device copy from pinned memory. Each workload is measured RUNS times; the figures are the spread of the
per-run medians (max/min and coefficient of variation) and each run's p90/median. Also times the
same kernel with the host clock around a synchronize, to show what events remove.

Target: the run-to-run spread of the kernel's median is within 5% (max/min <= 1.05).
TIMING_BACKEND=ctypes|cuda-python picks the CUDA backend (default: cuda-python when installed).
Needs a CUDA device and nvcc; prints why and exits 0 with met=false when either is absent.
Last line: one JSON object {name, figures, target, met}.
"""

from __future__ import annotations

import ctypes
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matrix.suite import cuda as cudamod
from matrix.suite import timing

RUNS = int(os.environ.get("TIMING_RUNS", "20"))
WARMUP, REPEATS = timing.WARMUP, timing.REPEATS
N = 1 << 22  # elements for the kernel (16 MiB of float32)
KERNEL_ITERS = int(os.environ.get("TIMING_KERNEL_ITERS", "4096"))  # about 1 ms on an H100: a detector engine's scale

KERNEL = r"""
extern "C" __global__ void saxpy_loop(float a, const float* x, float* y, int n, int iters) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        float v = y[i];
        for (int k = 0; k < iters; ++k) v = a * x[i] + v * 0.999f;
        y[i] = v;
    }
}
"""


def result(figures: dict[str, Any], met: bool, note: str = "") -> None:
    out = {
        "name": "timing_quality",
        "figures": figures,
        "target": "kernel median max/min across runs <= 1.05",
        "met": met,
    }
    if note:
        out["note"] = note
    print(json.dumps(out))


def compile_kernel(cc: tuple[int, int], workdir: Path) -> Path:
    nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
    src, cubin = workdir / "k.cu", workdir / "k.cubin"
    src.write_text(KERNEL, encoding="utf-8")
    subprocess.run([nvcc, "-cubin", f"-arch=sm_{cc[0]}{cc[1]}", "-O3", "-o", str(cubin), str(src)], check=True)
    return cubin


class Kernel:
    """cuModuleLoad + cuLaunchKernel through ctypes (driver API; current context = primary)."""

    def __init__(self, cubin: Path) -> None:
        self.lib = ctypes.CDLL("libcuda.so.1")
        module, func = ctypes.c_void_p(), ctypes.c_void_p()
        self._check(self.lib.cuModuleLoad(ctypes.byref(module), str(cubin).encode()), "cuModuleLoad")
        self._check(self.lib.cuModuleGetFunction(ctypes.byref(func), module, b"saxpy_loop"), "cuModuleGetFunction")
        self.func = func

    @staticmethod
    def _check(status: int, call: str) -> None:
        if status != 0:
            raise RuntimeError(f"{call} failed with CUresult {status}")

    def launch(self, stream: int, x: int, y: int, iters: int) -> None:
        values = (ctypes.c_float(1.5), ctypes.c_void_p(x), ctypes.c_void_p(y), ctypes.c_int(N), ctypes.c_int(iters))
        args = (ctypes.c_void_p * 5)(*[ctypes.cast(ctypes.pointer(v), ctypes.c_void_p) for v in values])
        block = 256
        grid = (N + block - 1) // block
        self._check(
            self.lib.cuLaunchKernel(self.func, grid, 1, 1, block, 1, 1, 0, ctypes.c_void_p(stream), args, None),
            "cuLaunchKernel",
        )


def spread(medians: list[float]) -> dict[str, float]:
    return {
        "median_of_medians_ms": round(statistics.median(medians), 5),
        "max_over_min": round(max(medians) / min(medians), 4),
        "cv_percent": round(100 * statistics.pstdev(medians) / statistics.fmean(medians), 3),
    }


def main() -> int:
    try:
        cuda = cudamod.load(os.environ.get("TIMING_BACKEND", "auto"))
    except cudamod.CudaUnavailable as exc:
        result({}, False, f"not run: no CUDA device ({exc})")
        return 0
    cuda.set_device(0)
    cc = cuda.compute_capability(0)
    machine = {
        "gpu": cuda.device_name(0),
        "compute_capability": f"{cc[0]}.{cc[1]}",
        "backend": cuda.backend,
        "driver": cuda.driver_version(),
        "runtime": cuda.runtime_version(),
        "host": platform.node(),
        "date": time.strftime("%Y-%m-%d"),
        "runs": RUNS,
        "warmup": WARMUP,
        "repeats": REPEATS,
    }
    with tempfile.TemporaryDirectory() as tmp:
        try:
            kernel = Kernel(compile_kernel(cc, Path(tmp)))
        except (OSError, subprocess.CalledProcessError, RuntimeError) as exc:
            result({"machine": machine}, False, f"not run: cannot build the kernel ({exc})")
            return 0
    x, y = cuda.malloc(N * 4), cuda.malloc(N * 4)
    big = 256 << 20
    a, b = cuda.malloc(big), cuda.malloc(big)
    pinned = cuda.host_alloc((16 << 20,), "uint8")
    hbuf = cuda.malloc(pinned.nbytes)
    stream = cuda.stream_create()
    workloads = {
        "kernel": lambda s: kernel.launch(s, x, y, KERNEL_ITERS),
        "kernel_tiny": lambda s: kernel.launch(s, x, y, 16),
        "d2d_copy_256MiB": lambda s: cuda.memcpy_dtod(b, a, big, s),
        "h2d_copy_16MiB_pinned": lambda s: cuda.memcpy_htod(hbuf, pinned, s),
    }
    figures: dict[str, Any] = {"machine": machine}
    for name, enqueue in workloads.items():
        runs = [timing.measure_events(cuda, stream, enqueue, WARMUP, REPEATS) for _ in range(RUNS)]
        medians = [r["median_ms"] for r in runs]
        figures[name] = {
            **spread(medians),
            "p90_over_median_worst": max(r["p90_over_median"] for r in runs),
            "p90_over_median_median": statistics.median(r["p90_over_median"] for r in runs),
        }

    def host_timed_kernel() -> None:
        kernel.launch(stream, x, y, KERNEL_ITERS)
        cuda.stream_synchronize(stream)

    host_runs = [timing.measure_host(host_timed_kernel, WARMUP, REPEATS) for _ in range(RUNS)]
    figures["kernel_host_clock"] = {
        **spread([r["median_ms"] for r in host_runs]),
        "p90_over_median_worst": max(r["p90_over_median"] for r in host_runs),
    }
    figures["host_clock_over_events"] = round(
        figures["kernel_host_clock"]["median_of_medians_ms"] / figures["kernel"]["median_of_medians_ms"], 4
    )
    cuda.stream_destroy(stream)
    for ptr in (x, y, a, b, hbuf):
        cuda.free(ptr)
    cuda.free_host_all()
    met = figures["kernel"]["max_over_min"] <= 1.05
    result(figures, met)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
