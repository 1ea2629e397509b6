"""Fuzzing the readers of TOML and JSON inputs: each yields its value or its documented error, nothing else.

results.json (`report.inputs.read_results_json`), versions.toml (`catalogue.parse`), expectations.toml
(`report.expectations.load`) and the API-surface JSON (`report.apidiff.load`): each is the real file,
damaged by `tests.unit.fuzzing.mutated` at any level and written back, then read. Documented error:
`UserError`, one line, naming the file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from hypothesis import given

from matrix import catalogue
from matrix.errors import UserError
from matrix.report import apidiff, expectations, inputs
from tests.unit.fuzzing import FUZZ, mutated, toml_text
from tests.unit.report.sample_runs import three_release_run

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

RESULTS_JSON: dict[str, Any] = {
    "schema": inputs.RESULTS_SCHEMA,
    "summary": {"cells": 2},
    "results": [r.to_json() for r in three_release_run()[:2]],
}
# The real files, cut to a few entries (every shape they hold, at a fraction of the parsing cost).
VERSIONS = tomllib.loads(catalogue.DEFAULT_PATH.read_text(encoding="utf-8"))
VERSIONS["release"] = VERSIONS["release"][:2]
EXPECTATIONS = tomllib.loads(expectations.DEFAULT_PATH.read_text(encoding="utf-8"))
EXPECTATIONS["expectation"] = EXPECTATIONS["expectation"][:3]
API = {
    "trt86": {"present": ["tensorrt.ICudaEngine.num_bindings", "tensorrt.Builder"], "deprecated": []},
    "trt10": {"present": ["tensorrt.Builder"], "deprecated": ["tensorrt.Builder.build_engine"]},
}


def _one_line_naming(exc: UserError, path: Path) -> None:
    assert str(path) in str(exc) and "\n" not in str(exc), str(exc)


@FUZZ
@given(doc=mutated(RESULTS_JSON))
def test_results_json(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    try:
        inputs.read_results_json(path)
    except UserError as exc:
        _one_line_naming(exc, path)


@FUZZ
@given(doc=mutated(VERSIONS, toml=True))
def test_versions_toml(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "versions.toml"
    try:
        catalogue.parse(toml_text(doc), path)
    except UserError as exc:
        _one_line_naming(exc, path)


@FUZZ
@given(doc=mutated(EXPECTATIONS, toml=True))
def test_expectations_toml(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "expectations.toml"
    path.write_text(toml_text(doc), encoding="utf-8")
    try:
        expectations.load(path)
    except UserError as exc:
        _one_line_naming(exc, path)


@FUZZ
@given(doc=mutated(API))
def test_api_surface_json(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "api.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    try:
        apidiff.load(path, ["trt86", "trt10"])
    except UserError as exc:
        _one_line_naming(exc, path)
