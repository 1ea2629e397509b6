"""Write a small ELF shared object directly, so that no C compiler or linker is needed anywhere.

Contract: `shared_object(SharedObject(...))` returns the bytes of a 64-bit little-endian ELF shared
library for this machine (x86-64 or AArch64) that the dynamic linker loads like a compiled one:
- each name in `functions` is an exported function that returns 0 (NULL) and does nothing else;
- each entry of `data` is an exported read-only object holding those bytes;
- `needed` become DT_NEEDED entries, `soname` the DT_SONAME;
- each name in `imports` is an undefined symbol with an absolute relocation into a table exported as
  `IMPORT_TABLE` (8 bytes per import, in order), so the dynamic linker must resolve it at load time and
  the table then holds the resolved addresses (tests use this to stand for a module that calls a library).
Tables: .hash (SysV), .dynsym, .dynstr, .rela.dyn, .text, .rodata, .dynamic, .data, plus section headers
(the stand-in probe and ELF readers look symbols up through them), PT_GNU_STACK (a non-executable stack).
Virtual addresses equal file offsets, so segments are congruent for any page size. Standard library
only, Python 3.8 (tests of the in-image probe use it too).
"""

from __future__ import annotations

import platform
import struct
from collections.abc import Sequence

IMPORT_TABLE = "trt_matrix_import_table"

# Per machine: e_machine, a "return 0" function body, the 64-bit absolute relocation type.
_MACHINES: dict[str, tuple[int, bytes, int]] = {
    "x86_64": (62, b"\x31\xc0\xc3", 1),  # xor eax, eax; ret; R_X86_64_64
    "aarch64": (183, b"\x00\x00\x80\xd2\xc0\x03\x5f\xd6", 257),  # mov x0, #0; ret; R_AARCH64_ABS64
}
_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

_SHT_PROGBITS, _SHT_STRTAB, _SHT_RELA, _SHT_HASH, _SHT_DYNAMIC, _SHT_DYNSYM = 1, 3, 4, 5, 6, 11
_SHF_WRITE, _SHF_ALLOC, _SHF_EXEC = 1, 2, 4
_DT = {"NULL": 0, "NEEDED": 1, "HASH": 4, "STRTAB": 5, "SYMTAB": 6, "RELA": 7, "RELASZ": 8, "RELAENT": 9}
_DT.update({"STRSZ": 10, "SYMENT": 11, "SONAME": 14})
_STT_OBJECT, _STT_FUNC, _STB_GLOBAL = 1, 2, 1


class SharedObject:
    """What the library exports, needs and imports (plain data; see the module contract)."""

    def __init__(
        self,
        functions: Sequence[str] = (),
        data: dict[str, bytes] | None = None,
        needed: Sequence[str] = (),
        soname: str = "",
        imports: Sequence[str] = (),
        machine: str = "",
    ) -> None:
        self.functions = tuple(functions)
        self.data = dict(data or {})
        self.needed = tuple(needed)
        self.soname = soname
        self.imports = tuple(imports)
        self.machine = machine or platform.machine()


def supported(machine: str = "") -> bool:
    """Whether `shared_object` can write a library for `machine` (default: this one)."""
    name = machine or platform.machine()
    return _ALIASES.get(name, name) in _MACHINES


def sysv_hash(name: bytes) -> int:
    """The SysV ELF hash of a symbol name (the DT_HASH table's function)."""
    h = 0
    for byte in name:
        h = ((h << 4) + byte) & 0xFFFFFFFF
        g = h & 0xF0000000
        if g:
            h ^= g >> 24
        h &= ~g & 0xFFFFFFFF
    return h


class _Strings:
    def __init__(self) -> None:
        self.blob = bytearray(b"\0")
        self.seen: dict[str, int] = {"": 0}

    def add(self, text: str) -> int:
        if text not in self.seen:
            self.seen[text] = len(self.blob)
            self.blob += text.encode("ascii") + b"\0"
        return self.seen[text]


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


