"""Read PyTorch `.pth` state dicts without torch: a restricted unpickler that rebuilds tensors with numpy.

Contract: `read_pth(path)` returns an ordered `{name: float32 ndarray}` from a file written by
`torch.save(state_dict)`, in either layout torch has used: the zip archive (torch >= 1.6:
`<dir>/data.pkl` + `<dir>/data/<key>` storages) or the legacy stream (magic number, protocol,
sys-info, the pickle, the storage keys, then the raw storages). The pickle may name only a state
dict's vocabulary (OrderedDict, `torch._utils._rebuild_tensor_v2`/`_rebuild_parameter`, the
`torch.*Storage` types); anything else is refused with a `UserError` naming the global, so a
file can never run code. A `{"state_dict": ...}` wrapper and a `module.` prefix are unwrapped.
Runs on Python 3.8 with numpy only.
"""

from __future__ import annotations

import io
import lzma
import pickle
import struct
import zipfile
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

from matrix.errors import UserError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

# torch storage type name -> numpy dtype (little-endian, as torch writes them on x86/ARM)
STORAGE_DTYPES: dict[str, str] = {
    "FloatStorage": "<f4",
    "DoubleStorage": "<f8",
    "HalfStorage": "<f2",
    "LongStorage": "<i8",
    "IntStorage": "<i4",
    "ShortStorage": "<i2",
    "CharStorage": "i1",
    "ByteStorage": "u1",
    "BoolStorage": "?",
}


class _StateDict(OrderedDict):  # type: ignore[type-arg]
    """What the pickle's `collections.OrderedDict` becomes: keeps torch's `_metadata`, ignores it."""

    def __setstate__(self, state: Any) -> None:
        self.metadata = state


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name])


class _Storage:
    """A storage whose bytes arrive later (legacy layout) or are read on demand (zip layout)."""

    def __init__(self, stype: _StorageType, key: str, numel: int) -> None:
        self.stype = stype
        self.key = key
        self.numel = numel
        self.array: np.ndarray | None = None


class _Tensor:
    """A tensor reference; materialised once every storage has its bytes."""

    def __init__(self, storage: _Storage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage = storage
        self.offset = offset
        self.size = tuple(int(s) for s in size)
        self.stride = tuple(int(s) for s in stride)

    def materialise(self, where: str) -> np.ndarray:
        data = self.storage.array
        if data is None:
            raise UserError(f"{where}: storage {self.storage.key} has no data; the file is truncated")
        if not self.size:
            if self.offset >= data.size:
                raise UserError(f"{where}: tensor offset past its storage; the file is corrupt")
            return np.array(data[self.offset])
        last = self.offset + sum((n - 1) * s for n, s in zip(self.size, self.stride) if n > 0)
        if any(n == 0 for n in self.size):
            return np.zeros(self.size, dtype=data.dtype)
        if self.offset < 0 or last >= data.size or any(s < 0 for s in self.stride):
            raise UserError(f"{where}: tensor view runs outside its storage; the file is corrupt")
        item = data.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            data[self.offset :], shape=self.size, strides=tuple(s * item for s in self.stride)
        )
        return np.array(view)


def _rebuild_tensor_v2(storage: Any, offset: Any, size: Any, stride: Any, *_rest: Any) -> _Tensor:
    if not isinstance(storage, _Storage):
        raise UserError("_rebuild_tensor_v2 got a non-storage argument; not a plain state dict")
    return _Tensor(storage, int(offset), tuple(size), tuple(stride))


def _rebuild_parameter(data: Any, *_rest: Any) -> Any:
    return data


def _allowed_global(module: str, name: str) -> Any:
    if (module, name) == ("collections", "OrderedDict"):
        return _StateDict
    if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
        return _rebuild_tensor_v2
    if module == "torch._utils" and name == "_rebuild_parameter":
        return _rebuild_parameter
    if module == "torch" and name in STORAGE_DTYPES:
        return _StorageType(name)
    return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, stream: BinaryIO, where: str, on_storage: Callable[[tuple[Any, ...]], _Storage]) -> None:
        super().__init__(stream)
        self._where = where
        self._on_storage = on_storage

    def find_class(self, module: str, name: str) -> Any:
        found = _allowed_global(module, name)
        if found is None:
            raise UserError(
                f"{self._where}: the pickle names {module}.{name}, which a plain state dict does not; "
                "refusing to load it (save the weights with torch.save(model.state_dict(), ...) or as .wts)"
            )
        return found

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise UserError(f"{self._where}: unknown persistent id {pid!r}; not a torch state dict")
        return self._on_storage(pid)


def _storage_from_pid(pid: tuple[Any, ...], where: str, storages: dict[str, _Storage]) -> _Storage:
    # zip: ('storage', type, key, location, numel); legacy: (..., numel, view_metadata)
    if len(pid) < 5 or not isinstance(pid[1], _StorageType):
        raise UserError(f"{where}: malformed storage reference {pid[:3]!r}")
    if len(pid) > 5 and pid[5] is not None:
        raise UserError(f"{where}: storage views (torch < 0.4 files) are not supported")
    key = str(pid[2])
    if key not in storages:
        storages[key] = _Storage(pid[1], key, int(pid[4]))
    return storages[key]


