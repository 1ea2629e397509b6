"""The API-surface matrix: each release's REAL Python bindings, introspected, as plain data.

Contract: `surface_table(selection)` returns an `ApiTable` with one `ReleaseSurface` per release: the
bindings releases on the package index, each imported in a throwaway subprocess against the stand-in
(matrix/offline/standin.py), and catalogue releases without wheels (8.4, 8.5) listed as not introspected,
never guessed. `ApiTable.changes()` gives what each release added, removed and newly deprecated;
`to_json()` maps each introspected release (or catalogue id) to sorted `present` and `deprecated` names,
the input of `trt-matrix report --api-surface`; `details()` adds provenance and the releases not
introspected; `report_data()` is plain data for the report. Results are cached per wheel hash.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import fnmatch
import hashlib
import itertools
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.version import Version

from matrix import catalogue
from matrix.errors import UserError
from matrix.offline import standin, wheels
from matrix.suite import standin_probe

SCRIPT = Path(__file__).with_name("introspect_bindings.py")
INTROSPECT_TIMEOUT_S = 300


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReleaseSurface:
    """One release's API, or why it has none here.

    `kinds`: sorted (name, kind) pairs; `notes`: (name, deprecation note, where it was read: `doc` the
    name's own docstring, `enum-doc` its enum's member list, `ivar` its class's `:ivar` line).
    """

    release: str
    introspected: bool
    reason: str = ""
    failed: bool = False
    package: str = ""
    wheel: str = ""
    sha256: str = ""
    tensorrt_version: str = ""
    plugin_error: str = ""
    kinds: tuple[tuple[str, str], ...] = ()
    notes: tuple[tuple[str, str, str], ...] = ()
    inherited: tuple[tuple[str, str], ...] = ()  # (Class.member, the base class that defines it)

    @property
    def present(self) -> frozenset[str]:
        return frozenset(name for name, _ in self.kinds)

    @property
    def deprecated(self) -> frozenset[str]:
        return frozenset(name for name, _, _ in self.notes)

    def details(self) -> dict[str, Any]:
        if not self.introspected:
            return {"introspected": False, "reason": self.reason, "present": None, "deprecated": None}
        return {
            "introspected": True,
            "package": self.package,
            "wheel": self.wheel,
            "sha256": self.sha256,
            "tensorrt_version": self.tensorrt_version,
            "plugin_error": self.plugin_error or None,
            "present": sorted(self.present),
            "deprecated": sorted(self.deprecated),
            "deprecation_notes": {name: {"note": note, "source": source} for name, note, source in self.notes},
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    """What `release` has that `previous` (the introspected release before it) had not, and vice versa."""

    release: str
    previous: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    newly_deprecated: tuple[str, ...]
    no_longer_deprecated: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class ApiTable:
    """Releases oldest first; `interpreter` is the Python the wheels were chosen for."""

    releases: tuple[ReleaseSurface, ...]
    interpreter: str

    def get(self, release: str) -> ReleaseSurface:
        for surface in self.releases:
            if surface.release == release:
                return surface
        raise KeyError(release)

    def changes(self) -> tuple[Change, ...]:
        done = [s for s in self.releases if s.introspected]
        return tuple(
            Change(
                release=new.release,
                previous=old.release,
                added=tuple(sorted(new.present - old.present)),
                removed=tuple(sorted(old.present - new.present)),
                newly_deprecated=tuple(sorted(new.deprecated - old.deprecated)),
                no_longer_deprecated=tuple(sorted((old.deprecated - new.deprecated) & new.present)),
            )
            for old, new in itertools.pairwise(done)
        )

    def cell(self, release: str, name: str) -> str | None:
        """'Y' present, 'D' present and deprecated, '-' absent, None when not introspected."""
        surface = self.get(release)
        if not surface.introspected:
            return None
        if name not in surface.present:
            return "-"
        return "D" if name in surface.deprecated else "Y"

    def for_catalogue(self, releases: Sequence[catalogue.Release]) -> dict[str, ReleaseSurface]:
        """Catalogue id -> the newest introspected release its `tensorrt` names (trt10: 10.8.0.43)."""
        found: dict[str, ReleaseSurface] = {}
        for release in releases:
            wanted = release.tensorrt.split(".post")[0]
            for surface in self.releases:
                if surface.introspected and _matches(surface.release.split(".post")[0], wanted):
                    found[release.id] = surface
        return found

    def to_json(self, releases: Sequence[catalogue.Release] | None = None) -> dict[str, Any]:
        """{release: {"present": [...], "deprecated": [...]}} for the introspected releases, oldest first;
        keyed by catalogue id instead when `releases` (the catalogue) is given."""
        chosen = (
            self.for_catalogue(releases)
            if releases is not None
            else {s.release: s for s in self.releases if s.introspected}
        )
        return {key: {"present": sorted(s.present), "deprecated": sorted(s.deprecated)} for key, s in chosen.items()}

    def details(self) -> dict[str, Any]:
        """Every release with its provenance, deprecation notes, or why it was not introspected."""
        return {s.release: s.details() for s in self.releases}


def _script_key() -> str:
    text = SCRIPT.read_bytes() + Path(standin_probe.__file__).read_bytes()
    return hashlib.sha256(text).hexdigest()[:12]


def _run_introspection(prepared: standin.Prepared) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="trt-matrix-api-") as tmp:
        out = Path(tmp) / "surface.json"
        argv = [sys.executable, "-c", SCRIPT.read_text(encoding="utf-8"), str(out), standin_probe.__file__]
        try:
            result = subprocess.run(
                argv,
                env=standin.environment(prepared),
                cwd=tmp,
                capture_output=True,
                text=True,
                timeout=INTROSPECT_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"importing the bindings took over {INTROSPECT_TIMEOUT_S} s") from None
        if result.returncode != 0 or not out.is_file():
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            raise RuntimeError(f"exit code {result.returncode}: {lines[-1] if lines else 'no output'}")
        data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    real = [path for path, is_standin in data["libraries"].items() if not is_standin]
    if real:
        raise RuntimeError(f"a real TensorRT library was loaded instead of the stand-in: {', '.join(real)}")
    return data


def introspect(
    release: wheels.Release, refresh: bool = False, progress: wheels.Progress | None = None
) -> ReleaseSurface:
    """One bindings release: downloaded, stood in, imported in a subprocess (or read from the cache)."""
    prepared = standin.stand_in(wheels.unpacked(release, progress))
    bindings = prepared.bindings
    cached = (
        wheels.cache_dir()
        / "surface"
        / f"{bindings.version}-{wheels.interpreter_tag()}-{bindings.sha256[:16]}-{_script_key()}.json"
    )
    if cached.is_file() and not refresh:
        data = json.loads(cached.read_text(encoding="utf-8"))
    else:
        if progress:
            progress(f"{bindings.version}: importing {bindings.wheel.name} in a subprocess")
        try:
            data = _run_introspection(prepared)
        except RuntimeError as exc:
            return ReleaseSurface(
                release=bindings.version,
                introspected=False,
                failed=True,
                package=bindings.package,
                wheel=bindings.wheel.name,
                reason=f"introspection failed: {exc}",
            )
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(data), encoding="utf-8")
    names: dict[str, dict[str, Any]] = data["names"]
    return ReleaseSurface(
        release=bindings.version,
        introspected=True,
        package=bindings.package,
        wheel=bindings.wheel.name,
        sha256=bindings.sha256,
        tensorrt_version=str(data.get("tensorrt_version") or ""),
        plugin_error=str(data.get("plugin_error") or ""),
        kinds=tuple(sorted((name, str(info["kind"])) for name, info in names.items())),
        notes=tuple(
            sorted(
                (name, str(info["deprecated"]), str(info["deprecated_source"]))
                for name, info in names.items()
                if info["deprecated"]
            )
        ),
        inherited=tuple(
            sorted((name, str(info["inherited_from"])) for name, info in names.items() if info.get("inherited_from"))
        ),
    )


def _matches(version: str, token: str) -> bool:
    return f"{version}.".startswith(f"{token}.")


def select(
    tokens: Sequence[str], index: Sequence[wheels.Release], releases: Sequence[catalogue.Release]
) -> tuple[list[wheels.Release], list[str]]:
    """(bindings releases to introspect, catalogue versions with no bindings on the index)."""
    wanted = [t.strip() for token in tokens for t in token.split(",") if t.strip()] or ["all"]
    chosen: list[wheels.Release] = []
    missing: list[str] = []
    by_id = {r.id: r.tensorrt for r in releases}
    for word in wanted:
        if word == "all":
            found = list(index)
            missing += [r.tensorrt for r in releases if not any(_matches(w.version, r.series) for w in index)]
        else:
            version = by_id.get(word, word)
            found = [w for w in index if _matches(w.version, version) or version in w.candidates]
            if word in by_id and not found:
                missing.append(version)
                continue
            if not found:
                series = [r.tensorrt for r in releases if _matches(r.tensorrt, version)]
                if not series:
                    known = ", ".join([*by_id, *(w.version for w in index)])
                    raise UserError(f"--releases: {word!r} matches no release; known: {known}")
                missing += series
        chosen += [w for w in found if w not in chosen]
    return chosen, sorted(set(missing), key=Version)


def surface_table(
    selection: Sequence[str] = (),
    *,
    refresh: bool = False,
    jobs: int = 2,
    progress: wheels.Progress | None = None,
    catalogue_path: Path | None = None,
) -> ApiTable:
    """The release x API table for `selection`: ids (trt86), versions or prefixes (10.8); all by default."""
    index = wheels.index(refresh, progress)
    chosen, missing = select(selection, index, catalogue.load(catalogue_path).releases)
    none_here = "the package index has no compiled bindings for it"
    surfaces = [
        ReleaseSurface(
            release=version,
            introspected=False,
            reason=f"not introspected: {wheels.no_wheel_reason(version) or none_here} (its API is not "
            "listed rather than guessed)",
        )
        for version in missing
    ]
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(introspect, release, refresh, progress): release for release in chosen}
        try:
            for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
                surfaces.append(future.result())
                if progress:
                    progress(f"[{done}/{len(chosen)}] {futures[future].version} done")
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    if progress and chosen:
        progress(f"{len(chosen)} release(s) in {time.monotonic() - started:.1f} s")
    surfaces.sort(key=lambda s: Version(s.release))
    return ApiTable(releases=tuple(surfaces), interpreter=wheels.interpreter_tag())


def report_data(table: ApiTable) -> dict[str, Any]:
    """Plain data for the report's "API changes between releases" section (JSON-serialisable)."""
    return {
        "interpreter": table.interpreter,
        "method": "each release's compiled bindings wheel imported against a stand-in libnvinfer "
        "(matrix/offline/standin.py): the API surface only, nothing executed",
        "releases": [
            {
                "release": s.release,
                "introspected": s.introspected,
                "reason": s.reason,
                "package": s.package or None,
                "names": len(s.present) if s.introspected else None,
                "deprecated": len(s.deprecated) if s.introspected else None,
            }
            for s in table.releases
        ],
        "changes": [change.to_json() for change in table.changes()],
    }


def matching_names(table: ApiTable, patterns: Sequence[str]) -> list[str]:
    """Every name any release has that matches one of the glob `patterns`, sorted."""
    every = set().union(*(s.present for s in table.releases))
    return sorted(n for n in every if any(fnmatch.fnmatchcase(n, p) for p in patterns))
