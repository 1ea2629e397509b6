"""Expectations: known TensorRT problems, matched against cell results.

Contract: `parse(data)` turns already-parsed `expectations.toml` data into `Expectation` objects or
raises `ExpectationError` naming the entry and field. `apply(result, expectations)` returns the
record with the expectation applied: an expected failure becomes `xfail`, a selected cell that
passed where a strict entry expected otherwise becomes `xpass`, an expected `na`/`skip` keeps its
status and gains the citation. The record keeps `{id, citation, reason, observed}` and `fix` when the entry records one.
Applying is idempotent (a record already carrying an expectation is first restored to what was
observed). Runs inside the oldest images: Python 3.8, standard library only.
"""

from __future__ import annotations

import dataclasses
import datetime
import fnmatch
import re
from typing import Any, Mapping, Sequence

from matrix.suite.schema import CellResult

SCHEMA = 1
SELECTOR_FIELDS = ("check", "producer", "consumer", "model", "precision", "variant")
PAIRS = ("any", "diagonal", "off-diagonal")
FAILURES = ("fail", "crash", "timeout")  # an expected one becomes xfail
NOT_RUN = ("na", "skip")  # an expected one keeps its status and gains the citation
EXPECTABLE = FAILURES + NOT_RUN
FIELDS = frozenset(
    (*SELECTOR_FIELDS, "id", "pair", "status", "log", "reason", "citation", "also", "added", "strict", "note", "fix")
)
_ID = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_URL = re.compile(r"^https://[^\s<>\"']+$")


class ExpectationError(ValueError):
    """An entry of expectations.toml that cannot be used (the message names entry and field)."""


@dataclasses.dataclass(frozen=True)
class Expectation:
    """One known problem: which cells, what they do there, and where that is documented."""

    id: str
    selector: tuple[tuple[str, tuple[str, ...]], ...]
    pair: str
    status: tuple[str, ...]
    log: str | None
    reason: str
    citation: str
    also: tuple[str, ...]
    added: str
    strict: bool
    note: str = ""
    fix: str = ""

    def globs(self, field: str) -> tuple[str, ...]:
        return dict(self.selector).get(field, ("*",))

    def selects(self, result: CellResult) -> bool:
        """The cell is one this entry speaks about (whatever its outcome)."""
        if self.pair == "diagonal" and result.producer != result.consumer:
            return False
        if self.pair == "off-diagonal" and result.producer == result.consumer:
            return False
        for field, patterns in self.selector:
            value = getattr(result, field)
            if not any(fnmatch.fnmatchcase(value, p) for p in patterns):
                return False
        return True

    def log_matches(self, result: CellResult) -> bool:
        """No `log` regex, or one of the cell's log lines matches it."""
        if self.log is None:
            return True
        pattern = re.compile(self.log)
        return any(pattern.search(line.text) for line in result.log)

    def record(self, observed: str) -> dict[str, str]:
        """What a result keeps: the id, the citation, the reason and the status observed."""
        out = {"id": self.id, "citation": self.citation, "reason": self.reason, "observed": observed}
        if self.fix:
            out["fix"] = self.fix
        return out


def _fail(index: int, entry: Mapping[str, Any], field: str, problem: str) -> ExpectationError:
    name = entry.get("id")
    where = f"expectation {index} ({name!r})" if isinstance(name, str) else f"expectation {index}"
    return ExpectationError(f"{where}: field {field!r}: {problem}")


def _strings(index: int, entry: Mapping[str, Any], field: str) -> tuple[str, ...]:
    value = entry[field]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise _fail(index, entry, field, f"expected a non-empty string or list of strings, got {value!r}")
    return tuple(value)


def _text(index: int, entry: Mapping[str, Any], field: str, required: bool = True) -> str:
    if field not in entry:
        if required:
            raise _fail(index, entry, field, "missing (required)")
        return ""
    value = entry[field]
    if not isinstance(value, str) or (required and not value.strip()):
        raise _fail(index, entry, field, f"expected a non-empty string, got {value!r}")
    return value


