"""The stand-in: symbols read from the module (not guessed), written as ELF, and the real bindings importing.

No compiler or binutils anywhere: the first tests write a tiny module that NEEDs a library absent here
(with matrix.offline.elf_so), so symbol discovery and the stand-in are checked offline. The last ones
import real 8.6.1, 10.x and 11.x bindings (wheels from the package index, cached; skipped, saying why,
when it is unreachable and nothing is cached).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.errors import UserError
from matrix.offline import elf_so, standin, wheels
from tests.unit.index_access import index_or_skip


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """A module like tensorrt.so, written as ELF (no compiler): it NEEDs libnvfake.so.7 (absent here) and
    libc, and references createFake_INTERNAL (from the absent library), printf (libc) and PyLong_Type (the
    interpreter), each through a relocation the dynamic linker must resolve when loading it."""
    out = tmp_path / "mod.so"
    spec = elf_so.SharedObject(
        needed=["libnvfake.so.7", "libc.so.6"], imports=["createFake_INTERNAL", "printf", "PyLong_Type"]
    )
    out.write_bytes(elf_so.shared_object(spec))
    return out


def test_symbols_and_sonames_come_from_the_module(module: Path) -> None:
    symbols, sonames = standin.required_symbols(module)
    assert symbols == ("createFake_INTERNAL",)  # not printf (libc has it), not PyLong_Type (interpreter)
    assert sonames == ("libnvfake.so.7",)


def test_versioned_and_weak_references_are_not_stood_in() -> None:
    """The interpreter's own undefined references to libc are versioned (GLIBC_*): never ours to provide."""
    dynamic = standin._dynamic(sys.executable)
    assert "PyLong_Type" in dynamic.defined or "PyLong_Type" in standin._interpreter_symbols()
    assert "malloc" not in dynamic.undefined, "malloc@GLIBC_2.2.5 is versioned"


def test_a_file_that_is_not_elf_is_a_user_error(tmp_path: Path) -> None:
    text = tmp_path / "tensorrt.so"
    text.write_text("not a library", encoding="utf-8")
    with pytest.raises(UserError, match="cannot read its ELF dynamic section"):
        standin.required_symbols(text)


def test_the_standin_is_marked_and_makes_the_module_load(
    module: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRT_MATRIX_CACHE", str(tmp_path / "cache"))
    symbols, sonames = standin.required_symbols(module)
    library = standin._build(symbols)
    assert standin._build(symbols) == library, "written once per symbol set"
    assert standin.is_standin_library(str(library))
    libdir = tmp_path / "lib"
    libdir.mkdir()
    shutil.copy2(library, libdir / sonames[0])
    code = (
        "import ctypes, sys\n"
        f"m = ctypes.CDLL({str(module)!r})\n"
        f"table = (ctypes.c_void_p * 3).in_dll(m, {elf_so.IMPORT_TABLE!r})\n"
        f"fake = ctypes.CDLL({sonames[0]!r}).createFake_INTERNAL\n"
        "fake.restype = ctypes.c_void_p\n"
        "resolved = table[0] == ctypes.cast(fake, ctypes.c_void_p).value\n"
        "sys.path.insert(0, '.')\n"
        "from matrix.suite.standin_probe import loaded_standins\n"
        "print(resolved, fake(), len(loaded_standins()))\n"
    )
    env = {"LD_LIBRARY_PATH": str(libdir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "True None 1" in result.stdout.splitlines(), "resolved to the stand-in, which returns NULL; one loaded"
    # Without the stand-in the dynamic linker refuses the module: the test above is not vacuous.
    bare = {"PATH": "/usr/bin:/bin"}
    refused = subprocess.run([sys.executable, "-c", code], env=bare, capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "libnvfake.so.7" in refused.stderr


# Real bindings: the releases the lead's suite tests use.
REAL = ["8.6.1", "10.8", "11.4"]


@pytest.mark.parametrize("version", REAL)
def test_bindings_env_imports_the_real_release_against_the_standin(version: str) -> None:
    index_or_skip()
    try:
        env = standin.bindings_env(version)
    except wheels.NoWheel as exc:
        pytest.skip(f"{version}: {exc}")
    code = (
        "import tensorrt as trt\n"
        "from matrix.suite.standin_probe import loaded_standins, mapped_libraries\n"
        "nv = [p for p in mapped_libraries() if '/libnv' in p]\n"
        "assert nv and sorted(nv) == sorted(loaded_standins()), nv\n"
        "try:\n"
        "    trt.Builder(trt.Logger())\n"
        "except TypeError as exc:\n"
        "    built = 'refused: ' + str(exc)\n"
        "else:\n"
        "    built = 'built'\n"
        "plugin = 'no plugin'\n"
        "try:\n"
        "    import tensorrt.plugin\n"
        "    plugin = 'plugin'\n"
        "except ImportError:\n"
        "    pass\n"
        "print(trt.__version__, trt.__name__, hasattr(trt, 'IExecutionContext'), plugin, built, sep='|')\n"
    )
    env["PYTHONPATH"] += ":" + str(Path.cwd())
    prepared = standin.prepare(version)
    written = standin.library_bytes(prepared.symbols)
    assert all((prepared.libdir / name).read_bytes() == written for name in prepared.sonames), "the ELF written now"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    found, name, has_context, plugin, built = result.stdout.strip().splitlines()[-1].split("|")
    assert found.startswith(version) and name == "tensorrt" and has_context == "True"
    assert plugin == ("no plugin" if version == "8.6.1" else "plugin")
    assert built.startswith("refused: "), "the stand-in must never build anything"
