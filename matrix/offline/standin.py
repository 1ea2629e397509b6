"""A stand-in libnvinfer, built on the fly, so that a release's REAL Python bindings import without TensorRT.

Public helper for tests and tools that need a release's real API surface:

    env = standin.bindings_env("10.8")      # or "8.6.1", "11.4.0.106"; a prefix picks the newest match
    subprocess.run([sys.executable, "-c", "import tensorrt; print(tensorrt.__version__)"], env=env)

`bindings_env(version)` returns a copy of os.environ with PYTHONPATH and LD_LIBRARY_PATH prepended so
that the RUNNING interpreter (use `sys.executable`) imports that release's compiled bindings as
`tensorrt` (the 8.6.1+ wheels call the package `tensorrt_bindings`; an alias makes it `tensorrt`, and
`tensorrt.plugin` imports on 10.6+, which needs numpy). The libraries the module NEEDs are copies of a
stand-in compiled here with the system `cc`: it exports exactly the `extern "C"` entry points that
`nm -D --undefined-only` finds unresolved in the module (createInferBuilder_INTERNAL and friends), each
returning NULL, plus MARKER_SYMBOL. So the API can be listed, never used: `trt.Builder(logger)` raises
TypeError. Never import the bindings in the host process. `is_standin_library(path)` and
`loaded_standins()` (matrix.suite.standin_probe, Python 3.8) let the suite refuse to run on it.
Everything is cached under $TRT_MATRIX_CACHE (default ~/.cache/trt-matrix); the first call per release
downloads one ~1 MB wheel. Raises UserError on network trouble and `wheels.NoWheel` when the index has no
wheel for this interpreter (8.6.1 has none past cp311).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from functools import cache
from pathlib import Path

from matrix.errors import UserError
from matrix.offline import wheels
from matrix.suite.standin_probe import MARKER_SYMBOL, MARKER_TEXT, is_standin_library, loaded_standins

__all__ = [
    "MARKER_SYMBOL",
    "Prepared",
    "bindings_env",
    "is_standin_library",
    "loaded_standins",
    "prepare",
    "required_symbols",
    "stand_in",
]

LIBRARY = "libtrtmatrix_standin.so"
_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_.$]*$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Prepared:
    """A release ready to import: its unpacked wheel and the stand-in libraries beside it."""

    bindings: wheels.Unpacked
    libdir: Path
    symbols: tuple[str, ...]
    sonames: tuple[str, ...]

    @property
    def version(self) -> str:
        return self.bindings.version


def _tool(name: str, hint: str) -> str:
    path = shutil.which(name) or next((p for p in (f"/sbin/{name}", f"/usr/sbin/{name}") if Path(p).is_file()), None)
    if path is None:
        raise UserError(f"`{name}` not found: {hint}")
    return path


def _run(argv: list[str]) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if result.returncode != 0:
        raise UserError(f"`{' '.join(argv[:3])} ...` failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def _nm(*args: str) -> str:
    return _run([_tool("nm", "install binutils (apt-get install binutils)"), "-D", *args])


def _needed(module: Path) -> list[str]:
    out = _run([_tool("readelf", "install binutils (apt-get install binutils)"), "-d", str(module)])
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


@cache
def _system_libraries() -> dict[str, str]:
    """soname -> path from the dynamic linker's cache (`ldconfig -p`)."""
    try:
        out = _run([_tool("ldconfig", "it ships with libc-bin"), "-p"])
    except UserError:
        return {}
    found: dict[str, str] = {}
    for name, path in re.findall(r"^\s*(\S+) \([^)]*\) => (\S+)$", out, re.MULTILINE):
        found.setdefault(name, path)
    return found


@cache
def _interpreter_symbols() -> frozenset[str]:
    """Dynamic symbols the running interpreter (and its libpython) defines."""
    objects = [sys.executable]
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir, ldlib = sysconfig.get_config_var("LIBDIR"), sysconfig.get_config_var("LDLIBRARY")
        if libdir and ldlib and (Path(libdir) / ldlib).is_file():
            objects.append(str(Path(libdir) / ldlib))
    names: set[str] = set()
    for path in objects:
        names |= _defined(path)
    return frozenset(names)


@cache
def _defined(path: str) -> frozenset[str]:
    """Dynamic symbols `path` defines, without their version suffix (read once per process)."""
    lines = _nm("--defined-only", path).splitlines()
    return frozenset(line.split()[-1].split("@")[0] for line in lines if line.strip())