def shared_object(spec: SharedObject) -> bytes:
    """The ELF bytes for `spec`; ValueError for an unsupported machine, a clash or a non-ASCII name."""
    machine = _ALIASES.get(spec.machine, spec.machine)
    if machine not in _MACHINES:
        raise ValueError(f"cannot write a shared library for {spec.machine!r} (only {', '.join(_MACHINES)})")
    e_machine, body, abs64 = _MACHINES[machine]
    exported = [*spec.functions, *spec.data, *([IMPORT_TABLE] if spec.imports else [])]
    names = [*exported, *spec.imports]
    if len(set(names)) != len(names):
        raise ValueError("a symbol is named twice (exports and imports must be distinct)")

    dynstr = _Strings()
    needed_at = [dynstr.add(n) for n in spec.needed]
    soname_at = dynstr.add(spec.soname) if spec.soname else 0
    name_at = [dynstr.add(n) for n in names]
    nsyms = 1 + len(names)

    # Read-only, executable segment: headers, tables, code, constants.
    sections = [".hash", ".dynsym", ".dynstr", ".rela.dyn", ".text", ".rodata", ".dynamic", ".data", ".shstrtab"]
    phnum, shnum = 4, 1 + len(sections)
    off = 64 + 56 * phnum
    hash_off = _align(off, 8)
    nbucket = max(1, min(nsyms, 1024))
    hash_size = 4 * (2 + nbucket + nsyms)
    dynsym_off = _align(hash_off + hash_size, 8)
    dynstr_off = dynsym_off + 24 * nsyms
    rela_off = _align(dynstr_off + len(dynstr.blob), 8)
    rela_size = 24 * len(spec.imports)
    text_off = _align(rela_off + rela_size, 16)
    rodata_off = _align(text_off + len(body), 16)
    data_at: dict[str, int] = {}
    at = rodata_off
    for name, value in spec.data.items():
        data_at[name] = at
        at = _align(at + len(value), 8)
    rodata_size = at - rodata_off
    # Writable segment: .dynamic, then the import table.
    dyn_off = _align(at, 0x1000)
    entries: list[tuple[int, int]] = [(_DT["NEEDED"], n) for n in needed_at]
    if spec.soname:
        entries.append((_DT["SONAME"], soname_at))
    entries += [
        (_DT["HASH"], hash_off),
        (_DT["STRTAB"], dynstr_off),
        (_DT["SYMTAB"], dynsym_off),
        (_DT["STRSZ"], len(dynstr.blob)),
        (_DT["SYMENT"], 24),
    ]
    if spec.imports:
        entries += [(_DT["RELA"], rela_off), (_DT["RELASZ"], rela_size), (_DT["RELAENT"], 24)]
    entries.append((_DT["NULL"], 0))
    dyn_size = 16 * len(entries)
    table_off = _align(dyn_off + dyn_size, 8)
    table_size = 8 * len(spec.imports)
    shstr = _Strings()
    sh_names = {s: shstr.add(s) for s in sections}
    shstr_off = table_off + table_size
    shoff = _align(shstr_off + len(shstr.blob), 8)
    index = {s: i + 1 for i, s in enumerate(sections)}

    out = bytearray(shoff + 64 * shnum)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    struct.pack_into("<16sHHIQQQIHHHHHH", out, 0, ident, 3, e_machine, 1, 0, 64, shoff, 0, 64, 56, phnum, 64, shnum,
                     index[".shstrtab"])  # fmt: skip
    ro_end, rw_end = rodata_off + rodata_size, table_off + table_size
    programs = [
        (1, 5, 0, ro_end, 0x1000),  # PT_LOAD r-x
        (1, 6, dyn_off, rw_end - dyn_off, 0x1000),  # PT_LOAD rw-
        (2, 6, dyn_off, dyn_size, 8),  # PT_DYNAMIC
        (0x6474E551, 6, 0, 0, 16),  # PT_GNU_STACK rw- (not executable)
    ]
    for i, (kind, flags, offset, size, align) in enumerate(programs):
        struct.pack_into("<IIQQQQQQ", out, 64 + 56 * i, kind, flags, offset, offset, offset, size, size, align)

    # Symbols: functions share the one body; data in .rodata; the import table in .data; imports undefined.
    symbols: list[tuple[int, int, int, int, int]] = []  # info, shndx, value, size, name offset
    for i, name in enumerate(names):
        if name in spec.functions:
            symbols.append(((_STB_GLOBAL << 4) | _STT_FUNC, index[".text"], text_off, len(body), name_at[i]))
        elif name in spec.data:
            sym = ((_STB_GLOBAL << 4) | _STT_OBJECT, index[".rodata"], data_at[name], len(spec.data[name]), name_at[i])
            symbols.append(sym)
        elif name == IMPORT_TABLE:
            symbols.append(((_STB_GLOBAL << 4) | _STT_OBJECT, index[".data"], table_off, table_size, name_at[i]))
        else:
            symbols.append((_STB_GLOBAL << 4, 0, 0, 0, name_at[i]))
    for i, (info, shndx, address, size, at_name) in enumerate(symbols, start=1):
        struct.pack_into("<IBBHQQ", out, dynsym_off + 24 * i, at_name, info, 0, shndx, address, size)
    buckets, chains = [0] * nbucket, [0] * nsyms
    for i, name in enumerate(names, start=1):
        b = sysv_hash(name.encode("ascii")) % nbucket
        chains[i], buckets[b] = buckets[b], i
    struct.pack_into(f"<II{nbucket}I{nsyms}I", out, hash_off, nbucket, nsyms, *buckets, *chains)
    out[dynstr_off : dynstr_off + len(dynstr.blob)] = dynstr.blob
    first_import = 1 + len(exported)
    for i in range(len(spec.imports)):
        struct.pack_into("<QQq", out, rela_off + 24 * i, table_off + 8 * i, ((first_import + i) << 32) | abs64, 0)
    out[text_off : text_off + len(body)] = body
    for name, value in spec.data.items():
        out[data_at[name] : data_at[name] + len(value)] = value
    for i, (tag, d_val) in enumerate(entries):
        struct.pack_into("<qQ", out, dyn_off + 16 * i, tag, d_val)
    out[shstr_off : shstr_off + len(shstr.blob)] = shstr.blob

    layout = {  # name: type, flags, offset, size, link, info, align, entsize
        ".hash": (_SHT_HASH, _SHF_ALLOC, hash_off, hash_size, index[".dynsym"], 0, 8, 4),
        ".dynsym": (_SHT_DYNSYM, _SHF_ALLOC, dynsym_off, 24 * nsyms, index[".dynstr"], 1, 8, 24),
        ".dynstr": (_SHT_STRTAB, _SHF_ALLOC, dynstr_off, len(dynstr.blob), 0, 0, 1, 0),
        ".rela.dyn": (_SHT_RELA, _SHF_ALLOC, rela_off, rela_size, index[".dynsym"], 0, 8, 24),
        ".text": (_SHT_PROGBITS, _SHF_ALLOC | _SHF_EXEC, text_off, len(body), 0, 0, 16, 0),
        ".rodata": (_SHT_PROGBITS, _SHF_ALLOC, rodata_off, rodata_size, 0, 0, 16, 0),
        ".dynamic": (_SHT_DYNAMIC, _SHF_ALLOC | _SHF_WRITE, dyn_off, dyn_size, index[".dynstr"], 0, 8, 16),
        ".data": (_SHT_PROGBITS, _SHF_ALLOC | _SHF_WRITE, table_off, table_size, 0, 0, 8, 0),
        ".shstrtab": (_SHT_STRTAB, 0, shstr_off, len(shstr.blob), 0, 0, 1, 0),
    }
    for name, (kind, flags, offset, size, link, info, align, entsize) in layout.items():
        addr = offset if flags & _SHF_ALLOC else 0
        struct.pack_into("<IIQQQQIIQQ", out, shoff + 64 * index[name], sh_names[name], kind, flags, addr, offset,
                         size, link, info, align, entsize)  # fmt: skip
    return bytes(out)
