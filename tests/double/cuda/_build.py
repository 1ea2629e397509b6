"""Build the driver double (libcuda_double.c) where matrix/suite/cuda.py looks for libcuda.so.1.

`ensure()` compiles it once with the C compiler into tests/double/nvidia/cuda_runtime/lib/ (ignored by
git) and returns the library path. `python tests/double/cuda/_build.py` does the same from a shell.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DOUBLE = Path(__file__).resolve().parents[1]
SOURCE = DOUBLE / "libcuda_double.c"
TARGET = DOUBLE / "nvidia" / "cuda_runtime" / "lib" / "libcuda.so.1"


def ensure() -> Path:
    if TARGET.is_file() and TARGET.stat().st_mtime >= SOURCE.stat().st_mtime:
        return TARGET
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    tmp = TARGET.with_name(f".libcuda.{os.getpid()}.so")
    subprocess.run([os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O1", "-o", str(tmp), str(SOURCE)], check=True)
    tmp.replace(TARGET)
    return TARGET


if __name__ == "__main__":
    pass
