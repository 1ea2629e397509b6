"""Tell trt-matrix's stand-in libnvinfer from a real one, so no check ever runs against the stand-in.

Contract: the stand-in (matrix/offline/standin.py builds it for API introspection only) exports the symbol
`MARKER_SYMBOL`. `is_standin_library(path)` reads a shared library's ELF dynamic symbol table (without
loading it) and says whether it defines that symbol; `loaded_standins()` lists the stand-ins mapped
into this process, e.g. after `import tensorrt`. Standard library only, Python 3.8.
"""

from __future__ import annotations

import struct

MARKER_SYMBOL = "trt_matrix_standin_marker"
MARKER_TEXT = "trt-matrix stand-in: not TensorRT; NULL-returning entry points for API introspection only"

_SHT_DYNSYM = 11
_MAX_TABLE = 256 << 20  # a dynamic symbol or string table larger than this is not a library we know


def _read(handle: object, offset: int, size: int) -> bytes:
    handle.seek(offset)  # type: ignore[attr-defined]
    data: bytes = handle.read(size)  # type: ignore[attr-defined]
    if len(data) != size:
        raise ValueError("truncated ELF file")
    return data


def _defines(path: str, symbol: str) -> bool:
    """Whether the 64-bit little-endian ELF file at `path` defines `symbol` in its dynamic symbol table."""
    wanted = symbol.encode("ascii")
    with open(path, "rb") as handle:
        ident = _read(handle, 0, 64)
        if ident[:4] != b"\x7fELF" or ident[4] != 2 or ident[5] != 1:
            return False
        shoff = struct.unpack_from("<Q", ident, 0x28)[0]
        shentsize, shnum = struct.unpack_from("<HH", ident, 0x3A)
        if shentsize < 64 or shnum == 0:
            return False
        headers = _read(handle, shoff, shentsize * shnum)
        for i in range(shnum):
            kind, offset, size, link, entsize = _section(headers, i * shentsize)
            if kind != _SHT_DYNSYM or link >= shnum or entsize < 24 or size > _MAX_TABLE:
                continue
            _, str_offset, str_size, _, _ = _section(headers, link * shentsize)
            if str_size > _MAX_TABLE:
                return False
            strings = _read(handle, str_offset, str_size)
            if b"\0" + wanted + b"\0" not in strings:
                return False
            symbols = _read(handle, offset, size)
            for at in range(0, size - entsize + 1, entsize):
                name, _, _, shndx = struct.unpack_from("<IBBH", symbols, at)
                end = strings.find(b"\0", name)
                if strings[name:end] == wanted and shndx != 0:
                    return True
    return False


def _section(headers: bytes, at: int) -> tuple[int, int, int, int, int]:
    kind = struct.unpack_from("<I", headers, at + 4)[0]
    offset, size = struct.unpack_from("<QQ", headers, at + 0x18)
    link = struct.unpack_from("<I", headers, at + 0x28)[0]
    entsize = struct.unpack_from("<Q", headers, at + 0x38)[0]
    return kind, offset, size, link, entsize


def is_standin_library(path: str) -> bool:
    """True when the library at `path` is trt-matrix's stand-in; False for anything else, even unreadable."""
    try:
        return _defines(path, MARKER_SYMBOL)
    except (OSError, ValueError, struct.error):
        return False


def mapped_libraries(maps: str = "/proc/self/maps") -> list[str]:
    """Paths of the shared objects mapped into this process (Linux), in first-mapped order."""
    seen: list[str] = []
    try:
        with open(maps, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                fields = line.split(None, 5)
                path = fields[5].strip() if len(fields) == 6 else ""
                if path.startswith("/") and ".so" in path and path not in seen:
                    seen.append(path)
    except OSError:
        return []
    return seen


def loaded_standins(maps: str = "/proc/self/maps") -> list[str]:
    """The stand-in libraries mapped into this process; empty when TensorRT here is real (or absent)."""
    return [path for path in mapped_libraries(maps) if is_standin_library(path)]
