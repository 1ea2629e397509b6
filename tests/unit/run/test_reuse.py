"""run --reuse: keys, what is copied and what runs again (tier 0 runs: every cell recorded as not run)."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest

from matrix.errors import UserError
from matrix.run import reuse
from matrix.run import runner as runmod
from matrix.run.progress import PlainProgress
from matrix.suite import cells as cellmod
from matrix.suite import resultfile
from matrix.suite.schema import CellResult

RELEASES = ("trt86", "trt10", "trt11")


def inputs(**changes: object) -> reuse.KeyInputs:
    base = reuse.KeyInputs(
        code="code-1",
        host="host-1",
        environments={r: f"image sha256:{r}" for r in RELEASES},
        models={"retinaface-mnet": "m-1"},
        gpu="none",
        options={r: "{}" for r in (*RELEASES, cellmod.HOST)},
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def plan() -> tuple[cellmod.Cell, ...]:
    return tuple(
        cellmod.plan(list(RELEASES), models=["retinaface-mnet"], phases=(1, 2), keywords=["toolchain", "exchange"])
    )


def options(tmp: Path, run_id: str, key_inputs: reuse.KeyInputs, source: reuse.Source | None) -> runmod.RunOptions:
    return runmod.RunOptions(
        run_id=run_id,
        releases=RELEASES,
        cells=plan(),
        mode="host",
        mode_reason="a unit test",
        results_dir=tmp / "results" / run_id,
        artifacts_dir=tmp / "artifacts" / run_id,
        resume=False,
        jobs=1,
        gpus=(),
        cell_timeout_s=10.0,
        container_timeout_s=10.0,
        images={},
        boms={},
        models=("retinaface-mnet",),
        keywords=(),
        api_releases=(),
        key_inputs=key_inputs,
        reuse_source=source,
    )


def run(tmp: Path, run_id: str, key_inputs: reuse.KeyInputs, reuse_from: str | None = None) -> dict[str, CellResult]:
    source = reuse.open_source(reuse_from, tmp / "results", exclude=run_id) if reuse_from else None
    o = options(tmp, run_id, key_inputs, source)
    o.artifacts_dir.mkdir(parents=True, exist_ok=True)
    runmod.Runner(o, PlainProgress(io.StringIO())).execute()
    records = [r for p in sorted(o.results_dir.glob("*.jsonl")) for r in resultfile.read(p)]
    return {r.cell_id: r for r in records}


def executed(records: dict[str, CellResult]) -> set[str]:
    return {cid for cid, r in records.items() if r.reused_from is None}


def test_every_record_stores_its_key_and_an_unchanged_run_executes_nothing(tmp_path: Path) -> None:
    first = run(tmp_path, "one", inputs())
    assert first and all(len(r.input_key) == 64 for r in first.values())
    second = run(tmp_path, "two", inputs(), "latest")
    assert set(second) == set(first)
    assert executed(second) == set()
    for cid, r in second.items():
        assert r.run_id == "two"
        assert r.reused_from == {"run_id": "one", "finished_at": first[cid].finished_at}
        assert r.input_key == first[cid].input_key
    # a chain of reuses names the run that executed the cell
    third = run(tmp_path, "three", inputs(), str(tmp_path / "results" / "two"))
    assert all(r.reused_from and r.reused_from["run_id"] == "one" for r in third.values())


def test_a_crash_cell_is_run_again_never_reused(tmp_path: Path) -> None:
    first = run(tmp_path, "one", inputs())
    victim = next(r for r in first.values() if r.phase == 1)
    path = tmp_path / "results" / "one" / resultfile.result_file_name(victim.consumer, 1)
    for status in ("crash", "timeout", "infra_error"):
        resultfile.ResultWriter(path).write(victim.replace(status=status, reason="died", signal="SIGSEGV"))
        again = run(tmp_path, f"after-{status}", inputs(), "one")
        assert executed(again) == {victim.cell_id}, status


def test_a_changed_suite_file_reruns_every_cell(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    for rel in (
        "matrix/suite/plugin.py",
        "tests/compat/test_x.py",
        "matrix/models/nets.py",
        "matrix/expectations.toml",
    ):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("# v1\n")
    code1 = reuse.code_digest(repo, None)
    (repo / "matrix/suite/__pycache__").mkdir()
    (repo / "matrix/suite/__pycache__/plugin.cpython-311.pyc").write_bytes(b"x")
    assert reuse.code_digest(repo, None) == code1  # bytecode is not code
    (repo / "matrix/suite/plugin.py").write_text("# v2\n")
    code2 = reuse.code_digest(repo, None)
    assert code2 != code1
    first = run(tmp_path, "one", inputs(code=code1))
    second = run(tmp_path, "two", inputs(code=code2), "one")
    assert executed(second) == set(first)


def test_a_changed_image_reruns_its_phase1_cells_its_row_and_its_column(tmp_path: Path) -> None:
    (tmp_path / "artifacts" / "one" / "trt10").mkdir(parents=True)
    (tmp_path / "artifacts" / "one" / "trt10" / "plan.bin").write_bytes(b"plan")
    first = run(tmp_path, "one", inputs())
    changed = inputs(environments={**inputs().environments, "trt86": "image sha256:new"})
    second = run(tmp_path, "two", changed, "one")
    expected = {
        cid
        for cid, r in first.items()
        if (r.phase == 1 and r.consumer == "trt86") or (r.phase == 2 and "trt86" in (r.producer, r.consumer))
    }
    assert expected and executed(second) == expected
    assert len(second) - len(expected) > 0  # the rest was copied
    # the unchanged producer's artifacts were carried over, for phase 2 to load
    assert (tmp_path / "artifacts" / "two" / "trt10" / "plan.bin").read_bytes() == b"plan"


def test_a_producer_whose_artifacts_changed_reruns_its_column_only(tmp_path: Path) -> None:
    folder = tmp_path / "artifacts" / "one" / "trt10"
    folder.mkdir(parents=True)
    (folder / "plan.bin").write_bytes(b"plan")
    first = run(tmp_path, "one", inputs())
    (folder / "plan.bin").write_bytes(b"edited")  # the old run's artifacts are no longer what its phase 2 loaded
    second = run(tmp_path, "two", inputs(), "one")
    trt10_p1 = {cid for cid, r in first.items() if r.phase == 1 and r.consumer == "trt10"}
    column = {cid for cid, r in first.items() if r.phase == 2 and r.producer == "trt10"}
    assert executed(second) == trt10_p1 | column


def test_missing_or_unreadable_run_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="not a results folder"):
        reuse.open_source(str(tmp_path / "nope"), tmp_path)
    with pytest.raises(UserError, match="no earlier run"):
        reuse.open_source("latest", tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "trt86.p1.jsonl").write_text("not json\n")
    with pytest.raises(UserError, match="cannot read"):
        reuse.open_source(str(bad), tmp_path)


def test_models_are_carried_only_when_their_export_key_matches(tmp_path: Path) -> None:
    old = tmp_path / "a" / "old" / "models" / "yolov5s"
    old.mkdir(parents=True)
    (old / "meta.json").write_text(json.dumps({"weights": "synthetic"}))
    source = reuse.Source(
        run_id="old",
        results_dir=tmp_path,
        records={},
        artifacts_dir=tmp_path / "a" / "old",
        producers={},
        models_export="k1",
    )
    new = tmp_path / "a" / "new"
    assert reuse.carry_models(source, new, {"yolov5s"}, "k2") == []
    assert reuse.carry_models(source, new, {"yolov5s"}, "k1") == ["yolov5s"]
    assert (new / "models" / "yolov5s" / "meta.json").is_file()


def test_old_records_without_keys_still_load_and_are_never_reused(tmp_path: Path) -> None:
    first = run(tmp_path, "one", inputs())
    folder = tmp_path / "results" / "one"
    for path in folder.glob("*.jsonl"):  # as a run made before keys existed wrote them
        lines = [json.loads(x) for x in path.read_text().splitlines()]
        for x in lines:
            x["schema"] = "trt-matrix.cell/1"
            del x["input_key"], x["reused_from"]
        path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    from matrix.run.results import load

    assert len(load([folder])) == len(first)
    second = run(tmp_path, "two", inputs(), "one")
    assert executed(second) == set(first)


def test_the_report_marks_and_counts_reused_cells(tmp_path: Path) -> None:
    from matrix.commands.report import render

    run(tmp_path, "one", inputs())
    second = run(tmp_path, "two", inputs(), "one")
    out = tmp_path / "report"
    render([tmp_path / "results" / "two"], out)
    readme = (out / "README.md").read_text()
    assert f"♻ {len(second)} of {len(second)} cells reused" in readme and "from one" in readme
    assert "reused from one" in (out / "index.html").read_text()
    summary = json.loads((out / "results.json").read_text())["summary"]
    assert summary["reused"]["cells"] == len(second)
    assert summary["reused"]["from"][0]["run_id"] == "one"


def test_plan_reuse_lists_what_would_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from matrix import cli

    common = ["--host-only", "--only", "trt86,trt10", "-k", "exchange", "--results", str(tmp_path / "r")]
    common += ["--artifacts", str(tmp_path / "a")]
    assert cli.main(["run", *common, "--run-id", "one", "--no-report"]) == 0
    capsys.readouterr()
    assert cli.main(["plan", "--reuse", "latest", *common[:-4], "--results", str(tmp_path / "r")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("0 of 4 cells would run; 4 would be reused")
    assert "reuse one    exchange:trt10>trt86:-:-:artifacts" in text
    wider = ["--host-only", "--only", "trt86,trt10,trt11", "-k", "exchange", "--results", str(tmp_path / "r")]
    assert cli.main(["plan", "--reuse", "one", *wider]) == 0
    text = capsys.readouterr().out
    assert text.startswith("5 of 9 cells would run")  # the new release's row and column
    assert "run          exchange:trt11>trt86:-:-:artifacts" in text
    assert not (tmp_path / "r").joinpath("two").exists() and len(list((tmp_path / "r").iterdir())) == 1
    assert cli.main(["plan", "--reuse", str(tmp_path / "missing"), *wider]) == 2
