"""Inputs: result folders, JSONL files and a report's results.json all read back the same records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matrix.cli import main
from matrix.errors import UserError
from matrix.report import inputs
from tests.unit.report.sample_runs import three_release_run, write_run


def test_folder_jsonl_and_results_json_give_the_same_records(tmp_path: Path) -> None:
    records = three_release_run()
    folder = write_run(records, tmp_path / "run")
    assert sorted(r.cell_id for r in inputs.load([folder])) == sorted(r.cell_id for r in records)
    one = folder / "trt86.p1.jsonl"
    assert {r.consumer for r in inputs.load([one])} == {"trt86"}
    assert main(["report", str(folder), "--out", str(tmp_path / "rep"), "--no-expectations"]) == 0
    again = inputs.load([tmp_path / "rep" / "results.json"])
    assert sorted(r.to_json()["cell_id"] for r in again) == sorted(r.cell_id for r in records)
    assert {r.cell_id: r for r in again} == {r.cell_id: r for r in records}
    assert len(inputs.load([tmp_path / "rep"])) == len(records)  # a report folder holds results.json


def test_a_record_that_breaks_the_schema_is_named(tmp_path: Path) -> None:
    data = {"schema": inputs.RESULTS_SCHEMA, "results": [{"schema": "trt-matrix.cell/1", "status": "pass"}]}
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(UserError, match=r"results.json: results\[0\]: "):
        inputs.load([path])
    with pytest.raises(UserError, match="no results given"):
        inputs.load([])
