"""`matrix.plans`: will this TensorRT plan (engine) file load here? Read from its header, without TensorRT.

Public API (semantic versioning from 1.0.0, pinned by tests/unit/plans/test_api.py; `API_VERSION`):

- `identify(source) -> PlanInfo`: what the bytes are (`plan`, `wrapped-plan`, `lfs-pointer`,
  `not-a-plan`), the magic, the builder version, the serialization tag, the platform and, for a plan
  inside a tool's wrapper, where the raw plan starts. `source` is a path, bytes, or a binary file
  object (read from its current position; only the header bytes it needs are read).
- `will_load(info_or_source, runtime, compute_capability=None) -> Verdict`: `loads` is True, False, or
  None when the header cannot tell (then `reason` says what would decide); `log_line` is what TensorRT
  logs when it refuses, where that text is on record. `runtime` is a version string ("10.8.0.43") or
  the `tensorrt` module itself.
- `PlanError` (a ValueError): the one error raised, for input that cannot be read (missing, a
  directory, empty, truncated, corrupted) or a runtime that is not a TensorRT version.

Python 3.8 and later; imports only the standard library (tomli before 3.11, on first `will_load`).
Owns `rules` (the decisions, from `facts.toml`); may import `matrix.suite.planfile` and `matrix.errors`
only. Used by `trt-matrix inspect` and `trt-matrix doctor`; nothing else reads plan headers.
"""

from __future__ import annotations

import dataclasses
import os
import types
from typing import IO, Any, Literal, Union

from matrix.suite import planfile

from . import rules

API_VERSION = "1.0.0"
__all__ = ["API_VERSION", "PlanError", "PlanInfo", "Verdict", "identify", "will_load"]

Kind = Literal["plan", "wrapped-plan", "lfs-pointer", "not-a-plan"]
Source = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


class PlanError(planfile.PlanFileError):
    """The input cannot be read as a file at all, or is empty, truncated or corrupted; or the runtime
    given to `will_load` is not a TensorRT version. A ValueError; its message is one line."""


@dataclasses.dataclass(frozen=True)
class PlanInfo:
    """What a file is and what its header says; fields that do not apply are None.

    `builder_version` is the TensorRT build that serialized the plan ("10.0.1.6"); `platform` is
    "x86_64" where the header records it; `payload_offset` is where the raw plan starts (0 for a plan,
    after the metadata for a wrapped plan, None for anything else). `header` is the complete reading
    (sections, notes, wrapper metadata) for display: its fields are outside the stability promise.
    """

    kind: Kind
    magic: str | None
    builder_version: str | None
    serialization_tag: int | None
    platform: str | None
    payload_offset: int | None
    size: int
    header: planfile.PlanFile = dataclasses.field(repr=False, compare=False)

    @property
    def is_plan(self) -> bool:
        """True for a plan, wrapped or not."""
        return self.kind in ("plan", "wrapped-plan")

    def to_json(self) -> dict[str, Any]:
        """The header reading as plain data (the stable fields first, then the rest of `header`)."""
        return {**self.header.to_json(), "payload_offset": self.payload_offset}


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether a runtime would load a plan: `loads` True, False, or None when the header cannot tell.

    `status` says the same in one word (loads, refused, loads-if-version-compatible, unknown);
    `log_line` is TensorRT's refusal message ("" when none is on record) and `log_source` where it was
    reported.
    """

    loads: bool | None
    reason: str
    log_line: str
    runtime: str
    status: rules.Status
    log_source: str = ""

    def __bool__(self) -> bool:
        raise TypeError("a Verdict has three outcomes: test `verdict.loads is True` (or False, or None)")

    def to_json(self) -> dict[str, Any]:
        return {
            "runtime": self.runtime,
            "loads": self.loads,
            "status": self.status,
            "reason": self.reason,
            "log_line": self.log_line or None,
            "log_source": self.log_source or None,
        }


class _Window:
    """A binary file object from its current position, read lazily (len and slices only)."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.base = handle.tell()
        end = handle.seek(0, os.SEEK_END)
        handle.seek(self.base)
        self.size = max(0, end - self.base)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: slice) -> bytes:
        start, stop, _ = index.indices(self.size)
        self.handle.seek(self.base + start)
        data = self.handle.read(max(0, stop - start))
        self.handle.seek(self.base)
        return data


