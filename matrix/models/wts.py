"""tensorrtx `.wts` weight files: read and write.

Contract: the format tensorrtx's gen_wts.py scripts write: a first line with the tensor count, then
one line per tensor, `name n v1 v2 ... vn`, each value the 8 hex digits of a big-endian IEEE float32
(`struct.pack('>f', v).hex()`). `.wts` keeps no shapes: `read_wts` returns flat float32 arrays and
the caller reshapes them against the architecture. A malformed file is a `UserError` naming the
line. Python 3.8, numpy only.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np

from matrix.errors import UserError


def read_wts(path: str | Path) -> OrderedDict[str, np.ndarray]:
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: no such weights file")
    try:
        text = p.read_text(encoding="ascii")
    except UnicodeDecodeError as exc:
        raise UserError(f"{p}: not a .wts file (not ASCII text)") from exc
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise UserError(f"{p}: empty .wts file")
    try:
        count = int(lines[0].strip())
    except ValueError as exc:
        raise UserError(f"{p}: line 1 should be the tensor count, got {lines[0][:40]!r}") from exc
    if count != len(lines) - 1:
        raise UserError(f"{p}: header says {count} tensors, the file has {len(lines) - 1} lines of them")
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for lineno, line in enumerate(lines[1:], start=2):
        parts = line.split()
        if len(parts) < 2:
            raise UserError(f"{p}: line {lineno}: expected 'name count values...'")
        name = parts[0]
        try:
            n = int(parts[1])
        except ValueError as exc:
            raise UserError(f"{p}: line {lineno} ({name}): count {parts[1]!r} is not a number") from exc
        values = parts[2:]
        if len(values) != n:
            raise UserError(f"{p}: line {lineno} ({name}): says {n} values, has {len(values)}")
        if any(len(v) != 8 for v in values):
            raise UserError(f"{p}: line {lineno} ({name}): values must be 8 hex digits each")
        try:
            raw = bytes.fromhex("".join(values))
        except ValueError as exc:
            raise UserError(f"{p}: line {lineno} ({name}): a value is not hexadecimal") from exc
        if name in out:
            raise UserError(f"{p}: line {lineno}: tensor {name} appears twice")
        out[name] = np.frombuffer(raw, dtype=">f4").astype(np.float32)
    return out


def write_wts(path: str | Path, tensors: dict[str, np.ndarray]) -> None:
    """Write tensors (any shape; flattened in C order) as a tensorrtx `.wts` file."""
    p = Path(path)
    with open(p, "wb") as f:
        f.write(f"{len(tensors)}\n".encode("ascii"))
        for name, arr in tensors.items():
            if not name or any(c.isspace() for c in name) or not name.isascii():
                raise UserError(f"tensor name {name!r} cannot be written to .wts (names are space-separated)")
            flat = np.ascontiguousarray(np.asarray(arr, dtype=np.float32).reshape(-1)).astype(">f4")
            chunks = np.frombuffer(flat.tobytes().hex().encode("ascii"), dtype="S8")
            f.write(f"{name} {flat.size}".encode("ascii"))
            if flat.size:
                f.write(b" ")
                f.write(b" ".join(chunks.tolist()))
            f.write(b"\n")
