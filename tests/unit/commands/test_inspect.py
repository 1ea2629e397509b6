"""`trt-matrix inspect`: human and JSON output, every file reported, bad input exits 2 in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from matrix import catalogue
from matrix.cli import main
from tests.unit.suite import synthetic_plans as syn

FIXTURES = syn.fixture_dir()
KEYS = {"file", "kind", "magic", "builder_version", "serialization_tag", "sections", "platform", "verdicts"}


def _plan(tmp_path: Path, name: str = "good.engine") -> Path:
    path = tmp_path / name
    version = (10, 15, 1, 29)
    path.write_bytes(syn.ftrt(version, [("ENGN", syn.ptrt_compact(version, 240)), ("WGHT", b"\1" * 64)]))
    return path


def test_json_has_one_object_per_file_with_the_documented_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lfs = tmp_path / "lfs.engine"
    lfs.write_bytes(syn.lfs_pointer())
    wrapped = tmp_path / "yolo.engine"
    wrapped.write_bytes(syn.wrapped({"task": "detect"}, _plan(tmp_path).read_bytes()))
    other = tmp_path / "model.onnx"
    other.write_bytes(b"\x08\x07\x12\x07pytorch" + b"\0" * 32)
    assert main(["inspect", "--json", str(_plan(tmp_path)), str(lfs), str(wrapped), str(other)]) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)  # every file reported, the two that are no plan too
    errors = captured.err.strip().splitlines()
    assert errors == [
        f"trt-matrix: error: {lfs}: a Git LFS pointer to a {out[1]['lfs']['size']}-byte file, not the plan: "
        "run `git lfs pull` and inspect again",
        f"trt-matrix: error: {other}: not a TensorRT plan: {out[3]['looks_like']}; give the file TensorRT "
        "serialized (the bytes of build_serialized_network, or trtexec --saveEngine)",
    ]
    assert [o["kind"] for o in out] == ["plan", "lfs-pointer", "wrapped-plan", "not-a-plan"]
    for obj in out:
        assert set(obj) >= KEYS
        assert set(obj["verdicts"]) == set(catalogue.load().ids)
    plan = out[0]
    assert (plan["magic"], plan["builder_version"], plan["serialization_tag"]) == ("ftrt", "10.15.1.29", 240)
    assert [s["name"] for s in plan["sections"]] == ["ENGN", "WGHT"] and plan["platform"] == "x86_64"
    assert plan["verdicts"]["trt11"]["status"] == "loads-if-version-compatible"
    assert plan["verdicts"]["trt86"]["reason"].startswith("built by 10.15.1.29, this runtime is 8.6.1")
    assert {v["status"] for v in out[1]["verdicts"].values()} == {"refused"}


def test_human_output_names_version_tag_sections_and_verdicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inspect", str(_plan(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "builder version     10.15.1.29" in out
    assert "serialization tag   240 (compact-20 header)" in out
    assert "ENGN at 0x50" in out and "WGHT at" in out
    assert "trt84" in out and "refused: built by 10.15.1.29, this runtime is 8.4.1" in out


@pytest.mark.skipif(FIXTURES is None, reason="no ../shared/fixtures/engines here")
def test_every_fixture_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert FIXTURES is not None
    rows = syn.expected_rows()
    assert main(["inspect", "--json", *(str(FIXTURES / r["file"]) for r in rows)]) == 0
    out = json.loads(capsys.readouterr().out)
    for row, obj in zip(rows, out, strict=True):
        assert obj["builder_version"] == row["builder_version"]
        assert obj["serialization_tag"] == int(row["serialization_tag"])
        assert obj["magic"] == row["magic"]


def _bad(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "absent.engine"
    if kind == "directory":
        return tmp_path
    path = tmp_path / f"{kind}.plan"
    path.write_bytes(b"" if kind == "empty" else _plan(tmp_path).read_bytes()[:100])
    return path


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("missing", "absent.engine: no such file"),
        ("directory", "is a directory"),
        ("empty", "empty file (0 bytes)"),
        ("truncated", "truncated ftrt plan"),
    ],
)
def test_bad_input_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, message: str
) -> None:
    assert main(["inspect", str(_bad(tmp_path, kind))]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("trt-matrix: error: ") and message in lines[0]
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_good_files_are_reported_even_when_others_are_bad(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _plan(tmp_path)
    assert main(["inspect", "--json", str(tmp_path / "nope"), str(good), str(tmp_path)]) == 2
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert [o.get("error") is None for o in out] == [False, True, False]
    assert out[1]["builder_version"] == "10.15.1.29"
    assert len(captured.err.strip().splitlines()) == 2
