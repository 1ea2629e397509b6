"""Read a TensorRT plan (engine) file's header without TensorRT.

Contract: `inspect_file(path)` / `inspect_bytes(data)` (alias `parse`) return a frozen `PlanFile`
saying what the bytes are (`plan`, `wrapped-plan`, `lfs-pointer`, `not-a-plan`) and, for plans, the
builder version, serialization tag, `ftrt` sections and platform id. Bad, empty, truncated or
corrupted input raises `PlanFileError` and nothing else. Standard library only, Python 3.8 (the
in-image deserialize check classifies plans with it). Layout: ../shared/research/plan-header.md.
"""

from __future__ import annotations

import dataclasses
import json
import mmap
import struct
from typing import Any, Protocol, Tuple, Union

KIND_PLAN = "plan"
KIND_WRAPPED = "wrapped-plan"
KIND_LFS = "lfs-pointer"
KIND_NOT_A_PLAN = "not-a-plan"
KINDS = (KIND_PLAN, KIND_WRAPPED, KIND_LFS, KIND_NOT_A_PLAN)

MAGIC_PTRT = b"ptrt"  # TensorRT up to 8.5, and the ENGN section of an ftrt container
MAGIC_FTRT = b"ftrt"  # TensorRT 8.6 and later: a container of sections
FTRT_END = 0x8B8D8B99  # last u32 of an ftrt container
PTRT_END = 0x8B8D8B8F  # last u32 of the inner ptrt plan of an ftrt container
RECORD_LEGACY = 0x0002  # version record type up to 8.0
RECORD_CURRENT = 0x8002  # from 8.2
LFS_PREFIXES = (b"version https://git-lfs.github.com/spec/", b"version https://hawser.github.com/spec/")
MAX_SECTIONS = 64  # far above the 1-2 seen; more means a corrupted table
MAX_METADATA = 16 << 20  # a wrapper's JSON metadata larger than this is not read

# ftrt bytes 0x1C..0x1F. Meaning inferred from samples (plan-header.md), so each comes with its evidence.
PLATFORM_IDS = {
    b"rtrt": ("x86_64", "platform id 'rtrt': seen on x86-64 builds of 10.x"),
    b"utrt": (None, "platform id 'utrt': seen on one Jetson Orin 10.3 build; meaning unconfirmed"),
    b"\0\0\0\0": (None, "platform id 00000000: seen on 8.6.1.6 builds, which record no platform"),
}

Version = Tuple[int, int, int, int]


