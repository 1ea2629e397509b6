"""The result record: one JSON object per cell, versioned.

Contract: `CellResult.to_json()` gives a dict that validates against `cell.schema.json` (schema
`SCHEMA_ID`); `CellResult.from_json()` reads it back, and also reads the older ids in `READABLE`
(cell/1 records lack the optional `input_key` and `reused_from`). Statuses are closed (`STATUSES`); only `pass`
and `xpass` count as a check that ran and held. This module runs inside the oldest images
(Python 3.8), so it uses only the standard library.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

SCHEMA_ID = "trt-matrix.cell/2"
# cell/2 added two optional fields (input_key, reused_from; see cell.schema.json); cell/1 records
# (runs made before) still load and report, so they stay readable.
READABLE = ("trt-matrix.cell/1", SCHEMA_ID)
SCHEMA_FILE = Path(__file__).with_name("cell.schema.json")

# pass: ran, and what it asserts held.           fail: ran, and it did not.
# xfail: failed as expectations.toml says.        xpass: expected to fail, but passed (reported loudly).
# skip: could not run here (no GPU, no libnvinfer); na: does not apply to this release (API absent).
# crash: the check's process died on a signal.    timeout: it ran past its limit and was killed.
# infra_error: the harness or the machine failed, not TensorRT.
STATUSES = ("pass", "fail", "xfail", "xpass", "skip", "na", "crash", "timeout", "infra_error")
NOT_RUN = frozenset({"skip", "na"})
BROKEN = frozenset({"fail", "crash", "timeout", "xpass"})
SEVERITIES = ("internal_error", "error", "warning", "info", "verbose", "stderr", "harness")


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError("unknown status {!r}; expected one of {}".format(status, ", ".join(STATUSES)))


@dataclasses.dataclass(frozen=True)
class LogLine:
    """One message TensorRT (or the harness) logged during a check."""

    severity: str
    text: str

    def to_json(self) -> dict[str, str]:
        return {"severity": self.severity, "text": self.text}


@dataclasses.dataclass(frozen=True)
class CellResult:
    """What one cell did. `cell_id` is `Cell.id` of the cell it answers."""

    run_id: str
    cell_id: str
    check: str
    producer: str
    consumer: str
    model: str
    precision: str
    variant: str
    phase: int
    tier: int
    status: str
    reason: str = ""
    signal: str | None = None
    duration_s: float = 0.0
    api_path: tuple[str, ...] = ()
    log: tuple[LogLine, ...] = ()
    measurements: dict[str, Any] = dataclasses.field(default_factory=dict)
    bom: dict[str, Any] = dataclasses.field(default_factory=dict)
    expectation: dict[str, str] | None = None
    weights: str = ""
    where: str = ""
    started_at: str = ""
    finished_at: str = ""
    # the hash of everything the cell's outcome depends on (matrix/run/reuse.py); "" when not computed
    input_key: str = ""
    # set on a record copied by `run --reuse`: {"run_id": run that executed it, "finished_at": when}
    reused_from: dict[str, str] | None = None

    def __post_init__(self) -> None:
        _check_status(self.status)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA_ID}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "log":
                value = [line.to_json() for line in value]
            elif field.name == "api_path":
                value = list(value)
            out[field.name] = value
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellResult:
        if data.get("schema") not in READABLE:
            raise ValueError("record schema is {!r}, this reader knows {!r}".format(data.get("schema"), READABLE))
        kwargs = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
        kwargs["api_path"] = tuple(kwargs.get("api_path", ()))
        kwargs["log"] = tuple(LogLine(str(x["severity"]), str(x["text"])) for x in kwargs.get("log", ()))
        return cls(**kwargs)

    def replace(self, **changes: Any) -> CellResult:
        return dataclasses.replace(self, **changes)

    @property
    def reused(self) -> bool:
        """Copied from an earlier run by `run --reuse` (not executed in this one)."""
        return self.reused_from is not None

    @property
    def passed(self) -> bool:
        return self.status == "pass"


def dumps(result: CellResult) -> str:
    """One JSON line, keys sorted so identical records are identical text."""
    return json.dumps(result.to_json(), sort_keys=True, separators=(",", ":"), default=str)


def load_schema() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return data


def validation_errors(record: dict[str, Any]) -> list[str]:
    """Problems with one record, checked without third-party packages (images have none).

    The host also validates with `jsonschema` against `cell.schema.json`; this is the subset that
    matters when a record is written: the schema id, required fields and their types, the status.
    """
    problems: list[str] = []
    if record.get("schema") not in READABLE:
        problems.append("schema is {!r}, expected one of {!r}".format(record.get("schema"), READABLE))
    required = {
        "run_id": str,
        "cell_id": str,
        "check": str,
        "producer": str,
        "consumer": str,
        "model": str,
        "precision": str,
        "variant": str,
        "phase": int,
        "tier": int,
        "status": str,
        "reason": str,
        "duration_s": (int, float),
        "api_path": list,
        "log": list,
        "measurements": dict,
        "bom": dict,
    }
    for name, kind in required.items():
        if name not in record:
            problems.append(f"missing field {name!r}")
        elif not isinstance(record[name], kind) or isinstance(record[name], bool):  # type: ignore[arg-type]
            problems.append(f"field {name!r} has type {type(record[name]).__name__}")
    status = record.get("status")
    if isinstance(status, str) and status not in STATUSES:
        problems.append("status {!r} is not one of {}".format(status, ", ".join(STATUSES)))
    if status in NOT_RUN and not record.get("reason"):
        problems.append(f"status {status!r} needs a reason")
    if status == "crash" and not record.get("signal") and not record.get("reason"):
        problems.append("a crash needs a signal or a reason")
    return problems
