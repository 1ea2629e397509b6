"""What the dynamic loader reads from an ELF file, read with pyelftools (no binutils, nothing loaded).

Contract: `dynamic(path)` returns a frozen `Dynamic` (SONAME, NEEDED, RPATH, RUNPATH, and whether it
defines given dynamic symbols), or raises `NotElf` with one line saying why (not ELF, unreadable,
truncated). `resolve(needed, binary, env, ...)` says which file the loader would map for one NEEDED
name, searching as ld.so does: DT_RPATH (only without DT_RUNPATH), LD_LIBRARY_PATH, DT_RUNPATH, the
ldconfig cache, then the default folders. `$ORIGIN` is expanded. Host side only (pyelftools).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence

DEFAULT_DIRS = ("/lib64", "/usr/lib64", "/lib", "/usr/lib", "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu")


class NotElf(Exception):
    """The file is not a readable ELF object; the message says why in one line."""


@dataclasses.dataclass(frozen=True)
class Dynamic:
    """The dynamic section of one ELF file."""

    path: str
    soname: str | None
    needed: tuple[str, ...]
    rpath: tuple[str, ...]
    runpath: tuple[str, ...]
    defines: frozenset[str]


def _split(value: str, origin: str) -> tuple[str, ...]:
    out = []
    for raw in value.split(":"):
        part = raw.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
        if part:
            out.append(part)
    return tuple(out)


def dynamic(path: str, symbols: Iterable[str] = ()) -> Dynamic:
    """SONAME, NEEDED, RPATH, RUNPATH of `path`, and which of `symbols` it defines (exports)."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.dynamic import DynamicSection
    from elftools.elf.elffile import ELFFile
    from elftools.elf.sections import SymbolTableSection

    wanted = set(symbols)
    origin = os.path.dirname(os.path.realpath(path))
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != b"\x7fELF":
                raise NotElf("not an ELF file")
            handle.seek(0)
            elf = ELFFile(handle)
            soname: str | None = None
            needed: list[str] = []
            rpath: tuple[str, ...] = ()
            runpath: tuple[str, ...] = ()
            defined: set[str] = set()
            for section in elf.iter_sections():
                if isinstance(section, DynamicSection):
                    for tag in section.iter_tags():
                        kind = str(tag.entry.d_tag)
                        if kind not in ("DT_NEEDED", "DT_SONAME", "DT_RPATH", "DT_RUNPATH"):
                            continue
                        value = str(getattr(tag, kind[3:].lower()))  # pyelftools names it after the tag
                        if kind == "DT_NEEDED":
                            needed.append(value)
                        elif kind == "DT_SONAME":
                            soname = value
                        elif kind == "DT_RPATH":
                            rpath = _split(value, origin)
                        else:
                            runpath = _split(value, origin)
                elif isinstance(section, SymbolTableSection) and section.name == ".dynsym" and wanted:
                    for symbol in section.iter_symbols():
                        if symbol.name in wanted and symbol["st_shndx"] != "SHN_UNDEF":
                            defined.add(symbol.name)
    except NotElf:
        raise
    except (ELFError, OSError, ValueError, KeyError, AssertionError) as exc:
        raise NotElf(f"unreadable ELF file: {type(exc).__name__}: {str(exc)[:160]}") from None
    except Exception as exc:  # pyelftools raises construct's errors on truncated files
        raise NotElf(f"unreadable ELF file: {type(exc).__name__}: {str(exc)[:160]}") from None
    return Dynamic(
        path=path,
        soname=soname,
        needed=tuple(needed),
        rpath=rpath,
        runpath=runpath,
        defines=frozenset(defined),
    )


def search_path(binary: Dynamic, env: Mapping[str, str], first: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(folder, why) searched before the ldconfig cache, in ld.so's order; `first` goes before all (a
    wheel's library folder, which its Python package preloads)."""
    out = [(d, "the wheel's library folder (preloaded by the package)") for d in first]
    if not binary.runpath:
        out += [(d, f"DT_RPATH of {binary.path}") for d in binary.rpath]
    out += [(d, "LD_LIBRARY_PATH") for d in env.get("LD_LIBRARY_PATH", "").split(":") if d]
    out += [(d, f"DT_RUNPATH of {binary.path}") for d in binary.runpath]
    return out


def resolve(
    name: str,
    binary: Dynamic,
    env: Mapping[str, str],
    cache: Mapping[str, str] | None = None,
    defaults: Sequence[str] = DEFAULT_DIRS,
    first: Sequence[str] = (),
) -> tuple[str, str] | None:
    """(path, why) of the file ld.so would map for NEEDED `name`, or None when nothing matches."""
    if "/" in name:
        return (name, "a path in DT_NEEDED") if os.path.isfile(name) else None
    for folder, why in search_path(binary, env, first):
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate, why
    if cache and name in cache and os.path.isfile(cache[name]):
        return cache[name], "the ldconfig cache"
    for folder in defaults:
        candidate = os.path.join(folder, name)
        if os.path.isfile(candidate):
            return candidate, "a default folder"
    return None
