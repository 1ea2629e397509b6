"""`trt-matrix migrate`: the TensorRT names a user's code uses that a target release lacks or deprecates.

Contract: `check(paths, targets, snapshot, ...)` scans every `.py` file under `paths` (migrate_scan) and
returns a `Report`: `Finding`s (file, 1-based line and column, qualified name, status `removed` |
`deprecated` | `absent`, the release where that happened, the target, the replacement with the first
release that has each piece, and a citation, from migrate.toml) and the files that could not be parsed.
`removed`: an earlier release had it, the target has not (release = the first release without it);
`absent`: no release up to the target had it (release = the first that has it), also what `source`
reports for names the source release lacks; `deprecated`: the target marks it (release = where that
began). `resolve(snapshot, token)` turns `10.8`, `trt10` (catalogue id) or `latest` into a release of the
snapshot. Missing or unreadable paths raise `UserError`. Nothing is imported from the user's code.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

from matrix import catalogue

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from matrix.errors import UserError
from matrix.offline import migrate_scan
from matrix.offline.api_snapshot import Snapshot

FACTS_PATH = Path(__file__).with_name("migrate.toml")
SKIPPED_DIRS = {"__pycache__", "node_modules", "site-packages", "venv"}
# `--loose`: untraced receivers are matched against the members of these classes only.
LOOSE_CLASSES = (
    "Builder",
    "IBuilderConfig",
    "ICudaEngine",
    "IExecutionContext",
    "Runtime",
    "INetworkDefinition",
    "IInt8Calibrator",
)
Status = Literal["removed", "deprecated", "absent"]


@dataclasses.dataclass(frozen=True)
class Replacement:
    names: tuple[str, ...]
    advice: str
    uses: tuple[str, ...]
    cite: str


@dataclasses.dataclass(frozen=True)
class Facts:
    returns: dict[str, str]
    replacements: tuple[Replacement, ...]

    def replacement_for(self, name: str) -> Replacement | None:
        return next((r for r in self.replacements if any(fnmatch.fnmatchcase(name, p) for p in r.names)), None)


@dataclasses.dataclass(frozen=True)
class Finding:
    file: str
    line: int
    column: int
    name: str
    status: Status
    release: str
    target: str
    replacement: str
    cite: str = ""
    note: str = ""
    unsure: bool = False
    guarded: bool = False


@dataclasses.dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]
    unparsable: tuple[tuple[str, str], ...]  # (file, "line N: message")
    files: int
    targets: tuple[str, ...]
    source: str | None


def load_facts(path: Path = FACTS_PATH) -> Facts:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Facts(
            returns={str(k): str(v) for k, v in data["returns"].items()},
            replacements=tuple(
                Replacement(
                    names=tuple(r["names"]), advice=str(r["advice"]), uses=tuple(r["uses"]), cite=str(r["cite"])
                )
                for r in data["replacement"]
            ),
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise UserError(f"{path}: not a valid migrate facts file ({type(exc).__name__}: {exc})") from None


def _prefix(version: str, token: str) -> bool:
    return f"{version}.".startswith(f"{token}.")


def resolve(snapshot: Snapshot, token: str, releases: Sequence[catalogue.Release] = ()) -> str:
    """The snapshot release `token` names: `latest`, a catalogue id (trt10) or a version prefix (newest)."""
    word = token.strip()
    if word == "latest":
        return snapshot.releases[-1]
    by_id = {r.id: r.tensorrt for r in releases}
    version = by_id.get(word, word)
    found = [r for r in snapshot.releases if _prefix(r.split(".post")[0], version) or _prefix(r, version)]
    if not found and word in by_id:  # trt10 -> 10.8.0: the table names 10.8.0.43
        found = [r for r in snapshot.releases if _prefix(r, ".".join(version.split(".")[:2]))]
    if not found:
        why = f"; {word} is {version}, which has no bindings wheel to introspect" if word in by_id else ""
        raise UserError(
            f"release {word!r} is not in the API table (it has {snapshot.releases[0]} to {snapshot.releases[-1]}"
            f"{why}); give a version prefix (10.8), a catalogue id (trt10) or latest"
        )
    return found[-1]


def python_files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if not path.exists():
            raise UserError(f"{path}: no such file or folder; give Python files or folders to check")
        if path.is_dir():
            for file in sorted(path.rglob("*.py")):
                parts = file.relative_to(path).parts[:-1]
                if not any(p.startswith(".") or p in SKIPPED_DIRS for p in parts):
                    found.append(file)
        else:
            found.append(path)
    return found


def _status(snapshot: Snapshot, name: str, target: str) -> tuple[Status, str] | None:
    at = snapshot.releases.index(target)
    present = snapshot.present.get(name, frozenset())
    if at not in present:
        before = [i for i in present if i < at]
        if before:
            return "removed", snapshot.releases[max(before) + 1]
        return "absent", snapshot.releases[min(present)] if present else ""
    deprecated = snapshot.deprecated.get(name, frozenset())
    if at in deprecated:
        start = at
        while start - 1 in deprecated:
            start -= 1
        return "deprecated", snapshot.releases[start]
    return None


def _advice(snapshot: Snapshot, facts: Facts, name: str, status: Status, release: str) -> tuple[str, str]:
    found = facts.replacement_for(name)
    if found is not None:
        since = ", ".join(f"{u} since {snapshot.first_with(u) or 'no listed release'}" for u in found.uses)
        return f"{found.advice} ({since})", found.cite
    if status == "absent":
        return f"added in {release}; guard it with hasattr or require that release", ""
    return f"none listed; compare releases with `trt-matrix api --names '{name}'`", ""


def _loose_names(snapshot: Snapshot, attr: str) -> list[str]:
    return [f"{c}.{attr}" for c in LOOSE_CLASSES if snapshot.known(f"{c}.{attr}")]


def check_source(
    text: str,
    file: str,
    targets: Sequence[str],
    snapshot: Snapshot,
    facts: Facts,
    *,
    source: str | None = None,
    loose: bool = False,
) -> list[Finding]:
    """Findings for one file's text (raises SyntaxError)."""
    findings: list[Finding] = []
    for use in migrate_scan.scan(text, snapshot, facts.returns, loose):
        names = _loose_names(snapshot, use.name[2:]) if use.name.startswith("?.") else [use.name]
        checks = [(t, n) for t in targets for n in names]
        if source is not None:
            checks += [(source, n) for n in names]
        for target, name in checks:
            verdict = _status(snapshot, name, target)
            if verdict is None or (target == source and verdict[0] != "absent"):
                continue
            status, release = verdict
            replacement, cite = _advice(snapshot, facts, name, status, release)
            findings.append(
                Finding(
                    file=file,
                    line=use.line,
                    column=use.column,
                    name=name,
                    status=status,
                    release=release,
                    target=target,
                    replacement=replacement,
                    cite=cite,
                    note=snapshot.notes.get(name, "") if status == "deprecated" else "",
                    unsure=use.unsure or use.name.startswith("?."),
                    guarded=use.guarded,
                )
            )
    return findings


def check(
    paths: Sequence[Path],
    targets: Sequence[str],
    snapshot: Snapshot,
    facts: Facts,
    *,
    source: str | None = None,
    loose: bool = False,
    root: Path | None = None,
) -> Report:
    files = python_files(paths)
    findings: list[Finding] = []
    unparsable: list[tuple[str, str]] = []
    for file in files:
        shown = _shown(file, root)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"{file}: cannot read it ({type(exc).__name__}: {exc})") from None
        try:
            findings += check_source(text, shown, targets, snapshot, facts, source=source, loose=loose)
        except SyntaxError as exc:
            unparsable.append((shown, f"line {exc.lineno}: {exc.msg}"))
    return Report(tuple(findings), tuple(unparsable), len(files), tuple(targets), source)


def _shown(file: Path, root: Path | None) -> str:
    base = (root or Path.cwd()).resolve()
    try:
        return file.resolve().relative_to(base).as_posix()
    except ValueError:
        return file.as_posix()
