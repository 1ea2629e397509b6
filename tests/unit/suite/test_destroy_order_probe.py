"""The C++ destroy-order probe compiles against every release's headers (compile only: no libnvinfer here).

The headers are NVIDIA's, never committed: fetch NVIDIA/TensorRT and `git archive <tag> include | tar -x -C
third_party/trt-<tag>`. Each tag without them is skipped, saying so; so is a machine without g++ or CUDA
headers. Inside the images the probe is compiled and linked against the image's own TensorRT.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
from pathlib import Path

import pytest

from matrix.suite.checks.destroy_order import SOURCE

ROOT = Path(__file__).resolve().parents[3]
TAGS = ["8.4.3", "8.5.3", "v8.6.1", "v10.0.1", "v10.8.0", "v11.1"]


@pytest.mark.parametrize("tag", TAGS)
def test_the_probe_compiles_against_the_release_headers(tag: str) -> None:
    include = ROOT / "third_party" / f"trt-{tag}" / "include"
    if not (include / "NvInfer.h").is_file():
        pytest.skip(
            f"{include} absent: fetch NVIDIA/TensorRT, then `git archive {tag} include | tar -x -C "
            f"third_party/trt-{tag}`"
        )
    compiler = shutil.which("g++")
    cuda = sorted(glob.glob("/usr/local/cuda*/include/cuda_runtime_api.h"))
    if compiler is None or not cuda:
        pytest.skip("needs g++ and the CUDA headers (cuda_runtime_api.h) to compile against")
    proc = subprocess.run(
        [
            compiler,
            "-std=c++14",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Wno-deprecated-declarations",
            "-isystem",
            str(include),
            "-isystem",
            str(Path(cuda[-1]).parent),
            str(SOURCE),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "warning" not in proc.stderr, proc.stderr[-3000:]
