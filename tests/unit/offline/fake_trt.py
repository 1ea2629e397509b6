"""For tests: fake TensorRT installations in a temporary folder, made without a C compiler.

`shared_library(path, soname, exports)` writes a minimal x86-64 ELF shared object whose functions each
return a constant (`mov eax, imm32; ret`), with .hash/.dynsym/.dynstr/.dynamic and section headers, so
that both the dynamic loader (ctypes) and pyelftools read it. `trtexec_script(path, number)` writes a
script printing trtexec's banner. Nothing here is TensorRT; it only carries TensorRT's names.
"""

from __future__ import annotations

import struct
from pathlib import Path


def _align(data: bytearray, to: int) -> int:
    while len(data) % to:
        data.append(0)
    return len(data)


def shared_library(path: Path, soname: str, exports: dict[str, int], needed: tuple[str, ...] = ()) -> Path:
    names = list(exports)
    strtab = bytearray(b"\0")
    offsets = {}
    for name in [*names, soname, *needed]:
        offsets[name] = len(strtab)
        strtab += name.encode() + b"\0"
    out = bytearray(64 + 2 * 56)  # ELF header and two program headers, filled in last
    # .hash: one bucket, a chain over every symbol
    nsyms = len(names) + 1
    hash_at = _align(out, 8)
    chain = [0] + [i + 1 if i + 1 < nsyms else 0 for i in range(1, nsyms)]
    out += struct.pack(f"<II{1 + nsyms}I", 1, nsyms, 1 if names else 0, *chain)
    dynsym_at = _align(out, 8)
    out += b"\0" * 24 * nsyms  # symbols, filled in once .text is placed
    dynstr_at = len(out)
    out += strtab
    text_at = _align(out, 16)
    code = {}
    for name in names:
        code[name] = len(out)
        out += b"\xb8" + struct.pack("<I", exports[name] & 0xFFFFFFFF) + b"\xc3"
    text_size = len(out) - text_at
    for i, name in enumerate(names, start=1):
        struct.pack_into("<IBBHQQ", out, dynsym_at + 24 * i, offsets[name], 0x12, 0, 5, code[name], 6)
    dynamic_at = _align(out, 8)
    tags = [(1, offsets[n]) for n in needed]
    tags += [(4, hash_at), (5, dynstr_at), (6, dynsym_at), (10, len(strtab)), (11, 24), (14, offsets[soname]), (0, 0)]
    for tag, value in tags:
        out += struct.pack("<qQ", tag, value)
    dynamic_size = len(out) - dynamic_at
    shstr = b"\0.hash\0.dynsym\0.dynstr\0.text\0.dynamic\0.shstrtab\0"
    shstr_at = len(out)
    out += shstr
    end = _align(out, 8)

    def name_of(section: str) -> int:
        return shstr.index(section.encode() + b"\0")

    # (name, type, flags, addr/offset, size, link, info, align, entsize); sh_type: 5 HASH, 11 DYNSYM, 3 STRTAB,
    # 1 PROGBITS, 6 DYNAMIC. Section 5 is .text, which the symbols name as their section.
    sections = [
        (0, 0, 0, 0, 0, 0, 0, 0, 0),
        (name_of(".hash"), 5, 2, hash_at, dynsym_at - hash_at, 2, 0, 8, 4),
        (name_of(".dynsym"), 11, 2, dynsym_at, 24 * nsyms, 3, 1, 8, 24),
        (name_of(".dynstr"), 3, 2, dynstr_at, len(strtab), 0, 0, 1, 0),
        (name_of(".dynamic"), 6, 3, dynamic_at, dynamic_size, 3, 0, 8, 16),
        (name_of(".text"), 1, 6, text_at, text_size, 0, 0, 16, 0),
        (name_of(".shstrtab"), 3, 0, shstr_at, len(shstr), 0, 0, 1, 0),
    ]
    for row in sections:
        flags, at = row[2], row[3]
        addr = at if flags & 2 else 0
        out += struct.pack("<IIQQQQIIQQ", *row[:3], addr, *row[3:])
    total = len(out)
    ident = b"\x7fELF\x02\x01\x01" + b"\0" * 9
    struct.pack_into("<16sHHIQQQIHHHHHH", out, 0, ident, 3, 62, 1, 0, 64, end, 0, 64, 56, 2, 64, len(sections), 6)
    struct.pack_into("<IIQQQQQQ", out, 64, 1, 7, 0, 0, 0, total, total, 0x1000)  # PT_LOAD, RWX, whole file
    struct.pack_into("<IIQQQQQQ", out, 120, 2, 6, dynamic_at, dynamic_at, dynamic_at, dynamic_size, dynamic_size, 8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(out))
    path.chmod(0o755)
    return path


def libnvinfer(folder: Path, version: str = "8.6.1") -> Path:
    """`libnvinfer.so.X.Y.Z` exporting getInferLibVersion() (8601 for 8.6.1), and its soname link."""
    major, minor, patch = (int(p) for p in version.split("."))
    number = major * 1000 + minor * 100 + patch if major < 10 else major * 10000 + minor * 100 + patch
    lib = shared_library(folder / f"libnvinfer.so.{version}", f"libnvinfer.so.{major}", {"getInferLibVersion": number})
    link = folder / f"libnvinfer.so.{major}"
    if not link.exists():
        link.symlink_to(lib.name)
    return lib


def trtexec_script(path: Path, number: int = 8501) -> Path:
    """A `trtexec` that prints the banner of TensorRT `number` (8501 = 8.5.1), as the real one does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        f'echo "&&&& RUNNING TensorRT.trtexec [TensorRT v{number}] # trtexec $*"\n'
        'echo "=== Model Options ==="\n',
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path
