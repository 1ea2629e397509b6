"""Runs INSIDE a process whose `tensorrt` is a release's real bindings over the stand-in library.

Prints one JSON object: the adapter's path selection (`Api.describe()`), whether the recording logger
subclasses this release's `ILogger` and records, and whether a calibrator subclass constructs against
each calibrator base class the release has. Nothing here calls into libnvinfer (the stand-in returns
NULL for every entry point); pybind11 trampolines for ILogger and the calibrators are pure bindings.
"""

from __future__ import annotations

import json
from typing import Any


def _calibrator_class(base: Any) -> Any:
    class Probe(base):  # type: ignore[misc]
        def __init__(self) -> None:
            base.__init__(self)

        def get_batch_size(self) -> int:
            return 1

    return Probe


def main() -> dict[str, Any]:
    import tensorrt as trt

    from matrix.suite.adapter import Api
    from matrix.suite.trtlog import make_logger

    api = Api(trt)
    out: dict[str, Any] = {"describe": api.describe()}
    logger = make_logger(trt)
    logger.log(trt.ILogger.Severity.WARNING, "probe")
    out["logger"] = {
        "subclass_of_ILogger": isinstance(logger, trt.ILogger),
        "recorded": [(x.severity, x.text) for x in logger.lines],
    }
    calibrators: dict[str, str] = {}
    for name in ("IInt8EntropyCalibrator2", "IInt8MinMaxCalibrator"):
        base = getattr(trt, name, None)
        if base is None:
            calibrators[name] = "absent"
            continue

        try:
            instance = _calibrator_class(base)()
            calibrators[name] = "constructs" if isinstance(instance, base) else "not an instance"
        except Exception as exc:  # what the bindings say is the observation
            calibrators[name] = f"{type(exc).__name__}: {exc}"
    out["calibrators"] = calibrators
    return out


if __name__ == "__main__":
    print(json.dumps(main()))  # noqa: T201 - the probe's output is its interface
