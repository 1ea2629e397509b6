"""The double's method signatures against the real pybind11 signatures (issue 13, item 3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.double import conformance

ROOT = Path(__file__).resolve().parents[2]
DOUBLE = ROOT / "tests" / "double"
SIGNATURES = DOUBLE / "tensorrt" / "signatures"
RELEASES = sorted(p.stem for p in SIGNATURES.glob("*.json"))

PROBE = """
import sys
sys.argv = ["probe"]
import tensorrt
{plant}
sys.path.insert(0, {double!r})
import conformance_probe
conformance_probe.main()
"""


def probe(version: str, plant: str = "") -> Any:
    env = dict(os.environ, PYTHONPATH=f"{DOUBLE}{os.pathsep}{ROOT}", TRT_MATRIX_DOUBLE=version)
    code = PROBE.format(plant=plant, double=str(DOUBLE))
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_signature_snapshots_cover_8_6_1_and_six_later_releases() -> None:
    assert "8.6.1" in RELEASES
    assert len([r for r in RELEASES if r.split(".")[0] in ("10", "11")]) >= 6


@pytest.mark.parametrize("version", RELEASES)
def test_modelled_methods_match_the_real_signatures(version: str) -> None:
    got = probe(version)
    assert got["release"] == version
    assert got["compared"] >= 25, got
    assert got["problems"] == []


PLANTS = {
    "renamed": (
        "tensorrt.IExecutionContext.set_tensor_address = lambda self, name, address: True",
        "IExecutionContext.set_tensor_address(self, name, address) differs",
    ),
    "default dropped": (
        "tensorrt.Builder.create_network = lambda self, flags: None",
        "Builder.create_network(self, flags) differs",
    ),
    "default changed": (
        "from tensorrt import _model\n"
        "def init(self, min_severity=_model.EnumDefault('ILogger.Severity', 'ERROR')): pass\n"
        "tensorrt.Logger.__init__ = init",
        "Logger.__init__(self, min_severity=Severity.ERROR) differs",
    ),
    "network-definition default dropped": (
        "tensorrt.INetworkDefinition.add_scale = lambda self, input, mode, shift=None, scale=None: None",
        "INetworkDefinition.add_scale(self, input, mode, shift=None, scale=None) differs",
    ),
    "inherited layer method renamed": (
        "tensorrt.IConvolutionLayer.get_output = lambda self, i: None",
        "IConvolutionLayer.get_output(self, i) differs",
    ),
    "parameter added": (
        "tensorrt.IExecutionContext.execute_async_v3 = lambda self, stream_handle, extra=0: True",
        "IExecutionContext.execute_async_v3(self, stream_handle, extra=0) differs",
    ),
}


@pytest.mark.parametrize("name", sorted(PLANTS))
def test_a_planted_signature_change_fails_the_comparison(name: str) -> None:
    plant, expected = PLANTS[name]
    got = probe("8.6.1", plant)
    assert [p for p in got["problems"] if p.startswith(expected)], got["problems"]


def test_an_unlisted_real_overload_is_a_problem() -> None:
    def deserialize_cuda_engine(self: Any, serialized_engine: Any) -> Any:
        return None

    real = {
        "Runtime.deserialize_cuda_engine": [
            "deserialize_cuda_engine(self: tensorrt.tensorrt.Runtime, serialized_engine: buffer) -> X",
            "deserialize_cuda_engine(self: tensorrt.tensorrt.Runtime, reader: tensorrt.tensorrt.IStreamReader) -> X",
        ]
    }
    names = {"Runtime.deserialize_cuda_engine": "method"}
    methods = {"Runtime.deserialize_cuda_engine": deserialize_cuda_engine}
    assert conformance.mismatches(methods, real, names, {}) == [
        "Runtime.deserialize_cuda_engine(self, reader): a real overload the double neither models nor lists as "
        "unmodelled"
    ]
    listed = {"Runtime.deserialize_cuda_engine(self, reader)": "why"}
    assert conformance.mismatches(methods, real, names, listed) == []


def test_parse_reads_names_defaults_and_nested_types() -> None:
    line = (
        "f(self: tensorrt.tensorrt.X, a: List[Tuple[int, int]], b: tensorrt.tensorrt.ILogger.Severity = "
        "<Severity.WARNING: 2>, c: str = None, d: int = 0) -> Dict[str, int]"
    )
    assert conformance.parse(line).params == (
        ("self", None),
        ("a", None),
        ("b", "Severity.WARNING"),
        ("c", "None"),
        ("d", "0"),
    )


@pytest.mark.parametrize("version", ["8.6.1", "11.4.0.106"])
def test_the_snapshot_equals_the_real_bindings_now(version: str) -> None:
    from tests.unit.suite import real_bindings

    env = real_bindings.env_for(version)  # skips, saying why, where the wheel cannot be had
    proc = subprocess.run(
        [sys.executable, "-m", "tests.double.introspect_signatures"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    live = json.loads(proc.stdout.strip().splitlines()[-1])["signatures"]
    stored = json.loads((SIGNATURES / f"{version}.json").read_text())["signatures"]
    assert live == stored, "stale: python -m tests.double.generate_signatures"
