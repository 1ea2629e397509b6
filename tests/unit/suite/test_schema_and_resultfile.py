"""Records: the schema accepts what the writer writes, and a killed run loses nothing finished."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from matrix.run import results
from matrix.suite import resultfile
from matrix.suite.schema import CellResult, LogLine, dumps, validation_errors
from tests.unit.records import cell_record


def make(
    cell_id: str = "serialize:trt86>trt86:retinaface-mnet:fp32:onnx", status: str = "pass", reason: str = ""
) -> CellResult:
    log = (LogLine("error", "x <b>"),)
    return cell_record(cell_id, status, reason=reason, api_path=("build_serialized_network",), log=log)


def test_a_written_record_validates_against_the_json_schema() -> None:
    record = make().to_json()
    assert validation_errors(record) == []
    assert results.schema_errors(record) == []
    assert CellResult.from_json(record) == make()


def test_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown status"):
        make(status="ok")


def test_not_run_needs_a_reason_in_both_validators() -> None:
    record = make(status="skip").to_json()
    assert "needs a reason" in " ".join(validation_errors(record))
    assert results.schema_errors(record)


def test_writer_refuses_an_invalid_record(tmp_path: Path) -> None:
    writer = resultfile.ResultWriter(tmp_path / "a.jsonl")
    with pytest.raises(ValueError, match="refusing"):
        writer.write(make(status="skip"))


def test_torn_last_line_is_ignored_and_repaired(tmp_path: Path) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    writer = resultfile.ResultWriter(path)
    writer.write(make())
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"schema": "trt-matrix.cell/1", "cell_')  # killed mid-write
    assert [r.cell_id for r in resultfile.read(path)] == [make().cell_id]
    resumed = resultfile.ResultWriter(path)
    resumed.write(make("serialize:trt86>trt86:yolov5s:fp32:onnx"))
    assert len(resultfile.read(path)) == 2
    assert resultfile.done_ids(path) == {make().cell_id, "serialize:trt86>trt86:yolov5s:fp32:onnx"}


def test_a_whole_record_missing_only_its_newline_counts_and_is_kept_on_reopen(tmp_path: Path) -> None:
    """read() counts it (it is whole); reopening the file gives it its newline instead of cutting it, so a
    resumed run neither loses nor repeats that cell."""
    path = tmp_path / "trt86.p1.jsonl"
    resultfile.ResultWriter(path).write(make())
    whole = make("serialize:trt86>trt86:yolov5s:fp32:onnx")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(dumps(whole))  # killed between the record and its newline
    assert resultfile.done_ids(path) == {make().cell_id, whole.cell_id}
    resultfile.ResultWriter(path).write(make("serialize:trt86>trt86:scrfd-500m:fp32:onnx"))
    assert [r.model for r in resultfile.read(path)] == ["retinaface-mnet", "yolov5s", "scrfd-500m"]


def test_a_torn_tail_is_passed_to_warn_and_a_damaged_one_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    resultfile.ResultWriter(path).write(make())
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('{"schema": "trt-matrix.cell/2", "cell_')
    said: list[str] = []
    assert len(resultfile.read(path, warn=said.append)) == 1
    assert len(said) == 1 and said[0].startswith(f"{path}:2: the last line is torn (not a JSON record")
    path.write_bytes(path.read_bytes().rsplit(b"\n", 1)[0] + b"\nnot a record")  # no newline, yet no record start
    with pytest.raises(resultfile.ResultFileError, match=r"trt86.p1.jsonl:2: not a JSON record .*not a trt-matrix"):
        resultfile.read(path, warn=said.append)


def test_a_corrupt_middle_line_is_an_error_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(resultfile.__name__ + "\n" + "{}\n", encoding="utf-8")
    with pytest.raises(resultfile.ResultFileError, match=r"x.jsonl:1"):
        resultfile.read(path)


def test_merge_collapses_duplicates_and_reports_conflicts() -> None:
    a = make()
    same = a.replace(run_id="r2", duration_s=3.0)
    other = make(status="fail", reason="Version tag does not match")
    merged = results.merge([a, same, make("serialize:trt86>trt86:yolov5s:fp32:onnx")])
    assert len(merged.results) == 2 and merged.duplicates == 1 and not merged.conflicts
    clash = results.merge([a, other])
    assert not clash.results
    assert len(clash.conflicts) == 1 and "pass" in clash.conflicts[0].describe()
    again = results.merge(list(merged.results) + list(merged.results))
    assert [r.cell_id for r in again.results] == [r.cell_id for r in merged.results]


def test_bytes_that_are_not_utf8_are_an_error_naming_file_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    resultfile.ResultWriter(path).write(make())
    with open(path, "ab") as handle:
        handle.write(b'{"schema": "\xff\xfe"}\n')
    with pytest.raises(
        resultfile.ResultFileError, match=r"trt86.p1.jsonl:2: not UTF-8 text \(byte 0xff at column 13\)"
    ):
        resultfile.read(path)


def test_a_torn_tail_cut_inside_a_utf8_character_is_still_only_a_torn_tail(tmp_path: Path) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    resultfile.ResultWriter(path).write(make())
    with open(path, "ab") as handle:
        handle.write('{"reason": "é'.encode()[:-1])  # the kill fell between the two bytes of 'é'
    assert [r.cell_id for r in resultfile.read(path)] == [make().cell_id]


def test_a_folder_in_place_of_the_file_is_a_result_file_error(tmp_path: Path) -> None:
    (tmp_path / "trt86.p1.jsonl").mkdir()
    with pytest.raises(resultfile.ResultFileError, match="cannot be read"):
        resultfile.read(tmp_path / "trt86.p1.jsonl")


def _disk_fills_after(monkeypatch: pytest.MonkeyPatch, room: int, code: int = errno.ENOSPC) -> None:
    """os.write as on a file system with `room` bytes left: a short write, then the error."""
    real = os.write
    left = [room]

    def write(fd: int, data: bytes | memoryview) -> int:
        if left[0] <= 0:
            raise OSError(code, os.strerror(code))
        n = real(fd, bytes(data[: left[0]]))
        left[0] -= n
        return n

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_mid_record_leaves_only_whole_records_and_says_so_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    writer = resultfile.ResultWriter(path)
    writer.write(make("serialize:trt86>trt86:retinaface-mnet:fp32:onnx"))
    before = path.read_bytes()
    _disk_fills_after(monkeypatch, 100, code)  # the next record is cut after 100 bytes
    with pytest.raises(resultfile.ResultsFull) as caught:
        writer.write(make("serialize:trt86>trt86:scrfd-500m:fp32:onnx"))
    assert path.read_bytes() == before  # the half record is gone again: the next append starts clean
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert message.startswith("the results folder's file system is full (")
    assert message.endswith("free space, then trt-matrix run --resume")
    monkeypatch.undo()  # space freed: appending goes on, and every record reads back
    writer.write(make("serialize:trt86>trt86:scrfd-500m:fp32:onnx"))
    assert [r.model for r in resultfile.read(path)] == ["retinaface-mnet", "scrfd-500m"]


def test_another_write_error_is_not_called_a_full_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "trt86.p1.jsonl"
    _disk_fills_after(monkeypatch, 10, errno.EIO)
    with pytest.raises(OSError) as caught:
        resultfile.ResultWriter(path).write(make())
    assert not isinstance(caught.value, resultfile.ResultsFull) and caught.value.errno == errno.EIO
    assert path.read_bytes() == b""