def required_symbols(module: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(entry points, sonames) the stand-in must provide for `module`, read from the module itself.

    Sonames: every NEEDED library the dynamic linker cannot find, and every libnv* one (so a TensorRT
    installed on this host is never picked up). Symbols: the module's undefined, non-weak, unversioned
    dynamic symbols that neither the interpreter nor the other NEEDED libraries define.
    """
    system = _system_libraries()
    needed = _needed(module)
    sonames = tuple(n for n in needed if n not in system or n.startswith("libnv"))
    if not sonames:
        raise UserError(f"{module}: NEEDs no library missing here ({', '.join(needed)}); nothing to stand in")
    provided = set(_interpreter_symbols())
    for name in needed:
        if name not in sonames:
            provided |= _defined(system[name])
    symbols = []
    for line in _nm("--undefined-only", str(module)).splitlines():
        fields = line.split()
        if len(fields) < 2 or fields[-2] != "U" or "@" in fields[-1]:
            continue  # weak references and versioned (libc, libstdc++) symbols are not ours to provide
        name = fields[-1]
        if name in provided or name.startswith(("Py", "_Py")):
            continue
        if not _SYMBOL.match(name):
            raise UserError(f"{module}: undefined symbol {name!r} cannot be stood in")
        symbols.append(name)
    if not symbols:
        raise UserError(f"{module}: no undefined entry points found with nm; is it a TensorRT bindings module?")
    return tuple(sorted(set(symbols))), sonames


def c_source(symbols: tuple[str, ...]) -> str:
    """The stand-in's C source: each entry point returns NULL; the marker says what this library is."""
    lines = [
        "/* Generated by trt-matrix (matrix/offline/standin.py): a stand-in for TensorRT's libraries, so that",
        " * the real Python bindings import for API introspection. Not TensorRT: every entry point",
        " * returns NULL. */",
        f'const char {MARKER_SYMBOL}[] = "{MARKER_TEXT}";',
    ]
    for i, name in enumerate(symbols):
        lines.append(f'void *trt_matrix_standin_{i}(void) __asm__("{name}");')
        lines.append(f"void *trt_matrix_standin_{i}(void) {{ return 0; }}")
    return "\n".join(lines) + "\n"


def _compile(symbols: tuple[str, ...]) -> Path:
    """The stand-in for `symbols`, compiled once per distinct symbol set."""
    source = c_source(symbols)
    home = wheels.cache_dir() / "standin" / hashlib.sha256(source.encode()).hexdigest()[:16]
    built = home / LIBRARY
    if built.is_file():
        return built
    home.mkdir(parents=True, exist_ok=True)
    compiler = os.environ.get("CC") or _tool("cc", "install a C compiler (apt-get install gcc)")
    with tempfile.TemporaryDirectory(dir=home) as tmp:
        (Path(tmp) / "standin.c").write_text(source, encoding="utf-8")
        out = Path(tmp) / LIBRARY
        result = subprocess.run(
            [compiler, "-shared", "-fPIC", "-O0", "-o", str(out), str(Path(tmp) / "standin.c")],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise UserError(f"could not compile the stand-in library with {compiler}: {result.stderr.strip()}")
        (Path(tmp) / "standin.c").replace(home / "standin.c")
        out.replace(built)
    return built


def prepare(version: str, progress: wheels.Progress | None = None) -> Prepared:
    """Download, unpack and stand in one release (cached); `version` may be a prefix such as '10.8'."""
    unpacked = _cached_exact(version) or wheels.unpacked(wheels.find(version, progress=progress), progress)
    return stand_in(unpacked)


def stand_in(unpacked: wheels.Unpacked) -> Prepared:
    """Stand-in libraries (cached) beside an unpacked wheel, under every soname its module NEEDs."""
    libdir = unpacked.site.parent / "lib"
    record = libdir / "standin.json"
    if record.is_file():
        data = json.loads(record.read_text(encoding="utf-8"))
        if all((libdir / name).is_file() for name in data["sonames"]):
            return Prepared(
                bindings=unpacked,
                libdir=libdir,
                symbols=tuple(data["symbols"]),
                sonames=tuple(data["sonames"]),
            )
    symbols, sonames = required_symbols(unpacked.module)
    library = _compile(symbols)
    tmp = Path(tempfile.mkdtemp(dir=libdir.parent, prefix=".lib-"))
    for name in sonames:
        shutil.copy2(library, tmp / name)
    (tmp / "standin.json").write_text(
        json.dumps({"symbols": symbols, "sonames": sonames, "library": str(library)}, indent=1),
        encoding="utf-8",
    )
    shutil.rmtree(libdir, ignore_errors=True)
    try:
        tmp.rename(libdir)
    except OSError:  # another process made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return Prepared(bindings=unpacked, libdir=libdir, symbols=symbols, sonames=sonames)


def _cached_exact(version: str) -> wheels.Unpacked | None:
    """An exact version already downloaded: no need to ask the index."""
    for package, _ in wheels.packages():
        if wheels.cached_wheel(package, version) is not None:
            return wheels.unpacked(wheels.Release(version=version, package=package, candidates=(version,)))
    return None


def environment(prepared: Prepared) -> dict[str, str]:
    env = dict(os.environ)
    for key, value in (("PYTHONPATH", prepared.bindings.site), ("LD_LIBRARY_PATH", prepared.libdir)):
        env[key] = os.pathsep.join([str(value), *filter(None, [env.get(key, "")])])
    env["TRT_MATRIX_STANDIN_LIBDIR"] = str(prepared.libdir)
    return env


def bindings_env(version: str, progress: wheels.Progress | None = None) -> dict[str, str]:
    """An environment in which `sys.executable -c 'import tensorrt'` imports `version`'s real bindings."""
    return environment(prepare(version, progress))