def _entry(index: int, entry: Any) -> Expectation:
    if not isinstance(entry, dict):
        raise ExpectationError(f"expectation {index}: expected a table, got {entry!r}")
    unknown = sorted(set(entry) - FIELDS)
    if unknown:
        raise _fail(index, entry, unknown[0], "unknown field; known fields are " + ", ".join(sorted(FIELDS)))
    ident = _text(index, entry, "id")
    if not _ID.match(ident):
        raise _fail(index, entry, "id", f"{ident!r} is not lower-case words joined by '-' or '.'")
    citation = _text(index, entry, "citation")
    if not _URL.match(citation):
        raise _fail(index, entry, "citation", f"{citation!r} is not an https:// URL")
    also = _strings(index, entry, "also") if "also" in entry else ()
    for url in also:
        if not _URL.match(url):
            raise _fail(index, entry, "also", f"{url!r} is not an https:// URL")
    status = _strings(index, entry, "status") if "status" in entry else ()
    if not status:
        raise _fail(index, entry, "status", "missing (one of {})".format(", ".join(EXPECTABLE)))
    for value in status:
        if value not in EXPECTABLE:
            raise _fail(index, entry, "status", "{!r} is not one of {}".format(value, ", ".join(EXPECTABLE)))
    pair = entry.get("pair", "any")
    if pair not in PAIRS:
        raise _fail(index, entry, "pair", "{!r} is not one of {}".format(pair, ", ".join(PAIRS)))
    log = entry.get("log")
    if log is not None:
        if not isinstance(log, str) or not log:
            raise _fail(index, entry, "log", "expected a regular expression string")
        try:
            re.compile(log)
        except re.error as exc:
            raise _fail(index, entry, "log", f"not a valid regular expression: {exc}") from None
    added = entry.get("added")
    if isinstance(added, datetime.date):
        added = added.isoformat()
    if not isinstance(added, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", added):
        raise _fail(index, entry, "added", f"expected a date such as 2026-11-21, got {added!r}")
    strict = entry.get("strict", True)
    if not isinstance(strict, bool):
        raise _fail(index, entry, "strict", "expected true or false")
    selector = tuple((f, _strings(index, entry, f)) for f in SELECTOR_FIELDS if f in entry)
    if not selector:
        raise _fail(index, entry, "check", "no selector: name at least one of " + ", ".join(SELECTOR_FIELDS))
    return Expectation(
        id=ident,
        selector=selector,
        pair=pair,
        status=status,
        log=log,
        reason=_text(index, entry, "reason"),
        citation=citation,
        also=also,
        added=added,
        strict=strict,
        note=_text(index, entry, "note", required=False),
        fix=_text(index, entry, "fix", required=False),
    )


def parse(data: Mapping[str, Any]) -> list[Expectation]:
    """Entries of parsed expectations.toml data, in file order; any problem raises."""
    if data.get("schema") != SCHEMA:
        raise ExpectationError("top level: field 'schema': expected {}, got {!r}".format(SCHEMA, data.get("schema")))
    unknown = sorted(set(data) - {"schema", "expectation"})
    if unknown:
        raise ExpectationError(f"top level: field {unknown[0]!r}: unknown; expected schema, expectation")
    raw = data.get("expectation", [])
    if not isinstance(raw, list):
        raise ExpectationError("top level: field 'expectation': expected [[expectation]] tables")
    out = [_entry(i + 1, e) for i, e in enumerate(raw)]
    seen: set[str] = set()
    for i, exp in enumerate(out):
        if exp.id in seen:
            raise ExpectationError(f"expectation {i + 1} ({exp.id!r}): field 'id': duplicate id")
        seen.add(exp.id)
    return out


def observed(result: CellResult) -> CellResult:
    """The record as the check observed it, before any expectation was applied."""
    if result.expectation is None:
        return result
    status = result.expectation.get("observed")
    if status is None:
        # Applied by something that did not keep the observed status: infer it.
        status = {"xfail": "fail", "xpass": "pass"}.get(result.status, result.status)
    return result.replace(status=status, expectation=None)


def apply(result: CellResult, expectations: Sequence[Expectation]) -> CellResult:
    """The record with the first applicable expectation applied (see the module contract)."""
    base = observed(result)
    for exp in expectations:
        if not exp.selects(base):
            continue
        if base.status in exp.status and exp.log_matches(base):
            new_status = "xfail" if base.status in FAILURES else base.status
            return base.replace(status=new_status, expectation=exp.record(base.status))
        if base.status == "pass" and exp.strict:
            return base.replace(status="xpass", expectation=exp.record("pass"))
    return base


def apply_all(results: Sequence[CellResult], expectations: Sequence[Expectation]) -> list[CellResult]:
    return [apply(r, expectations) for r in results]
