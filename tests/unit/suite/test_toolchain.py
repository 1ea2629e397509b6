"""The toolchain check's helpers that need no TensorRT: which libnvinfer is mapped into the process and
what it says its version is, a trtexec that cannot be run, an unknown variant. The checks' paths through
the bindings are tests/double/test_toolchain_check.py's.

libnvinfer here is a library written by matrix.offline.elf_so (no compiler): its getInferLibVersion
returns 0, which reads as "0.0.0"; what is tested is that the mapped library is found and asked.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.offline import elf_so
from matrix.suite.cells import Cell
from matrix.suite.checks import toolchain
from matrix.suite.outcome import CheckContext

ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import ctypes, json, sys
for path in sys.argv[1:]:
    ctypes.CDLL(path)
from matrix.suite.checks import toolchain
print(json.dumps(toolchain.libnvinfer_version()))
"""


def _version_with(tmp_path: Path, libraries: dict[str, elf_so.SharedObject]) -> object:
    """libnvinfer_version() in a fresh interpreter that has mapped these libraries first."""
    paths = []
    for name, spec in libraries.items():
        path = tmp_path / name
        path.write_bytes(elf_so.shared_object(spec))
        paths.append(str(path))
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *paths], capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


needs_elf = pytest.mark.skipif(not elf_so.supported(), reason=f"elf_so writes no library for {platform.machine()}")


@needs_elf
def test_the_mapped_libnvinfer_is_asked_its_version(tmp_path: Path) -> None:
    spec = elf_so.SharedObject(functions=["getInferLibVersion"], soname="libnvinfer.so.10")
    assert _version_with(tmp_path, {"libnvinfer.so.10": spec}) == "0.0.0"


@needs_elf
def test_a_libnvinfer_without_the_version_function_is_passed_over(tmp_path: Path) -> None:
    libraries = {
        "libnvinfer.so.8": elf_so.SharedObject(functions=["createInferRuntime_INTERNAL"]),
        "libnvinfer_plugin.so.8": elf_so.SharedObject(functions=["getInferLibVersion"]),  # not libnvinfer itself
    }
    assert _version_with(tmp_path, libraries) is None


def test_no_libnvinfer_mapped_gives_none() -> None:
    assert toolchain.libnvinfer_version() is None


def test_a_trtexec_that_cannot_be_executed_has_no_banner(tmp_path: Path) -> None:
    not_executable = tmp_path / "trtexec"
    not_executable.write_text("#!/bin/sh\necho '[TensorRT v100800]'\n", encoding="utf-8")
    assert toolchain._trtexec_banner_version(str(not_executable)) is None
    not_executable.chmod(0o755)
    assert toolchain._trtexec_banner_version(str(not_executable)) == "10.8.0"


def test_an_unknown_variant_is_a_harness_error(tmp_path: Path) -> None:
    cell = Cell("toolchain", "trt10", "trt10", "-", "-", "trtexec-twice", phase=1, needs="gpu")
    with pytest.raises(ValueError, match="unknown toolchain variant 'trtexec-twice'"):
        toolchain.run(CheckContext(cell, "trt10", tmp_path, tmp_path))
