"""The results reader: the torn-line rule, and fuzzing that finds nothing but its documented errors.

Documented: `read_file` returns records, passes at most one warning (a torn last line) to `warn`,
or raises `UserError` naming `file:line`. Nothing else may escape, whatever the bytes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from matrix.errors import UserError
from matrix.run import results
from matrix.suite.resultfile import ResultWriter
from tests.unit.fuzzing import FUZZ, mutated
from tests.unit.report.sample_runs import three_release_run, write_run

RECORDS = three_release_run()
LINES = [json.dumps(r.to_json(), sort_keys=True, separators=(",", ":")) for r in RECORDS[:40]]
GOOD = ("\n".join(LINES[:2]) + "\n").encode()
BASE = json.loads(LINES[1])


def _read(path: Path) -> tuple[list[str], list[str]]:
    warnings: list[str] = []
    return [r.cell_id for r in results.read_file(path, warnings.append)], warnings


def test_a_torn_last_line_is_a_warning_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    path.write_bytes(GOOD + LINES[2].encode()[:50])
    cells, warnings = _read(path)
    assert cells == [r.cell_id for r in RECORDS[:2]]
    assert len(warnings) == 1
    assert f"{path}:3: the last line is torn" in warnings[0]
    assert "--resume" in warnings[0]


def test_the_default_warning_goes_to_stderr_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    path.write_bytes(GOOD + b'{"api_path":["a')
    assert len(results.load([tmp_path])) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"trt-matrix: warning: {path}:3: the last line is torn")


def test_a_torn_middle_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    path.write_bytes(LINES[0].encode() + b"\n" + LINES[1].encode()[:70] + b"\n" + LINES[2].encode() + b"\n")
    with pytest.raises(UserError, match=rf"{path}:2: not a JSON record .*only the last line may be torn"):
        _read(path)


def test_resume_redoes_the_torn_cell(tmp_path: Path) -> None:
    """The writer cuts the torn tail before it appends, so the re-run record follows whole records."""
    path = tmp_path / "trt86.p1.jsonl"
    path.write_bytes(GOOD + LINES[2].encode()[:50])
    ResultWriter(path).write(RECORDS[2])
    assert _read(path) == ([r.cell_id for r in RECORDS[:3]], [])


def test_a_log_entry_that_is_a_string_is_named(tmp_path: Path) -> None:
    """Found on main: `report` died with `TypeError: string indices must be integers`."""
    record = dict(BASE, log=["x"])
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"{path}:1: record '.*': log/0: 'x' is not of type 'object'"):
        _read(path)


def test_truncation_at_every_byte_of_a_real_file(tmp_path: Path) -> None:
    """Every prefix of a real file: the whole lines are read, a torn tail is one warning, nothing raises."""
    path = tmp_path / "t.jsonl"
    for cut in range(len(GOOD) + 1):
        path.write_bytes(GOOD[:cut])
        cells, warnings = _read(path)
        whole = GOOD[:cut].count(b"\n")
        tail = GOOD[:cut].rsplit(b"\n", 1)[-1]
        complete = tail.endswith(b"}") and tail == GOOD.split(b"\n")[whole]
        assert len(cells) == whole + (1 if complete else 0), cut
        assert len(warnings) == (1 if tail and not complete else 0), cut


@FUZZ
@given(record=mutated(BASE), where=st.sampled_from(["first", "middle", "last-torn"]))
def test_fuzzed_records_yield_records_or_the_documented_error(record: object, where: str, tmp_path: Path) -> None:
    line = json.dumps(record).encode()
    lines = [LINES[0].encode(), line, LINES[2].encode()] if where == "middle" else [line]
    data = b"\n".join(lines) + (b"" if where == "last-torn" else b"\n")
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    try:
        _cells, warnings = _read(path)
    except UserError as exc:
        message = str(exc)
        assert message.startswith(f"{path}:") and "\n" not in message
        return
    assert len(warnings) <= 1


@FUZZ
@given(data=st.binary(max_size=600), seed=st.integers(0, len(GOOD)))
def test_fuzzed_bytes_yield_records_or_the_documented_error(data: bytes, seed: int, tmp_path: Path) -> None:
    """Random bytes alone, and spliced into a real file at any offset (wrong encodings, NULs, torn lines)."""
    path = tmp_path / "b.jsonl"
    for content in (data, GOOD[:seed] + data + GOOD[seed:]):
        path.write_bytes(content)
        try:
            _read(path)
        except UserError as exc:
            assert str(exc).startswith(f"{path}:") and "\n" not in str(exc)


def test_fixture_folder_is_what_run_writes(tmp_path: Path) -> None:
    folder = write_run(RECORDS[:5], tmp_path / "run")
    assert [r.cell_id for r in results.load([folder])] == [r.cell_id for r in RECORDS[:5]]


def test_resuming_over_a_damaged_results_file_is_one_clear_error(tmp_path: Path) -> None:
    """`run --resume` reads what each results file already holds; damage there is a UserError (exit 2)."""
    from matrix.errors import UserError
    from matrix.run import runner

    path = tmp_path / "trt86.p1.jsonl"
    path.write_bytes(b"\xff\xfe not a record\n")
    with pytest.raises(UserError, match=r"trt86.p1.jsonl:1: not UTF-8 text.*cannot resume over a damaged results file"):
        runner._done_ids(path)
