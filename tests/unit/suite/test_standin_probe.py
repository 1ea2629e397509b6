"""The stand-in probe tells a library exporting the marker from any other, without loading it.

Compiles two tiny shared libraries with the system C compiler (skipped, saying so, without one).
Runs on Python 3.8 too.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.suite import standin_probe

CC = shutil.which("cc") or shutil.which("gcc")
MARKER = standin_probe.MARKER_SYMBOL
needs_cc = pytest.mark.skipif(CC is None, reason="no C compiler (cc) to build test libraries")


def _library(tmp_path: Path, name: str, source: str) -> Path:
    assert CC is not None
    (tmp_path / f"{name}.c").write_text(source, encoding="utf-8")
    out = tmp_path / f"{name}.so"
    subprocess.run([CC, "-shared", "-fPIC", "-o", str(out), str(tmp_path / f"{name}.c")], check=True)
    return out


@needs_cc
def test_only_a_library_defining_the_marker_is_a_standin(tmp_path: Path) -> None:
    marked = _library(
        tmp_path,
        "marked",
        f'const char {standin_probe.MARKER_SYMBOL}[] = "x";\nint f(void) {{ return 0; }}\n',
    )
    plain = _library(tmp_path, "plain", "int createInferBuilder_INTERNAL(void) { return 0; }\n")
    # A library that only *uses* the marker (an undefined reference) is not a stand-in.
    user = _library(
        tmp_path,
        "user",
        f"extern const char {MARKER}[];\nconst char *g(void) {{ return {MARKER}; }}\n",
    )
    assert standin_probe.is_standin_library(str(marked))
    assert not standin_probe.is_standin_library(str(plain))
    assert not standin_probe.is_standin_library(str(user))


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


@needs_cc
def test_loaded_standins_reads_the_process_map(tmp_path: Path) -> None:
    marked = _library(tmp_path, "libnvinfer", f'const char {standin_probe.MARKER_SYMBOL}[] = "x";\n')
    maps = tmp_path / "maps"
    maps.write_text(
        f"7f00-7f01 r-xp 00000000 08:01 1 {marked}\n7f01-7f02 r--p 00000000 08:01 2 /usr/lib/libc.so.6\n"
        "7f02-7f03 rw-p 00000000 00:00 0 [heap]\n",
        encoding="utf-8",
    )
    assert standin_probe.mapped_libraries(str(maps)) == [str(marked), "/usr/lib/libc.so.6"]
    assert standin_probe.loaded_standins(str(maps)) == [str(marked)]
    assert standin_probe.loaded_standins(str(tmp_path / "no-maps")) == []
