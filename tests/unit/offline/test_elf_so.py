"""The ELF writer: what it writes reads back with pyelftools exactly as specified, and bad specs are refused.

That the dynamic linker loads its output, resolves its imports and calls its functions is tested where
it matters: tests/unit/offline/test_standin.py and tests/unit/suite/test_standin_probe.py.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from matrix.offline import elf_so

needs_writer = pytest.mark.skipif(not elf_so.supported(), reason="elf_so writes x86-64 and AArch64 only")


@pytest.mark.parametrize("machine", ["x86_64", "aarch64"])
def test_the_written_library_reads_back_as_specified(machine: str) -> None:
    spec = elf_so.SharedObject(
        functions=["a_INTERNAL", "b"],
        data={"marker": b"text\0"},
        needed=["libc.so.6"],
        soname="libnvx.so.1",
        imports=["puts"],
        machine=machine,
    )
    elf = ELFFile(io.BytesIO(elf_so.shared_object(spec)))
    assert elf["e_type"] == "ET_DYN" and elf["e_machine"] == {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}[machine]
    dynamic = next(s for s in elf.iter_sections() if isinstance(s, DynamicSection))
    assert [vars(t)["needed"] for t in dynamic.iter_tags("DT_NEEDED")] == ["libc.so.6"]
    assert [vars(t)["soname"] for t in dynamic.iter_tags("DT_SONAME")] == ["libnvx.so.1"]
    dynsym = elf.get_section_by_name(".dynsym")
    assert isinstance(dynsym, SymbolTableSection)
    kinds = {s.name: (s["st_info"]["type"], s["st_shndx"] == "SHN_UNDEF") for s in dynsym.iter_symbols() if s.name}
    assert kinds == {
        "a_INTERNAL": ("STT_FUNC", False),
        "b": ("STT_FUNC", False),
        "marker": ("STT_OBJECT", False),
        elf_so.IMPORT_TABLE: ("STT_OBJECT", False),
        "puts": ("STT_NOTYPE", True),
    }
    rela = elf.get_section_by_name(".rela.dyn")
    assert isinstance(rela, RelocationSection) and rela.num_relocations() == 1


def test_sysv_hash_matches_the_gabi_examples() -> None:
    assert elf_so.sysv_hash(b"") == 0
    assert elf_so.sysv_hash(b"printf") == 0x077905A6


def test_bad_specs_are_refused() -> None:
    with pytest.raises(ValueError, match="riscv64"):
        elf_so.shared_object(elf_so.SharedObject(functions=["f"], machine="riscv64"))
    with pytest.raises(ValueError, match="named twice"):
        elf_so.shared_object(elf_so.SharedObject(functions=["f"], imports=["f"]))


@needs_writer
def test_a_written_function_returns_null_and_data_holds_its_bytes(tmp_path: Path) -> None:
    library = tmp_path / "libx.so"
    library.write_bytes(elf_so.shared_object(elf_so.SharedObject(functions=["f", "g"], data={"d": b"hi\0"})))
    code = (
        "import ctypes, sys\n"
        "lib = ctypes.CDLL(sys.argv[1])\n"
        "lib.f.restype = lib.g.restype = ctypes.c_void_p\n"
        "print(lib.f(), lib.g(), ctypes.string_at(ctypes.addressof(ctypes.c_char.in_dll(lib, 'd'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(library)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "None", "b'hi'"]
