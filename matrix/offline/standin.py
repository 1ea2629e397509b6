"""A stand-in libnvinfer, built on the fly, so that a release's REAL Python bindings import without TensorRT.

Public helper for tests and tools that need a release's real API surface:

    env = standin.bindings_env("10.8")      # or "8.6.1", "11.4.0.106"; a prefix picks the newest match
    subprocess.run([sys.executable, "-c", "import tensorrt; print(tensorrt.__version__)"], env=env)

`bindings_env(version)` returns a copy of os.environ with PYTHONPATH and LD_LIBRARY_PATH prepended so
that the RUNNING interpreter (use `sys.executable`) imports that release's compiled bindings as
`tensorrt` (the 8.6.1+ wheels call the package `tensorrt_bindings`; an alias makes it `tensorrt`, and
`tensorrt.plugin` imports on 10.6+, which needs numpy). The libraries the module NEEDs are copies of a
stand-in written here as ELF by `elf_so` (no compiler, no binutils): it exports exactly the entry points
the module's dynamic symbol table leaves unresolved (read with pyelftools: createInferBuilder_INTERNAL and
friends), each returning NULL, plus MARKER_SYMBOL. So the API can be listed, never used:
`trt.Builder(logger)` raises TypeError. Never import the bindings in the host process. `is_standin_library(path)` and
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

from elftools.common.exceptions import ELFError
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.gnuversions import GNUVerSymSection
from elftools.elf.sections import SymbolTableSection

from matrix.errors import UserError
from matrix.offline import elf_so, wheels
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


@dataclasses.dataclass(frozen=True)
class _Dynamic:
    """What the dynamic linker sees of one ELF file: NEEDED entries and dynamic symbols."""

    needed: tuple[str, ...]
    defined: frozenset[str]
    undefined: tuple[str, ...]  # global (not weak), unversioned: what a stand-in may have to provide


@cache
def _dynamic(path: str) -> _Dynamic:
    """Read `path`'s dynamic section and dynamic symbol table with pyelftools (read once per process)."""
    try:
        with open(path, "rb") as handle:
            elf = ELFFile(handle)
            dynamic = next((s for s in elf.iter_sections() if isinstance(s, DynamicSection)), None)
            # pyelftools sets `needed` on each DT_NEEDED tag (an attribute its type hints do not declare)
            needed = tuple(str(vars(t)["needed"]) for t in dynamic.iter_tags("DT_NEEDED")) if dynamic else ()
            dynsym = next((s for s in elf.iter_sections() if s["sh_type"] == "SHT_DYNSYM"), None)
            versions = next((s for s in elf.iter_sections() if isinstance(s, GNUVerSymSection)), None)
            defined: set[str] = set()
            undefined: list[str] = []
            if isinstance(dynsym, SymbolTableSection):
                for i, symbol in enumerate(dynsym.iter_symbols()):
                    if not symbol.name:
                        continue
                    if symbol["st_shndx"] != "SHN_UNDEF":
                        defined.add(symbol.name)
                    elif symbol["st_info"]["bind"] == "STB_GLOBAL" and _unversioned(versions, i):
                        undefined.append(symbol.name)
    except (OSError, ELFError) as exc:
        raise UserError(f"{path}: cannot read its ELF dynamic section ({exc})") from exc
    return _Dynamic(needed=needed, defined=frozenset(defined), undefined=tuple(undefined))


def _unversioned(versions: GNUVerSymSection | None, index: int) -> bool:
    """A reference without a symbol version (libc's and libstdc++'s are versioned: not ours to provide)."""
    if versions is None:
        return True
    return versions.get_symbol(index)["ndx"] in ("VER_NDX_LOCAL", "VER_NDX_GLOBAL")


def _needed(module: Path) -> list[str]:
    return list(_dynamic(str(module)).needed)


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


def _defined(path: str) -> frozenset[str]:
    """Dynamic symbols `path` defines (names only: a version is not part of the name in the table)."""
    return _dynamic(path).defined


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
    for name in _dynamic(str(module)).undefined:
        if name in provided or name.startswith(("Py", "_Py")):
            continue
        if not _SYMBOL.match(name):
            raise UserError(f"{module}: undefined symbol {name!r} cannot be stood in")
        symbols.append(name)
    if not symbols:
        raise UserError(
            f"{module}: no undefined entry points in its dynamic symbols; is it a TensorRT bindings module?"
        )
    return tuple(sorted(set(symbols))), sonames


def library_bytes(symbols: tuple[str, ...]) -> bytes:
    """The stand-in, written directly as ELF (no compiler): each entry point returns NULL; the marker says
    what this library is."""
    try:
        return elf_so.shared_object(
            elf_so.SharedObject(functions=symbols, data={MARKER_SYMBOL: MARKER_TEXT.encode("ascii") + b"\0"})
        )
    except ValueError as exc:
        raise UserError(f"cannot write the stand-in library here: {exc}") from exc


def _digest(image: bytes) -> str:
    return hashlib.sha256(image).hexdigest()


def _build(symbols: tuple[str, ...]) -> Path:
    """The stand-in for `symbols`, written once per distinct symbol set (and writer version)."""
    image = library_bytes(symbols)
    home = wheels.cache_dir() / "standin" / _digest(image)[:16]
    built = home / LIBRARY
    if built.is_file():
        return built
    home.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=home, delete=False) as tmp:
        tmp.write(image)
    (home / "symbols.txt").write_text("\n".join(symbols) + "\n", encoding="utf-8")
    Path(tmp.name).chmod(0o755)
    Path(tmp.name).replace(built)
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
        # A stand-in written by another version of this module (or compiled by an older one) is redone.
        current = _digest(library_bytes(tuple(data["symbols"])))
        if data.get("sha256") == current and all((libdir / name).is_file() for name in data["sonames"]):
            return Prepared(
                bindings=unpacked,
                libdir=libdir,
                symbols=tuple(data["symbols"]),
                sonames=tuple(data["sonames"]),
            )
    symbols, sonames = required_symbols(unpacked.module)
    library = _build(symbols)
    tmp = Path(tempfile.mkdtemp(dir=libdir.parent, prefix=".lib-"))
    for name in sonames:
        shutil.copy2(library, tmp / name)
    (tmp / "standin.json").write_text(
        json.dumps(
            {"symbols": symbols, "sonames": sonames, "library": str(library), "sha256": _digest(library.read_bytes())},
            indent=1,
        ),
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