class Window(Protocol):
    """Anything with a length and byte slices: a lazily read file (matrix.plans reads file objects so)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: slice) -> bytes: ...


Buffer = Union[bytes, mmap.mmap, Window]


class PlanFileError(ValueError):
    """The input is empty, truncated, corrupted or unreadable: the one error this module raises."""


@dataclasses.dataclass(frozen=True)
class Section:
    """One section of an `ftrt` container; `name` is the fourcc read the right way round (ENGN, WGHT)."""

    name: str
    offset: int
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "offset": self.offset, "size": self.size}


@dataclasses.dataclass(frozen=True)
class InnerPlan:
    """A `ptrt` plan: the whole file (up to 8.5) or the ENGN section of an `ftrt` container.

    `layout` is `legacy-24` (6.0-8.0: tag at 0x04), `safety-24` (8.2 on: safety tag at 0x04, tag at
    0x08) or `compact-20` (seen on 10.6 and 10.15 ENGN sections: tag at 0x04); `unknown` when no
    version records follow either header size. Offsets are absolute in the file.
    """

    offset: int
    size: int
    layout: str
    header_size: int
    serialization_tag: int | None
    safety_tag: int | None
    builder_version: Version | None
    record_type: int | None
    end_marker: bool | None


@dataclasses.dataclass(frozen=True)
class Wrapper:
    """A tool's wrapper around a plan: u32 length + JSON metadata + plan (Ultralytics' export)."""

    kind: str
    metadata_size: int
    plan_offset: int
    metadata_json: str


@dataclasses.dataclass(frozen=True)
class LfsPointer:
    """A Git LFS pointer committed in place of the plan."""

    spec: str
    oid: str | None
    size: int | None


@dataclasses.dataclass(frozen=True)
class PlanFile:
    """What a file is and what its header says. Fields that do not apply are None or empty."""

    kind: str
    file_size: int
    magic: str | None = None
    builder_version: Version | None = None
    serialization_tag: int | None = None
    safety_tag: int | None = None
    sections: tuple[Section, ...] = ()
    platform_id: str | None = None
    platform: str | None = None
    platform_note: str = ""
    plan: InnerPlan | None = None
    wrapper: Wrapper | None = None
    lfs: LfsPointer | None = None
    version_compatible: str = "n/a"  # "no" (built before 8.6), "unknown" (the header does not say)
    version_compatible_reason: str = ""
    looks_like: str = ""
    notes: tuple[str, ...] = ()
    first_bytes: bytes = b""  # the file's first 16 bytes (what TensorRT reads as magic and tag)

    @property
    def is_plan(self) -> bool:
        return self.kind in (KIND_PLAN, KIND_WRAPPED)

    @property
    def version_string(self) -> str | None:
        """'10.15.1.29', or None when the header does not say."""
        return None if self.builder_version is None else ".".join(str(p) for p in self.builder_version)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "file_size": self.file_size,
            "magic": self.magic,
            "builder_version": self.version_string,
            "serialization_tag": self.serialization_tag,
            "safety_tag": self.safety_tag,
            "sections": [s.to_json() for s in self.sections],
            "platform": self.platform,
            "platform_id": self.platform_id,
            "platform_note": self.platform_note,
            "version_compatible": self.version_compatible,
            "version_compatible_reason": self.version_compatible_reason,
            "header_layout": self.plan.layout if self.plan else None,
            "notes": list(self.notes),
            "first_bytes": self.first_bytes.hex(),
        }
        if self.wrapper is not None:
            try:
                metadata: Any = json.loads(self.wrapper.metadata_json)
            except ValueError:  # pragma: no cover - only valid JSON is kept
                metadata = None
            out["wrapper"] = {
                "kind": self.wrapper.kind,
                "metadata_size": self.wrapper.metadata_size,
                "plan_offset": self.wrapper.plan_offset,
                "metadata": metadata,
            }
        if self.lfs is not None:
            out["lfs"] = {"spec": self.lfs.spec, "oid": self.lfs.oid, "size": self.lfs.size}
        if self.looks_like:
            out["looks_like"] = self.looks_like
        return out


class _View:
    """Bounds-checked little-endian reads over a window [start, end) of a buffer."""

    def __init__(self, data: Buffer, start: int, end: int, what: str) -> None:
        self.data, self.start, self.end, self.what = data, start, end, what

    def __len__(self) -> int:
        return self.end - self.start

    def sub(self, offset: int, length: int, what: str) -> _View:
        self._need(offset, length)
        return _View(self.data, self.start + offset, self.start + offset + length, what)

    def raw(self, offset: int, length: int) -> bytes:
        self._need(offset, length)
        return bytes(self.data[self.start + offset : self.start + offset + length])

    def u16(self, offset: int) -> int:
        return int(struct.unpack("<H", self.raw(offset, 2))[0])

    def u32(self, offset: int) -> int:
        return int(struct.unpack("<I", self.raw(offset, 4))[0])

    def u64(self, offset: int) -> int:
        return int(struct.unpack("<Q", self.raw(offset, 8))[0])

    def _need(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > len(self):
            raise PlanFileError(
                f"truncated {self.what}: needs bytes up to 0x{offset + length:x}, has {len(self)} bytes"
            )


def _records(view: _View, offset: int) -> tuple[int, Version] | None:
    """Four `u16 type, u16 count=1, u8 value` version records at `offset`, or None."""
    if offset + 20 > len(view):
        return None
    parts = []
    kind = view.u16(offset)
    if kind not in (RECORD_LEGACY, RECORD_CURRENT):
        return None
    for i in range(4):
        at = offset + 5 * i
        if view.u16(at) != kind or view.u16(at + 2) != 1:
            return None
        parts.append(view.raw(at + 4, 1)[0])
    return kind, (parts[0], parts[1], parts[2], parts[3])


def _parse_ptrt(view: _View, notes: list[str], inner: bool) -> InnerPlan:
    """A ptrt plan filling `view` (the whole file, or an ENGN section)."""
    view.raw(0, 20)  # the shortest header known
    found24, found20 = _records(view, 24), _records(view, 20)
    record_type: int | None = None
    version: Version | None = None
    if found24 is not None:
        record_type, version = found24
        if record_type == RECORD_LEGACY:
            layout, header, tag, safety = "legacy-24", 24, view.u32(4), None
            sizes = [view.u64(0x0C), view.u64(0x10)]  # 7.x keeps it at 0x0C, 8.0 at 0x10
        else:
            layout, header, tag, safety = "safety-24", 24, view.u32(8), view.u32(4)
            sizes = [view.u64(0x10)]
    elif found20 is not None and found20[0] == RECORD_CURRENT:
        record_type, version = found20
        layout, header, tag, safety = "compact-20", 20, view.u32(4), None
        sizes = [view.u64(0x08)]
    else:
        view.raw(0, 24)
        layout, header, safety = "unknown", 24, None
        tag = view.u32(8) if view.u32(4) == 0 else view.u32(4)
        fields = [(24, view.u64(0x0C)), (24, view.u64(0x10)), (20, view.u64(0x08))]
        if all(size > len(view) - length for length, size in fields):
            raise PlanFileError(
                f"truncated or corrupted {view.what}: no builder-version records, and every size field "
                f"declares more than the {len(view)} bytes there"
            )
        notes.append("no builder-version records after a 24- or 20-byte header: the version is not readable")
        sizes = []
    payload = len(view) - header
    if sizes and payload not in sizes:
        if all(s > payload for s in sizes):
            raise PlanFileError(
                f"truncated or corrupted {view.what}: its header declares {min(sizes)} bytes after "
                f"the {header}-byte header, {payload} are there"
            )
        shortest = max(s for s in sizes if s < payload)
        notes.append(f"{view.what} declares {shortest} bytes after its header; {payload - shortest} more bytes follow")
    end_marker: bool | None = None
    if inner:
        end_marker = view.u32(len(view) - 4) == PTRT_END
        if not end_marker:
            notes.append(f"the ENGN plan does not end with 0x{PTRT_END:08X}: truncated or corrupted?")
    elif len(view) >= 4 and view.u32(len(view) - 4) == PTRT_END:
        end_marker = True
    return InnerPlan(
        offset=view.start,
        size=len(view),
        layout=layout,
        header_size=header,
        serialization_tag=tag,
        safety_tag=safety,
        builder_version=version,
        record_type=record_type,
        end_marker=end_marker,
    )


def _fourcc(raw: bytes) -> str:
    name = raw[::-1]
    if all(0x20 < b < 0x7F for b in name):
        return name.decode("ascii")
    return "0x" + name.hex()


def _version_compatibility(version: Version | None, sections: tuple[Section, ...]) -> tuple[str, str]:
    if version is not None and version[:2] < (8, 6):
        return "no", "built by {}: version compatibility starts with 8.6".format(".".join(map(str, version)))
    extra = [s.name for s in sections if s.name not in ("ENGN", "WGHT")]
    if extra:
        return "unknown", (
            "the header does not record it; the extra section(s) {} may be the lean runtime a "
            "version-compatible plan embeds".format(", ".join(extra))
        )
    return "unknown", (
        "the header does not record it (no version-compatible plan has been examined yet; such a plan "
        "embeds a lean runtime unless built with EXCLUDE_LEAN_RUNTIME)"
    )


def _parse_plan(view: _View, kind: str, notes: list[str], wrapper: Wrapper | None = None) -> PlanFile:
    magic = view.raw(0, 4)
    if magic == MAGIC_PTRT:
        plan = _parse_ptrt(view, notes, inner=False)
        vc, why = _version_compatibility(plan.builder_version, ())
        return PlanFile(
            kind=kind,
            file_size=len(view.data),
            magic="ptrt",
            builder_version=plan.builder_version,
            serialization_tag=plan.serialization_tag,
            safety_tag=plan.safety_tag,
            platform_note="a ptrt header records no platform",
            plan=plan,
            wrapper=wrapper,
            version_compatible=vc,
            version_compatible_reason=why,
            notes=tuple(notes),
        )
    return _parse_ftrt(view, kind, notes, wrapper)


def _parse_ftrt(view: _View, kind: str, notes: list[str], wrapper: Wrapper | None) -> PlanFile:
    view.raw(0, 0x20)
    count, total = view.u32(0x08), view.u64(0x10)
    if not 0 < count <= MAX_SECTIONS:
        raise PlanFileError(f"corrupted ftrt header: it declares {count} sections")
    if total > len(view):
        raise PlanFileError(f"truncated ftrt plan: its header declares {total} bytes, the file has {len(view)}")
    if total < len(view):
        notes.append(f"{len(view) - total} bytes follow the {total}-byte plan the header declares")
    body = view.sub(0, total, "ftrt plan")
    table_end = 0x20 + 24 * count
    sections = []
    for i in range(count):
        at = 0x20 + 24 * i
        name, offset, size = _fourcc(body.raw(at, 4)), body.u64(at + 8), body.u64(at + 16)
        if offset < table_end or offset + size > total:
            raise PlanFileError(
                f"truncated or corrupted ftrt plan: section {name} claims bytes "
                f"0x{offset:x}..0x{offset + size:x} of a {total}-byte plan"
            )
        sections.append(Section(name=name, offset=offset, size=size))
    raw_version = body.raw(0x18, 4)
    version: Version = (raw_version[0], raw_version[1], raw_version[2], raw_version[3])
    raw_platform = body.raw(0x1C, 4)
    platform, platform_note = PLATFORM_IDS.get(raw_platform, (None, "unknown platform id"))
    printable = all(0x20 < b < 0x7F for b in raw_platform)
    if body.u32(total - 4) != FTRT_END:
        notes.append(f"the plan does not end with 0x{FTRT_END:08X}: truncated or corrupted?")
    engines = [s for s in sections if s.name == "ENGN"]
    plan: InnerPlan | None = None
    if not engines:
        notes.append("no ENGN section: the serialization tag is not readable")
    else:
        engn = engines[0]
        inner = body.sub(engn.offset, engn.size, "ENGN section")
        if inner.raw(0, 4) != MAGIC_PTRT:
            raise PlanFileError(
                f"corrupted ftrt plan: its ENGN section at 0x{engn.offset:x} does not start with 'ptrt'"
            )
        plan = _parse_ptrt(inner, notes, inner=True)
        if plan.builder_version is not None and plan.builder_version != version:
            notes.append(
                "the ENGN plan says it was built by {}, the container header says {}".format(
                    ".".join(map(str, plan.builder_version)), ".".join(map(str, version))
                )
            )
    vc, why = _version_compatibility(version, tuple(sections))
    return PlanFile(
        kind=kind,
        file_size=len(view.data),
        magic="ftrt",
        builder_version=version,
        serialization_tag=plan.serialization_tag if plan else None,
        safety_tag=plan.safety_tag if plan else None,
        sections=tuple(sections),
        platform_id=raw_platform.decode("ascii") if printable else raw_platform.hex(),
        platform=platform,
        platform_note=platform_note,
        plan=plan,
        wrapper=wrapper,
        version_compatible=vc,
        version_compatible_reason=why,
        notes=tuple(notes),
    )


def _lfs(view: _View) -> PlanFile:
    text = view.raw(0, min(len(view), 1024)).decode("utf-8", "replace")
    spec, oid, size = "", None, None
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == "version":
            spec = value.strip()
        elif key == "oid":
            oid = value.strip()
        elif key == "size" and value.strip().isdigit():
            size = int(value.strip())
    return PlanFile(
        kind=KIND_LFS,
        file_size=len(view),
        lfs=LfsPointer(spec=spec, oid=oid, size=size),
        looks_like="a Git LFS pointer: the plan itself was never fetched (run `git lfs pull`)",
    )


def _wrapped(view: _View) -> PlanFile | None:
    """A `u32 length + JSON + plan` file, or None when the bytes are not one."""
    if len(view) < 9 or view.raw(4, 1) != b"{":
        return None
    length = view.u32(0)
    if length > MAX_METADATA:
        return None
    if 4 + length > len(view):
        raise PlanFileError(
            f"truncated wrapped plan: it declares {length} bytes of JSON metadata, the file has {len(view)}"
        )
    try:
        metadata = json.loads(view.raw(4, length).decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(metadata, dict):
        return None
    if 4 + length + 4 > len(view) or view.raw(4 + length, 4) not in (MAGIC_PTRT, MAGIC_FTRT):
        return PlanFile(
            kind=KIND_NOT_A_PLAN,
            file_size=len(view),
            looks_like=f"u32 length + JSON metadata, but no plan follows at 0x{4 + length:x}",
        )
    wrapper = Wrapper(
        kind="length-prefixed-json",
        metadata_size=length,
        plan_offset=4 + length,
        metadata_json=json.dumps(metadata, sort_keys=True),
    )
    inner = view.sub(4 + length, len(view) - 4 - length, "plan after the metadata")
    return _parse_plan(inner, KIND_WRAPPED, [], wrapper)


_LOOKS_LIKE = (
    (b"PK\x03\x04", "a zip archive (a PyTorch .pt/.pth checkpoint is one)"),
    (b"\x1f\x8b", "a gzip stream"),
    (b"\x89HDF", "an HDF5 file (Keras .h5 weights?)"),
    (b"<!DOCTYPE", "an HTML page (a web page saved instead of the raw file?)"),
    (b"<html", "an HTML page (a web page saved instead of the raw file?)"),
    (b"\x7fELF", "an ELF binary or shared library"),
)


def _not_a_plan(view: _View) -> PlanFile:
    head = view.raw(0, min(len(view), 16))
    what = "unknown data"
    for prefix, description in _LOOKS_LIKE:
        if head.startswith(prefix):
            what = description
            break
    return PlanFile(
        kind=KIND_NOT_A_PLAN,
        file_size=len(view),
        looks_like=f"{what} (first bytes {head.hex()})",
    )


def inspect_bytes(data: Buffer) -> PlanFile:
    """Classify `data` and read its header; raises `PlanFileError` on empty, truncated or corrupted input."""
    view = _View(data, 0, len(data), "plan")
    if len(view) == 0:
        raise PlanFileError("empty file (0 bytes): not a plan")
    head = view.raw(0, min(len(view), 64))
    if head[:4] in (MAGIC_PTRT, MAGIC_FTRT):
        found = _parse_plan(view, KIND_PLAN, [])
    elif any(head.startswith(p) for p in LFS_PREFIXES):
        found = _lfs(view)
    elif len(view) < 4:
        raise PlanFileError(f"{len(view)} bytes: too short to be a plan")
    else:
        found = _wrapped(view) or _not_a_plan(view)
    return dataclasses.replace(found, first_bytes=head[:16])


def parse(data: Buffer) -> PlanFile:
    """The same as `inspect_bytes` (the name matrix.suite.planfile_glue uses)."""
    return inspect_bytes(data)


def inspect_file(path: str) -> PlanFile:
    """`inspect_bytes` of a file, mapped rather than read (plans run to gigabytes)."""
    try:
        with open(path, "rb") as handle:
            try:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (ValueError, OSError):  # empty files, pipes, special files
                return inspect_bytes(handle.read())
            with mapped:
                return inspect_bytes(mapped)
    except IsADirectoryError:
        raise PlanFileError("is a directory, not a plan file") from None
    except FileNotFoundError:
        raise PlanFileError("no such file") from None
    except OSError as exc:
        raise PlanFileError(f"cannot read: {exc.strerror or exc}") from None
