"""Loading and linting `matrix/expectations.toml` on the host.

Contract: `load(path)` returns the parsed entries (`matrix.suite.expect.Expectation`) or raises
`UserError` naming the file, the entry and the field. `lint(path, catalogue)` goes further: every
selector must name known checks, models, precisions and variants (a typo would silently select
nothing), and entries whose release globs match no catalogue release are listed as dormant
(a warning, not an error). The matching itself lives in `matrix.suite.expect` (it runs in images).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import sys
from collections.abc import Sequence
from pathlib import Path

from matrix.catalogue import Catalogue
from matrix.errors import UserError, read_text
from matrix.suite import cells
from matrix.suite.expect import Expectation, ExpectationError, parse

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "expectations.toml"


def load(path: Path | None = None) -> tuple[Expectation, ...]:
    """Entries of an expectations file (the packaged one by default), validated."""
    path = path or DEFAULT_PATH
    text = read_text(path, "an expectations file (TOML, like matrix/expectations.toml)")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    try:
        return tuple(parse(data))
    except ExpectationError as exc:
        raise UserError(f"{path}: {exc}") from None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Lint:
    """What `lint` found: errors fail CI; dormant entries are listed."""

    entries: int
    errors: tuple[str, ...]
    dormant: tuple[str, ...]


def _unmatched(patterns: Sequence[str], known: Sequence[str]) -> list[str]:
    return [p for p in patterns if not any(fnmatch.fnmatchcase(k, p) for k in known)]


def lint_entries(entries: Sequence[Expectation], catalogue: Catalogue) -> Lint:
    """Selector fields checked against the check table, the model list and the catalogue."""
    releases = (*catalogue.ids, cells.HOST)
    errors: list[str] = []
    dormant: list[str] = []
    for exp in entries:
        specs = [s for s in cells.CHECKS if any(fnmatch.fnmatchcase(s.name, p) for p in exp.globs("check"))]
        where = f"expectation {exp.id!r}"
        if not specs:
            errors.append(
                f"{where}: check {list(exp.globs('check'))} names no check; known: " + ", ".join(cells.CHECK_NAMES)
            )
            continue
        axes = {
            "model": sorted({m for s in specs for m in (s.models or (cells.NO_MODEL,))}),
            "precision": sorted({p for s in specs for p in s.precisions}),
            "variant": sorted({v for s in specs for v in s.variants}),
        }
        for field, known in axes.items():
            missing = _unmatched(exp.globs(field), known)
            if missing:
                errors.append(
                    f"{where}: {field} {missing} matches no {field} of check(s) "
                    f"{', '.join(sorted({s.name for s in specs}))}; known: {', '.join(known)}"
                )
        if exp.pair != "any" and not any(s.cross for s in specs):
            errors.append(f"{where}: pair = {exp.pair!r} needs a cross check (producer != consumer cells)")
        idle = [f for f in ("producer", "consumer") if _unmatched(exp.globs(f), releases)]
        if idle:
            dormant.append(
                f"{where}: {' and '.join(idle)} {[list(exp.globs(f)) for f in idle]} match no release in "
                f"{catalogue.path.name} ({', '.join(catalogue.ids)}); it selects no cell today"
                + (f". Note: {exp.note}" if exp.note else "")
            )
    return Lint(entries=len(entries), errors=tuple(errors), dormant=tuple(dormant))


def lint(path: Path | None, catalogue: Catalogue) -> Lint:
    """Load (schema, citation, status, regex checks) and check selectors; load errors raise."""
    return lint_entries(load(path), catalogue)
