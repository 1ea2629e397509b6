"""The release catalogue: `matrix/versions.toml` loaded into frozen, validated objects.

Contract: `load()` returns a `Catalogue` or raises `UserError` whose one-line message names the file,
the entry and the field that is wrong. Nothing else in the project writes a release, base image,
CUDA, Python or pin: everything reads them from here.
"""

from __future__ import annotations

import dataclasses
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, cast, get_args

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from matrix.errors import UserError, first_line, read_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_PATH = Path(__file__).with_name("versions.toml")

InstallMethod = Literal["preinstalled", "pip"]
Evidence = Literal["nvidia-doc", "maintainer", "user-report", "inferred"]
FACTS = ("tensorrt", "base_image", "cuda", "python", "numpy", "compute_capabilities")

_ID = re.compile(r"^trt[0-9]{2,4}$")
_TRT_VERSION = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+){0,2}(\.post[0-9]+)?$")
_MAJOR_MINOR = re.compile(r"^[0-9]+\.[0-9]+$")
_CC = re.compile(r"^[0-9]+\.[0-9]$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:-]*$")
_APT = re.compile(r"^[a-z0-9][a-z0-9.+-]*$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Release:
    """One tracked TensorRT release and the image that carries it."""

    id: str
    tensorrt: str
    base_image: str
    base_digest: str
    install: InstallMethod
    tensorrt_pip: str
    tensorrt_index: str
    system_packages: tuple[str, ...]
    cuda: str
    python: str
    numpy: str
    compute_capabilities: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    evidence: tuple[tuple[str, Evidence], ...]
    notes: str

    @property
    def base_ref(self) -> str:
        """The base image as `FROM` names it: pinned by digest when the catalogue pins it."""
        return f"{self.base_image}@{self.base_digest}" if self.base_digest else self.base_image

    @property
    def series(self) -> str:
        """'8.6' for 8.6.1: what the release id tracks."""
        return ".".join(self.tensorrt.split(".")[:2])

    @property
    def major(self) -> int:
        return int(self.tensorrt.split(".")[0])

    @property
    def python_tuple(self) -> tuple[int, int]:
        major, minor = self.python.split(".")
        return int(major), int(minor)

    def source(self, fact: str) -> str:
        return dict(self.sources).get(fact, "")

    def evidence_for(self, fact: str) -> Evidence:
        return dict(self.evidence).get(fact, "nvidia-doc")

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["sources"] = dict(self.sources)
        data["evidence"] = {fact: self.evidence_for(fact) for fact in FACTS}
        data["base_ref"] = self.base_ref
        return data


@dataclasses.dataclass(frozen=True, kw_only=True)
class Catalogue:
    path: Path
    releases: tuple[Release, ...]
    suite_pip: tuple[str, ...]

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.releases)

    def get(self, release_id: str) -> Release:
        for release in self.releases:
            if release.id == release_id:
                return release
        raise UserError(f"unknown release id {release_id!r}; {self.path.name} has {', '.join(self.ids)}")

    def select(self, patterns: Sequence[str]) -> tuple[Release, ...]:
        """Releases named by `--only` ids or globs (`trt8*`), in catalogue order."""
        from matrix.suite.cells import releases_matching

        try:
            chosen = releases_matching([p.strip() for p in patterns if p.strip()], self.ids)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        return tuple(self.get(r) for r in chosen)

    def by_tensorrt(self, version: str) -> Release | None:
        """The release whose series matches a TensorRT version string (8.6.1.6 -> trt86)."""
        parts = version.split(".")
        for release in self.releases:
            if release.tensorrt.split(".")[: len(parts)] == parts[: len(release.tensorrt.split("."))]:
                return release
        for release in self.releases:
            if parts[:2] == release.series.split("."):
                return release
        return None


class _Entry:
    """Reads one table, turning every problem into a UserError that names where it is."""

    def __init__(self, path: Path, where: str, table: Mapping[str, Any]) -> None:
        self.path, self.where, self.table = path, where, table

    def fail(self, field: str, problem: str) -> UserError:
        return UserError(f"{self.path}: {self.where}: field {field!r}: {problem}")

    def text(
        self, field: str, pattern: re.Pattern[str] | None = None, *, required: bool = True, example: str = ""
    ) -> str:
        if field not in self.table:
            if required:
                raise self.fail(field, "missing" + (f" (for example {example!r})" if example else ""))
            return ""
        value = self.table[field]
        if not isinstance(value, str):
            raise self.fail(field, f"expected a string, got {value!r} ({type(value).__name__}); quote it")
        if pattern is not None and value and not pattern.match(value):
            hint = f" like {example!r}" if example else ""
            raise self.fail(field, f"{value!r} is not of the expected form{hint}")
        if required and not value and field not in {"base_digest"}:
            raise self.fail(field, "is empty")
        return value

    def texts(self, field: str, pattern: re.Pattern[str], *, required: bool, example: str) -> tuple[str, ...]:
        if field not in self.table:
            if required:
                raise self.fail(field, f"missing (a list such as [{example!r}])")
            return ()
        value = self.table[field]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(field, f"expected a list of strings, got {value!r}")
        for item in value:
            if not pattern.match(item):
                raise self.fail(field, f"{item!r} is not of the expected form like {example!r}")
        if required and not value:
            raise self.fail(field, "is empty")
        return tuple(value)


_RELEASE_FIELDS = {
    "id",
    "tensorrt",
    "base_image",
    "base_digest",
    "install",
    "tensorrt_pip",
    "tensorrt_index",
    "system_packages",
    "cuda",
    "python",
    "numpy",
    "compute_capabilities",
    "sources",
    "evidence",
    "notes",
}


