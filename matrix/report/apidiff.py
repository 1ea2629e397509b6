"""API changes between adjacent releases, from the JSON `trt-matrix api --json` prints.

Contract: the input maps each release id to `{"present": [names], "deprecated": [names]}` with
qualified names such as `IExecutionContext.execute_async_v3`. `load(path, order)` validates it
(a `UserError` names the release and field that is wrong) and returns, for each adjacent pair in
catalogue order, the names added, removed and newly deprecated.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matrix.errors import UserError, read_text


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    old: str
    new: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    deprecated: tuple[str, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiChanges:
    source: str
    releases: tuple[str, ...]
    changes: tuple[Change, ...]


def _names(path: Path, release: str, entry: dict[str, Any], field: str) -> frozenset[str]:
    value = entry.get(field, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(f"{path}: release {release!r}: field {field!r} must be a list of qualified names")
    return frozenset(value)


def parse(data: Any, path: Path, order: Sequence[str]) -> ApiChanges:
    if not isinstance(data, dict) or not data:
        raise UserError(
            f"{path}: expected an object mapping release ids to {{'present': [...], 'deprecated': [...]}} "
            "(the output of 'trt-matrix api --json')"
        )
    surfaces: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
    for release, entry in data.items():
        if not isinstance(entry, dict) or "present" not in entry:
            raise UserError(f"{path}: release {release!r}: expected an object with a 'present' list")
        unknown = sorted(set(entry) - {"present", "deprecated"})
        if unknown:
            raise UserError(f"{path}: release {release!r}: unknown field {unknown[0]!r}")
        surfaces[release] = (
            _names(path, release, entry, "present"),
            _names(path, release, entry, "deprecated"),
        )
    releases = [r for r in order if r in surfaces] + sorted(r for r in surfaces if r not in order)
    changes = []
    for old, new in itertools.pairwise(releases):
        (old_present, old_deprecated), (new_present, new_deprecated) = surfaces[old], surfaces[new]
        changes.append(
            Change(
                old=old,
                new=new,
                added=tuple(sorted(new_present - old_present)),
                removed=tuple(sorted(old_present - new_present)),
                deprecated=tuple(sorted(new_deprecated - old_deprecated)),
            )
        )
    return ApiChanges(source=str(path), releases=tuple(releases), changes=tuple(changes))


def load(path: Path, order: Sequence[str]) -> ApiChanges:
    text = read_text(path, "an API-surface file (write one with 'trt-matrix api --json')")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    return parse(data, path, order)
