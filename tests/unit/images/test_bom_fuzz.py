"""Fuzzing the reader of the image probe's output (`bom.read_probe_output`) and of stored records
(`bom.load`): a real probe answer damaged at any level, cut at every byte, or replaced by random bytes
is the bill of materials or a failed probe that says what was wrong; never an exception. Whatever it
returns, `summary` and `flat` (what `images build`/`images list` and result records use) work on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import given

from matrix.images import bom as image_bom
from matrix.suite import bom as bom_module
from tests.unit.fuzzing import FUZZ, damaged, mutated

# What the probe printed in a CUDA 12 image with TensorRT 10 (the shape of every fact; values as probed).
ANSWER: dict[str, Any] = {
    "schema": bom_module.SCHEMA,
    "os": "Ubuntu 22.04.4 LTS",
    "python": "3.10.12",
    "numpy": "1.26.4",
    "tensorrt_python": "10.3.0",
    "tensorrt_trtexec": None,
    "libnvinfer": "10.3.0.26",
    "cuda_runtime": "12.5",
    "cuda_env": "12.5.1",
    "nvcc": None,
    "cuda_python": None,
    "gpu": [{"name": "NVIDIA H200", "driver": "550.90.07", "compute_capability": "9.0"}],
    "notes": {"tensorrt_trtexec": "no trtexec in /usr/src/tensorrt/bin", "nvcc": "no nvcc on PATH"},
    "sources": {"os": "/etc/os-release", "python": "/usr/bin/python3"},
    "probe_seconds": 1.234,
}
TEXT = json.dumps(ANSWER, indent=2, sort_keys=True) + "\n"


def _check(result: dict[str, Any]) -> None:
    if "probe_error" in result:
        assert isinstance(result["probe_error"], str) and "\n" not in result["probe_error"]
        assert all(result[fact] is None for fact in bom_module.FACTS)
    else:
        assert image_bom.problem(result) is None
    image_bom.summary(result)
    bom_module.flat(result)
    json.dumps(result)


def test_the_answer_is_taken_and_damage_is_named() -> None:
    assert image_bom.read_probe_output(TEXT) == ANSWER
    broken = image_bom.read_probe_output(TEXT.replace('"3.10.12"', "[3, 10]"))
    assert broken["probe_error"] == "fact 'python' should be a string or null, not [3, 10]"


@FUZZ
@given(doc=mutated(ANSWER))
def test_probe_output_damaged_at_any_level(doc: Any) -> None:
    _check(image_bom.read_probe_output(json.dumps(doc)))


@FUZZ
@given(data=damaged(TEXT.encode("utf-8")))
def test_probe_output_bytes(data: bytes) -> None:
    _check(image_bom.read_probe_output(data.decode("utf-8", "replace")))  # as probe_image decodes it


def test_probe_output_cut_at_every_byte() -> None:
    for end in range(len(TEXT)):
        _check(image_bom.read_probe_output(TEXT[:end]))


@FUZZ
@given(data=damaged(json.dumps({"schema": image_bom.SCHEMA, "bom": ANSWER}).encode("utf-8")))
def test_a_damaged_stored_record_is_probed_again(data: bytes, tmp_path: Path) -> None:
    path = image_bom.store_path("sha256:abc", tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    record = image_bom.load("sha256:abc", tmp_path)
    if record is not None:
        _check(record["bom"])
