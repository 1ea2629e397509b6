"""Path selection against the REAL Python bindings of 8.6.1, 10.0.1, 10.8 and 11.4 (imported over the
stand-in library in a child process; nothing runs on a GPU). The adapter chooses by hasattr on the
module; these tests check its choices against the independent research table of the API surface
(../shared/research/tensorrt-api-surface.json) where it is present.

Needs the bindings wheels (downloaded once into the cache); skipped, saying why, without network.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.suite import real_bindings

ROOT = Path(__file__).resolve().parents[3]
RESEARCH = ROOT.parent / "shared" / "research" / "tensorrt-api-surface.json"


def probe(version: str) -> dict[str, Any]:
    return real_bindings.probe(version, "matrix.hostchecks.adapter_probe")


def research(version: str) -> dict[str, bool] | None:
    if not RESEARCH.is_file():
        return None
    names = json.loads(RESEARCH.read_text(encoding="utf-8"))["versions"].get(version, {}).get("names", {})
    return {name: bool(cell["present"]) for name, cell in names.items()}


@pytest.mark.parametrize(
    ("version", "execute", "build", "int8", "io"),
    [
        (
            "8.6.1",
            ["execute_v2", "execute_async_v3", "execute_async_v2"],
            ["build_serialized_network", "build_engine"],
            True,
            "tensors",
        ),
        ("10.0.1", ["execute_v2", "execute_async_v3"], ["build_serialized_network"], True, "tensors"),
        (
            "10.8.0.43",
            ["execute_v2", "execute_async_v3"],
            ["build_serialized_network", "build_engine_with_config"],
            True,
            "tensors",
        ),
        (
            "11.4.0.106",
            ["execute_v2", "execute_async_v3"],
            ["build_serialized_network", "build_engine_with_config"],
            False,
            "tensors",
        ),
    ],
)
def test_path_selection_on_real_bindings(
    version: str, execute: list[str], build: list[str], int8: bool, io: str
) -> None:
    found = probe(version)
    paths = found["describe"]
    assert paths["version"] == version
    assert paths["execute"] == execute
    assert paths["build"] == build
    assert paths["int8"] is int8 and paths["io"] == io
    assert paths["destroy"] is False  # no Python destroy() in any release
    assert found["logger"] == {"subclass_of_ILogger": True, "recorded": [["warning", "probe"]]}
    expected_calibrators = "constructs" if int8 else "absent"
    assert found["calibrators"] == {
        "IInt8EntropyCalibrator2": expected_calibrators,
        "IInt8MinMaxCalibrator": expected_calibrators,
    }
    facts = research(version)
    if facts is None:
        pytest.skip(f"{RESEARCH} is absent: the cross-check against the research table did not run")
    assert ("execute_async_v2" in paths["execute"]) == facts["IExecutionContext.execute_async_v2"]
    assert ("execute_async_v3" in paths["execute"]) == facts["IExecutionContext.execute_async_v3"]
    assert ("build_engine" in paths["build"]) == facts["Builder.build_engine"]
    assert ("build_engine_with_config" in paths["build"]) == facts["Builder.build_engine_with_config"]
    assert paths["int8"] == facts["BuilderFlag.INT8"]
    assert paths["version_compatible"] == facts["BuilderFlag.VERSION_COMPATIBLE"]
    assert paths["host_code_allowed"] == facts["Runtime.engine_host_code_allowed"]
    assert (paths["network_flags"] == "EXPLICIT_BATCH") == facts["NetworkDefinitionCreationFlag.EXPLICIT_BATCH"]
    assert (paths["workspace"] == "set_memory_pool_limit") == facts["IBuilderConfig.set_memory_pool_limit"]