def _read(source: Source) -> planfile.PlanFile:
    try:
        if isinstance(source, (str, os.PathLike)):
            return planfile.inspect_file(os.fspath(source))
        if isinstance(source, bytes):
            return planfile.inspect_bytes(source)
        if isinstance(source, (bytearray, memoryview)):
            return planfile.inspect_bytes(bytes(source))
        if hasattr(source, "read") and hasattr(source, "seek"):
            try:
                window = _Window(source)
            except (OSError, ValueError) as exc:
                raise PlanError(f"cannot read the file object: {exc}") from None
            return planfile.inspect_bytes(window)
    except PlanError:
        raise
    except planfile.PlanFileError as exc:
        raise PlanError(str(exc)) from None
    except OSError as exc:  # a file object that fails mid-read
        raise PlanError(f"cannot read: {exc.strerror or exc}") from None
    raise TypeError(f"identify() takes a path, bytes or a binary file object, not {type(source).__name__}")


def identify(source: Source) -> PlanInfo:
    """What `source` is and what its header says. Raises PlanError for unreadable input."""
    found = _read(source)
    offset: int | None = None
    if found.kind == planfile.KIND_PLAN:
        offset = 0
    elif found.wrapper is not None:
        offset = found.wrapper.plan_offset
    kind: Kind = found.kind  # type: ignore[assignment]  # planfile.KINDS are exactly these four
    return PlanInfo(
        kind=kind,
        magic=found.magic,
        builder_version=found.version_string,
        serialization_tag=found.serialization_tag,
        platform=found.platform,
        payload_offset=offset,
        size=found.file_size,
        header=found,
    )


_LOADS: dict[str, bool | None] = {
    "loads": True,
    "refused": False,
    "loads-if-version-compatible": None,
    "unknown": None,
}


def _runtime_text(runtime: str | types.ModuleType) -> str:
    if isinstance(runtime, types.ModuleType):
        version = getattr(runtime, "__version__", None)
        if not isinstance(version, str):
            raise PlanError(f"module {runtime.__name__} has no __version__: pass the TensorRT version as a string")
        return version
    if isinstance(runtime, str):
        return runtime.strip()
    raise TypeError(f"runtime is a version string or the tensorrt module, not {type(runtime).__name__}")


def _cc_note(compute_capability: str | tuple[int, int] | None) -> str:
    if compute_capability is None:
        return ""
    if isinstance(compute_capability, tuple):
        text = ".".join(str(p) for p in compute_capability)
    else:
        text = str(compute_capability).strip()
    parts = text.split(".")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise PlanError(f"compute capability {compute_capability!r} is not MAJOR.MINOR (e.g. '8.6' or (8, 6))")
    return (
        f"; the header does not record the GPU architecture, so whether it was built for compute "
        f"capability {text} (or hardware-compatible) is not checked"
    )


def will_load(
    info_or_source: PlanInfo | Source,
    runtime: str | types.ModuleType,
    compute_capability: str | tuple[int, int] | None = None,
) -> Verdict:
    """Would TensorRT `runtime` deserialize this plan? Decided from the header, never guessed.

    `loads` is True only for the exact build that made the plan; False where no compatibility rule
    reaches (an older runtime, a pre-8.6 plan in another build, an unsupported pair of majors, not a
    plan); None where the header cannot tell (a runtime named only by series, or a version-compatible
    build flag the header does not record), with the reason.
    """
    info = info_or_source if isinstance(info_or_source, PlanInfo) else identify(info_or_source)
    text = _runtime_text(runtime)
    parts = rules.runtime_parts(text)
    if parts is None:
        raise PlanError(f"runtime {text!r} is not a TensorRT version such as '10.8.0.43'")
    note = _cc_note(compute_capability)
    decision = rules.decide(info.header, parts, text, rules.packaged_facts())
    return Verdict(
        loads=_LOADS[decision.status],
        reason=decision.reason + (note if info.is_plan else ""),
        log_line=decision.log_line,
        runtime=text,
        status=decision.status,
        log_source=decision.log_source,
    )
