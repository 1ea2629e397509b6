"""The stand-in: symbols found with nm (not guessed), compiled with cc, and the real bindings importing.

The first tests build a tiny module that NEEDs a library absent here, so symbol discovery and the
stand-in are checked offline. The last ones import real 8.6.1, 10.x and 11.x bindings (wheels from the
package index, cached; skipped, saying why, when it is unreachable and nothing is cached).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from matrix.offline import standin, wheels
from tests.unit.index_access import index_or_skip

CC = shutil.which("cc")
TOOLS = CC and shutil.which("nm") and shutil.which("readelf")
needs_tools = pytest.mark.skipif(not TOOLS, reason="needs cc, nm and readelf (gcc, binutils)")


@pytest.fixture
def module(tmp_path: Path) -> Path:
    """A module like tensorrt.so: it NEEDs libnvfake.so.7 (gone after linking) and calls into it and libc."""
    assert CC is not None
    build = tmp_path / "build"
    build.mkdir()
    (build / "fake.c").write_text("void *createFake_INTERNAL(void) { return (void *)1; }\n", encoding="utf-8")
    fake = build / "libnvfake.so.7"
    subprocess.run(
        [CC, "-shared", "-fPIC", "-Wl,-soname,libnvfake.so.7", "-o", str(fake), str(build / "fake.c")],
        check=True,
    )
    (build / "mod.c").write_text(
        "#include <stdio.h>\nvoid *createFake_INTERNAL(void);\nextern int PyLong_Type;\n"
        'int entry(void) { printf("x"); return createFake_INTERNAL() == 0; }\n',
        encoding="utf-8",
    )
    out = tmp_path / "mod.so"
    subprocess.run(
        [
            CC,
            "-shared",
            "-fPIC",
            "-o",
            str(out),
            str(build / "mod.c"),
            str(fake),
            "-Wl,--allow-shlib-undefined",
        ],
        check=True,
    )
    shutil.rmtree(build)
    return out


@needs_tools
def test_symbols_and_sonames_come_from_the_module(module: Path) -> None:
    symbols, sonames = standin.required_symbols(module)
    assert symbols == ("createFake_INTERNAL",)  # not printf (versioned, libc), not PyLong_Type (interpreter)
    assert sonames == ("libnvfake.so.7",)


@needs_tools
def test_the_standin_is_marked_and_makes_the_module_load(
    module: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRT_MATRIX_CACHE", str(tmp_path / "cache"))
    symbols, sonames = standin.required_symbols(module)
    source = standin.c_source(symbols)
    assert f'__asm__("{symbols[0]}")' in source and standin.MARKER_SYMBOL in source
    library = standin._compile(symbols)
    assert standin._compile(symbols) == library, "compiled once per symbol set"
    assert standin.is_standin_library(str(library))
    libdir = tmp_path / "lib"
    libdir.mkdir()
    shutil.copy2(library, libdir / sonames[0])
    code = (
        "import ctypes, sys\n"
        f"m = ctypes.CDLL({str(module)!r})\n"
        "sys.path.insert(0, '.')\n"
        "from matrix.suite.standin_probe import loaded_standins\n"
        "print(m.entry(), len(loaded_standins()))\n"
    )
    env = {"LD_LIBRARY_PATH": str(libdir), "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "1 1" in result.stdout.splitlines(), "createFake_INTERNAL returned NULL; one stand-in is loaded"


# Real bindings: the releases the lead's suite tests use.
REAL = ["8.6.1", "10.8", "11.4"]


@needs_tools
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
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    found, name, has_context, plugin, built = result.stdout.strip().splitlines()[-1].split("|")
    assert found.startswith(version) and name == "tensorrt" and has_context == "True"
    assert plugin == ("no plugin" if version == "8.6.1" else "plugin")
    assert built.startswith("refused: "), "the stand-in must never build anything"
