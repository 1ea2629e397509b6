"""API changes between adjacent releases, from a small planted `trt-matrix api --json` file."""

from __future__ import annotations

from pathlib import Path

import pytest

from matrix.errors import UserError
from matrix.report import apidiff

ORDER = ("trt84", "trt85", "trt86", "trt100", "trt10", "trt11")


def test_added_removed_and_newly_deprecated_per_adjacent_pair() -> None:
    data = {
        "trt11": {"present": ["IExecutionContext.execute_async_v3"], "deprecated": []},
        "trt85": {
            "present": [
                "Builder.build_engine",
                "IExecutionContext.execute_async_v2",
                "IExecutionContext.execute_v2",
            ],
            "deprecated": ["Builder.build_engine"],
        },
        "trt86": {
            "present": [
                "Builder.build_engine",
                "IExecutionContext.execute_async_v3",
                "IExecutionContext.execute_v2",
            ],
            "deprecated": ["Builder.build_engine", "IExecutionContext.execute_v2"],
        },
    }
    changes = apidiff.parse(data, Path("api.json"), ORDER)
    assert changes.releases == ("trt85", "trt86", "trt11")
    first, second = changes.changes
    assert (first.old, first.new) == ("trt85", "trt86")
    assert first.added == ("IExecutionContext.execute_async_v3",)
    assert first.removed == ("IExecutionContext.execute_async_v2",)
    assert first.deprecated == ("IExecutionContext.execute_v2",)
    assert second.removed == ("Builder.build_engine", "IExecutionContext.execute_v2")
    assert second.added == () and second.deprecated == ()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected an object mapping release ids"),
        ({"trt86": ["x"]}, "release 'trt86': expected an object with a 'present' list"),
        ({"trt86": {"present": [1]}}, "field 'present' must be a list"),
        ({"trt86": {"present": [], "removed": []}}, "unknown field 'removed'"),
    ],
)
def test_bad_files_are_user_errors(data: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        apidiff.parse(data, Path("api.json"), ORDER)
