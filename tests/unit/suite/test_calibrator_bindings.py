"""The suite's calibrators against the REAL Python bindings of 8.6.1, 10.8 and 11.4 (imported over the
stand-in library in a child process; no GPU, no libnvinfer): they construct as subclasses of each
release's IInt8EntropyCalibrator2 / IInt8MinMaxCalibrator, report the algorithm the release's headers
define, feed the batches and keep the cache; on 11.x the base classes are gone and the cells are `na`.

Only a GPU image shows TensorRT itself calling these methods during a build (the int8 cells).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.unit.suite import real_bindings

ROOT = Path(__file__).resolve().parents[3]


def probe(version: str) -> dict[str, Any]:
    return real_bindings.probe(version, "tests.unit.suite.calibrator_probe")


@pytest.mark.parametrize(
    ("version", "header"),
    [("8.6.1", "TRT-8601"), ("10.8.0.43", "TRT-100800")],
)
def test_calibrators_construct_and_work_against_real_bindings(version: str, header: str) -> None:
    found = probe(version)
    assert found["version"] == version
    for algorithm, enum in (("entropy2", "ENTROPY_CALIBRATION_2"), ("minmax", "MINMAX_CALIBRATION")):
        got = found[algorithm]
        assert got["isinstance_base"] is True and got["isinstance_IInt8Calibrator"] is True
        assert got["batch_size"] == 1
        assert got["algorithm"] == f"CalibrationAlgoType.{enum}"  # the release's own inline getAlgorithm()
        assert got["fed_equal"] == [True, True, True]
        assert got["first_read"] is None
        stats = got["stats"]
        assert stats["get_batch_calls"] == 4 and stats["batches_served"] == 3
        assert stats["cache_writes"] == 1 and stats["cache_error"] is None
        assert stats["cache_header"] == got["header"] and got["header"].startswith(header)
        assert got["second_read_equal"] is True
        assert got["second_stats"]["cache_hits"] == 1 and got["second_stats"]["get_batch_calls"] == 0


def test_calibrators_are_absent_with_the_reason_on_11() -> None:
    found = probe("11.4.0.106")
    for algorithm, name in (("entropy2", "IInt8EntropyCalibrator2"), ("minmax", "IInt8MinMaxCalibrator")):
        assert found[algorithm] == {
            "not_applicable": f"{name} absent in tensorrt 11.4.0.106 (implicit INT8 removed in 11.0: "
            "only explicit Q/DQ remains)"
        }
