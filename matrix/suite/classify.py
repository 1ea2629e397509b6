"""Name the failure a TensorRT log shows, from the recognisers in `log_patterns.json`.

Contract: `classify(lines)` returns the first pattern (in file order) that any line matches, with the
line itself, or None. `matching(lines, pattern_id)` returns the lines that match one pattern. The
recognisers are data (exact texts and citations from the research); this is only the matching.
Runs on Python 3.8.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Iterable

PATTERNS_FILE = Path(__file__).with_name("log_patterns.json")


@dataclasses.dataclass(frozen=True)
class Pattern:
    id: str
    regex: re.Pattern[str]
    meaning: str
    citation: str


@dataclasses.dataclass(frozen=True)
class Match:
    pattern: Pattern
    line: str

    def describe(self) -> str:
        return f"{self.pattern.id}: {self.line.strip()}"


_CACHE: dict[str, tuple[Pattern, ...]] = {}


class PatternsError(ValueError):
    """log_patterns.json cannot be used (the message names the file, the entry and what is wrong)."""


def load(path: Path) -> tuple[Pattern, ...]:
    """The recognisers of a log_patterns.json, each checked: id, regex (compiled), meaning, citation."""
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise PatternsError(f"{path}: not readable as UTF-8 JSON: {exc}") from None
    entries = data.get("patterns") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise PatternsError(f"{path}: expected an object with a 'patterns' list")
    out = []
    for index, entry in enumerate(entries, start=1):
        where = f"{path}: pattern {index}"
        if not isinstance(entry, dict):
            raise PatternsError(f"{where}: expected an object")
        fields = {}
        for name in ("id", "regex", "meaning", "citation"):
            value = entry.get(name)
            if not isinstance(value, str) or not value:
                raise PatternsError(f"{where} ({entry.get('id')!r}): field {name!r} must be a non-empty string")
            fields[name] = value
        try:
            regex = re.compile(fields["regex"])
        except re.error as exc:
            raise PatternsError(f"{where} ({fields['id']!r}): regex does not compile: {exc}") from None
        out.append(Pattern(fields["id"], regex, fields["meaning"], fields["citation"]))
    return tuple(out)


def patterns() -> tuple[Pattern, ...]:
    if "all" not in _CACHE:
        _CACHE["all"] = load(PATTERNS_FILE)
    return _CACHE["all"]


def by_id(pattern_id: str) -> Pattern:
    for pattern in patterns():
        if pattern.id == pattern_id:
            return pattern
    raise KeyError(pattern_id)


def classify(lines: Iterable[str], only: Iterable[str] | None = None) -> Match | None:
    """The first recogniser (file order) that matches any line, restricted to `only` ids if given."""
    texts = list(lines)
    wanted = set(only) if only is not None else None
    for pattern in patterns():
        if wanted is not None and pattern.id not in wanted:
            continue
        for line in texts:
            if pattern.regex.search(line):
                return Match(pattern, line)
    return None


def matching(lines: Iterable[str], pattern_id: str) -> list[str]:
    pattern = by_id(pattern_id)
    return [line for line in lines if pattern.regex.search(line)]