def _release(path: Path, index: int, table: Any) -> Release:
    if not isinstance(table, dict):
        raise UserError(f"{path}: release entry {index}: expected a table, got {table!r}")
    rid = table.get("id")
    entry = _Entry(
        path, f"release {rid!r} (entry {index})" if isinstance(rid, str) else f"release entry {index}", table
    )
    unknown = sorted(set(table) - _RELEASE_FIELDS)
    if unknown:
        raise entry.fail(unknown[0], f"unknown field; known fields are {', '.join(sorted(_RELEASE_FIELDS))}")
    release_id = entry.text("id", _ID, example="trt86")
    tensorrt = entry.text("tensorrt", _TRT_VERSION, example="8.6.1")
    base_image = entry.text("base_image", _IMAGE, example="nvcr.io/nvidia/tensorrt:24.01-py3")
    base_digest = entry.text("base_digest", _DIGEST, required=False, example="sha256:<64 hex digits>")
    install = entry.text("install", example="preinstalled")
    if install not in get_args(InstallMethod):
        raise entry.fail("install", f"{install!r} is not one of {', '.join(get_args(InstallMethod))}")
    tensorrt_pip = entry.text("tensorrt_pip", required=False)
    if install == "pip" and not tensorrt_pip:
        raise entry.fail(
            "tensorrt_pip",
            "missing: install = 'pip' needs a pip requirement such as 'tensorrt-cu12==11.4.0.106'",
        )
    if tensorrt_pip:
        try:
            Requirement(tensorrt_pip)
        except InvalidRequirement as exc:
            raise entry.fail("tensorrt_pip", f"not a pip requirement: {first_line(exc)}") from None
    tensorrt_index = entry.text(
        "tensorrt_index", re.compile(r"^https?://\S+$"), required=False, example="https://pypi.nvidia.com"
    )
    system_packages = entry.texts("system_packages", _APT, required=False, example="python3-pip")
    cuda = entry.text("cuda", _MAJOR_MINOR, example="12.3")
    python = entry.text("python", re.compile(r"^3\.[0-9]+$"), example="3.10")
    numpy = entry.text("numpy", example="<1.24")
    try:
        SpecifierSet(numpy)
    except InvalidSpecifier:
        raise entry.fail("numpy", f"{numpy!r} is not a version specifier like '<1.24'") from None
    ccs = entry.texts("compute_capabilities", _CC, required=True, example="8.6")
    sources_table = table.get("sources")
    if not isinstance(sources_table, dict):
        raise entry.fail("sources", "missing: a [release.sources] table with a URL for each of " + ", ".join(FACTS))
    sources = _Entry(path, f"release {release_id!r} (entry {index}) sources", sources_table)
    for fact in FACTS:
        sources.text(fact, re.compile(r"^https://\S+$"), example="https://...")
    evidence_table = table.get("evidence", {})
    if not isinstance(evidence_table, dict):
        raise entry.fail("evidence", f"expected a table, got {evidence_table!r}")
    for fact, level in evidence_table.items():
        if fact not in FACTS and fact not in sources_table:
            raise entry.fail("evidence", f"{fact!r} is not a fact of this entry")
        if level not in get_args(Evidence):
            raise entry.fail("evidence", f"{fact} = {level!r} is not one of {', '.join(get_args(Evidence))}")
    notes = table.get("notes", "")
    if not isinstance(notes, str):
        raise entry.fail("notes", "expected a string")
    return Release(
        id=release_id,
        tensorrt=tensorrt,
        base_image=base_image,
        base_digest=base_digest,
        install=cast(InstallMethod, install),
        tensorrt_pip=tensorrt_pip,
        tensorrt_index=tensorrt_index,
        system_packages=system_packages,
        cuda=cuda,
        python=python,
        numpy=numpy,
        compute_capabilities=ccs,
        sources=tuple(sorted((str(k), str(v)) for k, v in sources_table.items())),
        evidence=tuple(sorted((str(k), cast(Evidence, v)) for k, v in evidence_table.items())),
        notes=notes,
    )


def parse(text: str, path: Path) -> Catalogue:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    if data.get("schema") != 1:
        raise UserError(f"{path}: top level: field 'schema': expected 1, got {data.get('schema')!r}")
    unknown = sorted(set(data) - {"schema", "suite", "release"})
    if unknown:
        raise UserError(f"{path}: top level: field {unknown[0]!r}: unknown; expected schema, suite, release")
    raw = data.get("release")
    if not isinstance(raw, list) or not raw:
        raise UserError(f"{path}: top level: no [[release]] entries")
    releases = tuple(_release(path, i + 1, t) for i, t in enumerate(raw))
    seen: set[str] = set()
    for i, release in enumerate(releases):
        if release.id in seen:
            raise UserError(f"{path}: release {release.id!r} (entry {i + 1}): field 'id': duplicate id")
        seen.add(release.id)
    suite = data.get("suite", {})
    pip = suite.get("pip", []) if isinstance(suite, dict) else None
    if not isinstance(pip, list) or not all(isinstance(p, str) for p in pip):
        raise UserError(f"{path}: [suite]: field 'pip': expected a list of pip requirements")
    for requirement in pip:
        try:
            Requirement(requirement)
        except InvalidRequirement as exc:
            raise UserError(
                f"{path}: [suite]: field 'pip': {requirement!r} is not a requirement: {first_line(exc)}"
            ) from None
    return Catalogue(path=path, releases=releases, suite_pip=tuple(pip))


def load(path: Path | None = None) -> Catalogue:
    """Load and validate the catalogue (the packaged one by default)."""
    path = path or DEFAULT_PATH
    return parse(read_text(path, "a versions.toml catalogue (like matrix/versions.toml)"), path)
