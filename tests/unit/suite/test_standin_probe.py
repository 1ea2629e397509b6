"""The stand-in probe tells a library exporting the marker from any other, without loading it.

Writes tiny shared libraries as ELF with matrix.offline.elf_so (no compiler needed), and checks the probe's
verdicts against the dynamic linker's own symbol lookup. Runs on Python 3.8 too.
"""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.offline import elf_so
from matrix.suite import standin_probe

MARKER = standin_probe.MARKER_SYMBOL
needs_writer = pytest.mark.skipif(
    not elf_so.supported(), reason=f"elf_so writes x86-64 and AArch64 libraries only, not {platform.machine()}"
)


def _library(tmp_path: Path, name: str, spec: elf_so.SharedObject) -> Path:
    out = tmp_path / f"{name}.so"
    out.write_bytes(elf_so.shared_object(spec))
    return out


@needs_writer
def test_only_a_library_defining_the_marker_is_a_standin(tmp_path: Path) -> None:
    marked = _library(tmp_path, "marked", elf_so.SharedObject(functions=["f"], data={MARKER: b"x\0"}))
    plain = _library(tmp_path, "plain", elf_so.SharedObject(functions=["createInferBuilder_INTERNAL"]))
    # A library that only *uses* the marker (an undefined reference) is not a stand-in.
    user = _library(tmp_path, "user", elf_so.SharedObject(needed=[marked.name], imports=[MARKER]))
    assert standin_probe.is_standin_library(str(marked))
    assert not standin_probe.is_standin_library(str(plain))
    assert not standin_probe.is_standin_library(str(user))
    # The dynamic linker agrees (in a child, so this process maps no stand-in): only `marked` resolves it.
    code = f"import ctypes, sys; print([hasattr(ctypes.CDLL(p), {MARKER!r}) for p in sys.argv[1:]])"
    found = subprocess.run(
        [sys.executable, "-c", code, str(marked), str(plain)], capture_output=True, text=True, check=False
    )
    assert found.stdout.strip() == "[True, False]", found.stderr


def test_non_libraries_are_not_standins(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("trt_matrix_standin_marker", encoding="utf-8")
    assert not standin_probe.is_standin_library(str(text))
    assert not standin_probe.is_standin_library(str(tmp_path / "absent.so"))
    assert not standin_probe.is_standin_library(str(tmp_path))
    elf_head = tmp_path / "cut.so"
    elf_head.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 20)
    assert not standin_probe.is_standin_library(str(elf_head))


def test_the_interpreter_itself_is_not_a_standin() -> None:
    assert not standin_probe.is_standin_library(sys.executable)
    assert standin_probe.loaded_standins() == []


@needs_writer
def test_loaded_standins_reads_the_process_map(tmp_path: Path) -> None:
    marked = _library(tmp_path, "libnvinfer", elf_so.SharedObject(data={MARKER: b"x\0"}))
    maps = tmp_path / "maps"
    maps.write_text(
        f"7f00-7f01 r-xp 00000000 08:01 1 {marked}\n7f01-7f02 r--p 00000000 08:01 2 /usr/lib/libc.so.6\n"
        "7f02-7f03 rw-p 00000000 00:00 0 [heap]\n",
        encoding="utf-8",
    )
    assert standin_probe.mapped_libraries(str(maps)) == [str(marked), "/usr/lib/libc.so.6"]
    assert standin_probe.loaded_standins(str(maps)) == [str(marked)]
    assert standin_probe.loaded_standins(str(tmp_path / "no-maps")) == []
