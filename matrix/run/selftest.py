"""The self-test's data: how the TensorRT double is activated, and the scenarios `--inject` turns on.

Contract: `load(path)` reads tests/double/selftest.toml (the data file beside the double; the
product never spells the double's variables itself) into a `SelfTest`, or raises UserError naming
the field. `SelfTest.environment(tensorrt, repo, base_path, base_pythonpath, scenarios)` is what a
suite process needs to import the double of that release: PYTHONPATH and PATH with the double's
folders first, the activation variables, and the faults of the injected scenarios.
`SelfTest.image_pip` is what a self-test image installs besides the suite's requirements.
`SelfTest.select(names)` validates `--inject` names (a wrong one is a UserError listing the valid
ones). `Scenario.explains(record)` says whether a failing record is one a scenario predicts (cell
globs, status and log line), so a report can name the seed, citation and fix next to it.
`is_double(record)`/`double_versions(records)` read the marker every double record carries
(`bom["tensorrt_double"]`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matrix import repo
from matrix.errors import UserError
from matrix.suite.schema import CellResult

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

MARKER = "tensorrt_double"  # the BOM key every record made with the double carries (its version)
BANNER = "self-test of the harness, not TensorRT"
_URL = re.compile(r"^https://[^\s<>\"']+$")


def default_path() -> Path:
    return repo.root() / "tests" / "double" / "selftest.toml"


def is_double(record: CellResult) -> bool:
    return bool(record.bom.get(MARKER))


def double_versions(records: Iterable[CellResult]) -> tuple[str, ...]:
    """The double's versions the records were made with, sorted ('' when none was)."""
    return tuple(sorted({str(r.bom[MARKER]) for r in records if r.bom.get(MARKER)}))


def refuse_mixed(records: Sequence[CellResult], what: str) -> None:
    """A UserError when `records` mix the double's records with real TensorRT's (never one report).
    Phase-0 records (host cells, no TensorRT at all) belong to either kind of run."""
    tensorrt = [r for r in records if r.phase > 0]
    double = sum(1 for r in tensorrt if is_double(r))
    if double and double < len(tensorrt):
        raise UserError(
            f"{what} refuses to mix {double} record(s) made with the TensorRT double (a self-test of the harness, "
            f"not TensorRT) with {len(tensorrt) - double} record(s) of real TensorRT: give it one kind of run"
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class CellRule:
    """Cells a scenario affects, and what they show there."""

    check: tuple[str, ...]
    model: tuple[str, ...]
    variant: tuple[str, ...]
    release: tuple[str, ...]
    status: str
    classification: tuple[str, ...]
    log: str | None

    def selects(self, record: CellResult) -> bool:
        pairs = (
            (record.check, self.check),
            (record.model, self.model),
            (record.variant, self.variant),
            (record.consumer, self.release),
        )
        return all(any(fnmatch.fnmatchcase(value, p) for p in globs) for value, globs in pairs)

    def log_matches(self, record: CellResult) -> bool:
        if self.log is None:
            return True
        pattern = re.compile(self.log)
        return any(pattern.search(line.text) for line in record.log)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Scenario:
    name: str
    faults: tuple[str, ...]
    seed: str
    expectation: str
    citation: str
    fix: str
    cells: tuple[CellRule, ...]

    def releases(self, catalogue_ids: Sequence[str]) -> tuple[str, ...]:
        """The releases (of those given) whose cells this scenario affects."""
        return tuple(r for r in catalogue_ids if any(fnmatch.fnmatchcase(r, g) for c in self.cells for g in c.release))

    def rule_for(self, record: CellResult) -> CellRule | None:
        return next((c for c in self.cells if c.selects(record)), None)

    def explains(self, record: CellResult) -> bool:
        """The record is one this scenario predicts: its cell, its status as observed, its log line."""
        rule = self.rule_for(record)
        if rule is None:
            return False
        observed = (record.expectation or {}).get("observed") or record.status
        return observed == rule.status and rule.log_matches(record)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SelfTest:
    pythonpath: tuple[str, ...]
    path: tuple[str, ...]
    faults_variable: str
    env: Mapping[str, str]
    scenarios: tuple[Scenario, ...]
    image_pip: tuple[str, ...] = ()  # what a self-test image installs on top of the suite's requirements
    image_apt: tuple[str, ...] = ()  # and from the distribution (make: the decode plugin's Makefile)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.scenarios)

    def scenario(self, name: str) -> Scenario:
        for s in self.scenarios:
            if s.name == name:
                return s
        raise UserError(f"--inject {name!r}: no such scenario; valid: {', '.join(self.names)}")

    def select(self, names: Sequence[str]) -> tuple[Scenario, ...]:
        return tuple(self.scenario(n) for n in dict.fromkeys(names))

    def environment(
        self,
        *,
        tensorrt: str,
        repo_root: str,
        base_path: str,
        base_pythonpath: str,
        faults: Sequence[str] = (),
        double_dir: str = "",
    ) -> dict[str, str]:
        """The variables a suite process needs to run on the double of TensorRT `tensorrt`."""
        double = double_dir or f"{repo_root}/tests/double"
        values = {"repo": repo_root, "double": double, "tensorrt": tensorrt, "faults": ",".join(faults)}

        def fill(text: str) -> str:
            return text.format_map(values)

        def prefixed(first: Sequence[str], rest: str) -> str:
            return ":".join([fill(p) for p in first] + ([rest] if rest else []))

        out = {name: fill(value) for name, value in self.env.items()}
        out["PYTHONPATH"] = prefixed(self.pythonpath, base_pythonpath)
        out["PATH"] = prefixed(self.path, base_path)
        if faults:
            out[self.faults_variable] = ",".join(dict.fromkeys(faults))
        return out


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) and value:
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return tuple(value)
    raise UserError(f"{where}: expected a non-empty string or list of strings, got {value!r}")


