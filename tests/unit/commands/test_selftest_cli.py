"""`trt-matrix run --self-test` options, and the self-test banner and mix refusal of report, merge, diff.

The records are sample_runs' realistic run with the double's marker added to every phase-1/2 record,
as the double's environment probe adds it (tests/double, issue 13); nothing here runs the double.
"""

from __future__ import annotations

import dataclasses
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from matrix.cli import main
from matrix.run import runner as runmod
from matrix.run import selftest
from matrix.suite import cells
from matrix.suite.schema import CellResult, LogLine
from tests.unit.report.sample_runs import three_release_run, write_run

DOUBLE = {"trt86": "8.6.1", "trt10": "10.8.0", "trt11": "11.4.0.106"}
PLUGIN_LINE = (
    "[pluginV2Runner.cpp::getInputHostScale::88] Error Code 2: Internal Error (Assertion scales.size() == 1 failed. )"
)


def as_double(records: list[CellResult]) -> list[CellResult]:
    return [
        dataclasses.replace(r, bom={**r.bom, selftest.MARKER: DOUBLE[r.consumer]}) if r.phase else r for r in records
    ]


def test_list_scenarios_prints_seed_and_citation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--self-test", "--list-scenarios"]) == 0
    out = capsys.readouterr().out
    for name in ("retinaface-int8-scales", "scrfd-v3-zeros", "crash", "hang", "oom"):
        assert f"\n{name}\n" in "\n" + out
    assert "citation: https://github.com/wang-xinyu/tensorrtx/issues/1456" in out
    assert "seed:     SCRFD on 10.4.0" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["run", "--inject", "crash", "--host-only"],
            "--inject turns on faults of the TensorRT double: add --self-test",
        ),
        (
            ["run", "--self-test", "--inject", "nope"],
            "--inject 'nope': no such scenario; valid: retinaface-destroy-order",
        ),
        (
            ["run", "--self-test", "--host-only"],
            "--self-test runs phases 1 and 2 on the TensorRT double: drop --host-only",
        ),
        (["run", "--self-test", "--local"], "--local --self-test runs one release's double in this Python"),
    ],
)
def test_bad_self_test_options(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv += ["--results", str(tmp_path / "r"), "--artifacts", str(tmp_path / "a"), "--no-report"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def _options(tmp_path: Path, **extra: object) -> runmod.RunOptions:
    planned = cells.plan(["trt86"], models=["retinaface-mnet"], api_releases=[])
    base: dict[str, object] = {
        "run_id": "st",
        "releases": ("trt86",),
        "cells": tuple(planned),
        "mode": "docker",
        "mode_reason": "self-test",
        "results_dir": tmp_path / "results",
        "artifacts_dir": tmp_path / "artifacts",
        "resume": False,
        "jobs": 1,
        "gpus": (),
        "cell_timeout_s": 60.0,
        "container_timeout_s": 600.0,
        "images": {"trt86": "sha256:abc"},
        "boms": {"trt86": {"tensorrt": "none"}},
        "models": ("retinaface-mnet",),
        "keywords": (),
        "api_releases": (),
    }
    base.update(extra)
    return runmod.RunOptions(**base)  # type: ignore[arg-type]


def test_container_job_gets_the_activation_and_synthetic_records_the_marker(tmp_path: Path) -> None:
    data = selftest.load()
    env = data.environment(
        tensorrt="8.6.1",
        repo_root=runmod.IN_IMAGE_REPO,
        base_path="/usr/bin",
        base_pythonpath="",
        faults=["retinaface-int8-scales"],
    )
    options = _options(tmp_path, self_test={"trt86": env}, double={"trt86": "8.6.1"})
    runner = runmod.Runner(options, progress=_Quiet())  # type: ignore[arg-type]
    for phase in (1, 2):
        job = runner._job("trt86", phase, attempt=1, gpu=None)
        assert job.environment["PYTHONPATH"] == "/opt/trt-matrix/tests/double"
        assert job.environment["PATH"].startswith("/opt/trt-matrix/tests/double/bin:")
        assert job.environment[data.faults_variable] == "retinaface-int8-scales"
        assert {m.target: m.read_only for m in job.mounts}[runmod.IN_IMAGE_REPO] is True
        assert job.gpu is None
    cell = next(c for c in options.cells if c.phase == 1)
    runner.write_synthetic("trt86", 1, cell, "crash", "died", show=False)
    (record,) = [
        json.loads(line) for line in (tmp_path / "results").glob("*.jsonl").__next__().read_text().splitlines()
    ]
    assert record["bom"][selftest.MARKER] == "8.6.1"
    plain = runmod.Runner(_options(tmp_path / "plain"), progress=_Quiet())  # type: ignore[arg-type]
    plain_env = plain._job("trt86", 1, attempt=0, gpu=None).environment
    assert not {"PYTHONPATH", "PATH", data.faults_variable, *data.env} & set(plain_env)


class _Quiet:
    def cell(self, record: object) -> None: ...
    def job(self, *args: object) -> None: ...


def _with_plugin_failure(records: list[CellResult]) -> list[CellResult]:
    target = "int8:trt86>trt86:retinaface-mnet:int8:decode-plugin"
    failed = {"status": "fail", "reason": "build failed", "log": (LogLine("error", PLUGIN_LINE),)}
    return [dataclasses.replace(r, **failed) if r.cell_id == target else r for r in records]  # type: ignore[arg-type]


def test_self_test_report_says_so_everywhere_and_explains_the_scenario(tmp_path: Path) -> None:
    folder = write_run(_with_plugin_failure(as_double(three_release_run())), tmp_path / "run")
    out = tmp_path / "report"
    assert main(["report", str(folder), "--out", str(out)]) == 0
    html = (out / "index.html").read_text(encoding="utf-8")
    body = html.split("<body>", 1)[1].lstrip()
    assert body.startswith('<p class="selftest-banner"') and selftest.BANNER in body[:300]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert selftest.BANNER in readme.splitlines()[1]
    first_key = next(iter(json.loads((out / "results.json").read_text(encoding="utf-8"))))
    assert first_key == "self_test"
    for junit in out.glob("junit-*.xml"):
        suite = ET.parse(junit).getroot().find("testsuite")
        assert suite is not None and "self-test of the harness, not TensorRT" in suite.get("name", "")
    svgs = list(out.glob("grid-*.svg"))
    assert svgs
    for svg in svgs:
        assert selftest.BANNER.upper() in svg.read_text(encoding="utf-8")
    # the failing cell: its log line, the known issue, the citation and the fix, in both pages
    scenario = selftest.load().scenario("retinaface-int8-scales")
    for text in (html, readme):
        marker = (
            'id="cell-int8_trt86_trt86_retinaface-mnet_int8_decode-plugin"'
            if text is html
            else ("`int8:trt86>trt86:retinaface-mnet:int8:decode-plugin`")
        )
        section = text.split(marker)[-1][:4000]
        assert "Assertion scales.size() == 1 failed" in section
        assert "retinaface-int8-decode-plugin-scales" in section
        assert "https://github.com/wang-xinyu/tensorrtx/issues/1456" in section
        assert "OBEY" in section and "retinaface-int8-scales" in section
    assert scenario.fix.split(" (")[0].split(",")[0] in html


def test_real_report_has_no_banner(tmp_path: Path) -> None:
    folder = write_run(three_release_run(), tmp_path / "run")
    assert main(["report", str(folder), "--out", str(tmp_path / "report")]) == 0
    assert "self-test" not in (tmp_path / "report" / "index.html").read_text(encoding="utf-8").lower()
    assert "self_test" not in json.loads((tmp_path / "report" / "results.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("command", ["report", "merge", "diff"])
def test_report_merge_diff_refuse_a_mix(command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = write_run(three_release_run(), tmp_path / "real")
    double = write_run(as_double(three_release_run()), tmp_path / "double")
    argv = [command, str(real), str(double)] + ([] if command == "diff" else ["--out", str(tmp_path / "out")])
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert f"trt-matrix {command} refuses to mix" in err[0] and "TensorRT double" in err[0]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