def _collect(obj: Any, where: str) -> OrderedDict[str, np.ndarray]:
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise UserError(f"{where}: the file holds a {type(obj).__name__}, not a state dict")
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for raw_key, value in obj.items():
        key = str(raw_key)
        if key.startswith("module."):  # saved from nn.DataParallel, as Pytorch_Retinaface's training does
            key = key[len("module.") :]
        if not isinstance(value, _Tensor):
            raise UserError(f"{where}: entry {key!r} is a {type(value).__name__}, not a tensor")
        out[key] = value.materialise(f"{where}: {key}")
    return out


def _read_zip(path: Path, where: str) -> OrderedDict[str, np.ndarray]:
    with zipfile.ZipFile(str(path)) as zf:
        names = zf.namelist()
        pkl = [n for n in names if n.endswith("/data.pkl") or n == "data.pkl"]
        if len(pkl) != 1:
            raise UserError(f"{where}: a zip without exactly one data.pkl; not a torch.save file")
        prefix = pkl[0][: -len("data.pkl")]
        byteorder = prefix + "byteorder"
        if byteorder in names and zf.read(byteorder).strip() != b"little":
            raise UserError(f"{where}: big-endian torch files are not supported")
        storages: dict[str, _Storage] = {}
        unpickler = _Unpickler(io.BytesIO(zf.read(pkl[0])), where, lambda pid: _storage_from_pid(pid, where, storages))
        obj = unpickler.load()
        for key, storage in storages.items():
            member = prefix + "data/" + key
            if member not in names:
                raise UserError(f"{where}: storage {member} is missing from the archive")
            raw = zf.read(member)
            need = storage.numel * storage.stype.dtype.itemsize
            if len(raw) < need:
                raise UserError(f"{where}: storage {member} is truncated")
            storage.array = np.frombuffer(raw[:need], dtype=storage.stype.dtype)
    return _collect(obj, where)


def _read_legacy(path: Path, where: str) -> OrderedDict[str, np.ndarray]:
    with open(path, "rb") as f:
        head = _Unpickler(f, where, lambda pid: _refuse_pid(pid, where))
        if head.load() != LEGACY_MAGIC:
            raise UserError(f"{where}: not a torch.save file (neither a zip archive nor the legacy format)")
        if _Unpickler(f, where, lambda pid: _refuse_pid(pid, where)).load() != LEGACY_PROTOCOL:
            raise UserError(f"{where}: unsupported legacy torch protocol")
        sys_info = _Unpickler(f, where, lambda pid: _refuse_pid(pid, where)).load()
        if not isinstance(sys_info, dict) or not sys_info.get("little_endian", False):
            raise UserError(f"{where}: big-endian torch files are not supported")
        storages: dict[str, _Storage] = {}
        obj = _Unpickler(f, where, lambda pid: _storage_from_pid(pid, where, storages)).load()
        keys: list[Any] = _Unpickler(f, where, lambda pid: _refuse_pid(pid, where)).load()
        for key in keys:
            storage = storages.get(str(key))
            if storage is None:
                raise UserError(f"{where}: storage {key} is listed but never used; the file is corrupt")
            size_bytes = f.read(8)
            if len(size_bytes) != 8:
                raise UserError(f"{where}: the file ends inside storage {key}")
            (numel,) = struct.unpack("<q", size_bytes)
            raw = f.read(numel * storage.stype.dtype.itemsize)
            if numel < storage.numel or len(raw) != numel * storage.stype.dtype.itemsize:
                raise UserError(f"{where}: storage {key} is truncated")
            storage.array = np.frombuffer(raw, dtype=storage.stype.dtype)
    return _collect(obj, where)


def _refuse_pid(pid: Any, where: str) -> _Storage:
    raise UserError(f"{where}: unexpected storage reference in a header pickle")


# What damaged bytes make the unpickler, zipfile and its decompressors raise (found by fuzzing,
# tests/unit/models/test_readers_fuzz.py): a declared length past the end (MemoryError, OverflowError),
# an unsupported or encrypted member (NotImplementedError, RuntimeError), bad deflate/lzma/bz2 data
# (zlib.error, lzma.LZMAError, OSError), a pickle opcode given the wrong stack (IndexError, AttributeError).
_DAMAGE = (
    pickle.UnpicklingError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    MemoryError,
    RuntimeError,
    OSError,
    struct.error,
    zlib.error,
    lzma.LZMAError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
)


def read_pth(path: str | Path) -> OrderedDict[str, np.ndarray]:
    """The tensors of a torch state-dict file, by name, as float32 arrays (integers kept as int64)."""
    p = Path(path)
    where = str(p)
    if not p.is_file():
        raise UserError(f"{where}: no such weights file")
    try:
        tensors = _read_zip(p, where) if zipfile.is_zipfile(str(p)) else _read_legacy(p, where)
    except UserError:
        raise
    except _DAMAGE as exc:
        detail = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise UserError(f"{where}: not a readable torch state dict ({detail})") from exc
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, arr in tensors.items():
        if arr.dtype.kind == "f":
            out[name] = arr.astype(np.float32)
        else:
            out[name] = arr.astype(np.int64)
    return out