def _text(where: str, table: Mapping[str, Any], key: str, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise UserError(f"{where}: field {key!r}: expected a non-empty string, got {value!r}")
    return value


def _cell(where: str, table: Any) -> CellRule:
    if not isinstance(table, dict):
        raise UserError(f"{where}: expected a table")
    unknown = sorted(set(table) - {"check", "model", "variant", "release", "status", "classification", "log"})
    if unknown:
        raise UserError(f"{where}: unknown field {unknown[0]!r}")
    log = table.get("log")
    if log is not None:
        try:
            re.compile(_text(where, table, "log"))
        except re.error as exc:
            raise UserError(f"{where}: field 'log': not a regular expression: {exc}") from None
    return CellRule(
        check=_strings(f"{where}: check", table.get("check")),
        model=_strings(f"{where}: model", table.get("model", "*")),
        variant=_strings(f"{where}: variant", table.get("variant", "*")),
        release=_strings(f"{where}: release", table.get("release", "*")),
        status=_text(where, table, "status"),
        classification=_strings(f"{where}: classification", table["classification"])
        if "classification" in table
        else (),
        log=log,
    )


def _scenario(index: int, table: Any) -> Scenario:
    where = f"scenario {index}"
    if not isinstance(table, dict):
        raise UserError(f"{where}: expected a table")
    name = _text(where, table, "name")
    where = f"scenario {index} ({name})"
    citation = _text(where, table, "citation", required=False)
    if citation and not _URL.match(citation):
        raise UserError(f"{where}: field 'citation': {citation!r} is not an https:// URL")
    cells = table.get("cell")
    if not isinstance(cells, list) or not cells:
        raise UserError(f"{where}: needs at least one [[scenario.cell]]")
    return Scenario(
        name=name,
        faults=_strings(f"{where}: faults", table.get("faults", name)),
        seed=_text(where, table, "seed"),
        expectation=_text(where, table, "expectation", required=False),
        citation=citation,
        fix=_text(where, table, "fix"),
        cells=tuple(_cell(f"{where} cell {i + 1}", c) for i, c in enumerate(cells)),
    )


def parse(data: Mapping[str, Any], where: str = "selftest.toml") -> SelfTest:
    if data.get("schema") != 1:
        raise UserError(f"{where}: field 'schema': expected 1, got {data.get('schema')!r}")
    act = data.get("activation")
    if not isinstance(act, dict):
        raise UserError(f"{where}: [activation] is missing")
    env = act.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise UserError(f'{where}: [activation.env]: expected NAME = "value" lines')
    raw = data.get("scenario", [])
    if not isinstance(raw, list) or not raw:
        raise UserError(f"{where}: no [[scenario]] tables")
    scenarios = tuple(_scenario(i + 1, s) for i, s in enumerate(raw))
    names = [s.name for s in scenarios]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise UserError(f"{where}: scenario {duplicate!r} is defined twice")
    image = data.get("image", {})
    if not isinstance(image, dict):
        raise UserError(f"{where}: [image]: expected a table")
    return SelfTest(
        image_pip=_strings(f"{where}: image.pip", image["pip"]) if "pip" in image else (),
        image_apt=_strings(f"{where}: image.apt", image["apt"]) if "apt" in image else (),
        pythonpath=_strings(f"{where}: activation.pythonpath", act.get("pythonpath")),
        path=_strings(f"{where}: activation.path", act.get("path")),
        faults_variable=_text(f"{where}: activation", act, "faults"),
        env=dict(env),
        scenarios=scenarios,
    )


def load(path: Path | None = None) -> SelfTest:
    path = path or default_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: no such file; the self-test needs the TensorRT double's tests/double/") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not TOML: {exc}") from None
    return parse(data, str(path))
