"""What a check returns, and the exceptions a check raises to say it could not run or failed.

Contract: a check is `run(ctx: CheckContext) -> Outcome`. It raises `Skip` (cannot run here),
`NotApplicable` (the release lacks the API), `Fail` (ran, and the assertion did not hold) or
`TrtCallError` (a TensorRT call raised); any other exception is a harness bug and becomes
`infra_error`, never a TensorRT verdict. `CheckContext` tells a check where its inputs and outputs
live. Runs on Python 3.8.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from matrix.suite.cells import Cell
from matrix.suite.schema import LogLine


class CheckSignal(Exception):
    status = "fail"

    def __init__(
        self, reason: str, log: list[LogLine] | None = None, measurements: dict[str, Any] | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log = list(log or [])
        self.measurements = dict(measurements or {})


class Skip(CheckSignal):
    """The check cannot run here (no GPU, no compiler, no input artifact); says exactly why."""

    status = "skip"


class NotApplicable(CheckSignal):
    """The release lacks what the check exercises ('BuilderFlag.INT8 absent in 11.4.0')."""

    status = "na"


class Fail(CheckSignal):
    """The check ran and its assertion did not hold."""

    status = "fail"


class TrtCallError(Fail):
    """A TensorRT call raised: a failure of the check, with the call named."""

    def __init__(self, call: str, exc: BaseException, log: list[LogLine] | None = None) -> None:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        super().__init__(f"{call} raised {type(exc).__name__}: {first[:400]}", log)
        self.call = call


@dataclasses.dataclass
class Outcome:
    status: str
    reason: str = ""
    api_path: list[str] = dataclasses.field(default_factory=list)
    log: list[LogLine] = dataclasses.field(default_factory=list)
    measurements: dict[str, Any] = dataclasses.field(default_factory=dict)
    signal: str | None = None
    artifacts: list[str] = dataclasses.field(default_factory=list)  # files written, relative to artifacts/

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["log"] = [line.to_json() for line in self.log]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Outcome:
        data = dict(data)
        data["log"] = [LogLine(x["severity"], x["text"]) for x in data.get("log", [])]
        return cls(**data)


@dataclasses.dataclass(frozen=True)
class CheckContext:
    """Where a check finds its inputs and writes its outputs.

    artifacts/<release>/ is the producer's folder (writable in phase 1, read-only in phase 2);
    artifacts/models/<model>/ holds what the host exported (ONNX, references, calibration data).
    """

    cell: Cell
    release: str
    artifacts: Path
    scratch: Path
    options: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def own_dir(self) -> Path:
        return self.artifacts / self.release

    def producer_dir(self, producer: str) -> Path:
        return self.artifacts / producer

    def model_dir(self, model: str) -> Path:
        return self.artifacts / "models" / model

    def model_file(self, model: str, name: str) -> Path:
        path = self.model_dir(model) / name
        if not path.is_file():
            raise Skip(
                f"{path} is missing: run `trt-matrix models export --artifacts {self.artifacts}` on the host first"
            )
        return path

    def plan_name(self, model: str, precision: str, variant: str) -> str:
        return f"{model}-{precision}-{variant}.plan"

    def to_json(self) -> dict[str, Any]:
        return {
            "cell": self.cell.id,
            "release": self.release,
            "artifacts": str(self.artifacts),
            "scratch": str(self.scratch),
            "options": self.options,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckContext:
        return cls(
            Cell.from_id(data["cell"]),
            data["release"],
            Path(data["artifacts"]),
            Path(data["scratch"]),
            dict(data.get("options", {})),
        )


def sha256_file(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)
