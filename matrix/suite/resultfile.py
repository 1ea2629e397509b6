"""Result files: JSON lines, one record per cell, appended and flushed as each cell ends; the one reader
of them, in the images and on the host.

Contract: `ResultWriter.write()` makes the record durable before it returns (flush + fsync), so a
killed run keeps every finished cell. `read(path, validate, warn)` returns the records of a file in file
order under the torn-line rule: a last line without its newline that starts a record (`{`, then text cut
anywhere, even inside a UTF-8 character) is what a run killed mid-write leaves; it is passed over, with a
message to `warn` where one is given, and `--resume` runs that cell again. Any other bad line (a torn one in
the middle, bytes that are not UTF-8, not JSON, a record `validate` refuses) is a `ResultFileError` naming
file and line. `validate` is the schema check (the stdlib one of schema.py by default; the host passes
jsonschema's). `done_ids()` is what `--resume` skips. Reopening a file (`ResultWriter`) cuts a torn last
line, or completes it with its newline where it holds a whole record, so appends start clean and the
records `read` counted stay. A write that fails (a full file system above all) leaves the file as it
was; a full file system (ENOSPC, EDQUOT) is a `ResultsFull` whose text is the one line a user gets. Runs
on Python 3.8, standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Union

from matrix.suite.schema import CellResult, dumps, validation_errors

PathLike = Union[str, "os.PathLike[str]"]
Validate = Callable[[Dict[str, Any]], List[str]]
Warn = Callable[[str], None]


class ResultFileError(Exception):
    """A results file that cannot be read as records (named, with the line)."""


FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# The suite's exit status when it stops because the results (or artifacts) file system is full, and the
# prefix of the line it prints then: the runner stops the run on either instead of recording the cell.
FULL_EXIT_CODE = 28
FULL_PREFIX = "trt-matrix: file system full: "


class ResultsFull(Exception):
    """The file system a results file is on is full (or over quota): the run must stop."""

    def __init__(self, path: PathLike, error: OSError) -> None:
        self.path = Path(path)
        self.error = error
        super().__init__(full_message(path, error))


def is_full(error: BaseException) -> bool:
    """Whether an OSError says the file system is full or over quota."""
    return isinstance(error, OSError) and error.errno in FULL_ERRNOS


def full_message(path: PathLike, error: OSError, folder: str = "results") -> str:
    """The one line a user gets when writing `path` found its file system full."""
    what = error.strerror or os.strerror(error.errno or errno.ENOSPC)
    then = "free space, then trt-matrix run --resume"
    return f"the {folder} folder's file system is full ({what} writing {path}): {then}"


class ResultWriter:
    """Appends records to one JSONL file; safe to reopen (resume) and to share by phase."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._repair_tail()

    def _repair_tail(self) -> None:
        # A run killed mid-write leaves a line without its newline: cut it, so that appends start clean;
        # a whole record that only lacks the newline (read() counts it) gets the newline instead.
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as handle:
            data = handle.read()
            if data.endswith(b"\n"):
                return
            cut = data.rfind(b"\n") + 1
            if isinstance(parse_line(data[cut:]), CellResult):
                handle.write(b"\n")
            else:
                handle.truncate(cut)

    def write(self, result: CellResult) -> None:
        problems = validation_errors(result.to_json())
        if problems:
            raise ValueError(
                "refusing to write an invalid record for {}: {}".format(result.cell_id, "; ".join(problems))
            )
        data = (dumps(result) + "\n").encode("utf-8")
        fd = os.open(str(self.path), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            size = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:  # a short write (the disk filled mid-line) is followed by its error
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            except OSError as exc:
                _cut(fd, size)
                if is_full(exc):
                    raise ResultsFull(self.path, exc) from None
                raise
        finally:
            os.close(fd)


def _cut(fd: int, size: int) -> None:
    """Drop the part of a failed append that reached the file (cutting needs no free space)."""
    with contextlib.suppress(OSError):  # if not, the reader still takes a torn last line for what it is
        os.ftruncate(fd, size)


def parse_line(raw: bytes, validate: Validate = validation_errors) -> CellResult | tuple[str, bool]:
    """The record on one line, or (what is wrong, whether a write cut short explains it): a torn write
    leaves the start of a record, `{` and then text cut anywhere; a line that does not start so was
    damaged, not torn."""
    starts = raw.startswith(b"{")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        cut = exc.end == len(raw) and "unexpected end" in exc.reason
        return f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})", starts and cut
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not a JSON record ({exc.msg}: column {exc.colno})", starts
    except RecursionError:
        return "not a JSON record (nested too deeply)", False
    if not isinstance(record, dict):
        return f"a record must be a JSON object, this is a {type(record).__name__}", False
    problems = validate(record)
    cell = record.get("cell_id")
    named = f"record {cell!r}: " if isinstance(cell, str) else ""
    if problems:
        return named + problems[0], False
    try:
        return CellResult.from_json(record)
    except (TypeError, ValueError, KeyError) as exc:
        return f"{named}not a cell record ({exc})", False


def read(path: PathLike, validate: Validate = validation_errors, warn: Warn | None = None) -> list[CellResult]:
    """Records of one file, in file order, under the torn-line rule of the module contract; a missing
    file has none."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ResultFileError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    lines = data.split(b"\n")
    torn_tail = not data.endswith(b"\n")
    out: list[CellResult] = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        found = parse_line(raw, validate)
        if isinstance(found, CellResult):
            out.append(found)
            continue
        problem, torn = found
        if torn_tail and number == len(lines) and torn:
            if warn is not None:
                warn(
                    f"{path}:{number}: the last line is torn ({problem}), as a run killed while writing leaves it; "
                    "that cell is left out, and 'trt-matrix run --resume' runs it again"
                )
            continue
        hint = (
            "only the last line may be torn (a killed run); this file was damaged or edited: restore it, "
            "or delete the line and run 'trt-matrix run --resume'"
            if torn
            else "the file is not a trt-matrix results file, or it was edited by hand"
        )
        raise ResultFileError(f"{path}:{number}: {problem}; {hint}")
    return out


def done_ids(path: PathLike) -> set[str]:
    """Cell ids already recorded in a file (what `--resume` skips)."""
    return {r.cell_id for r in read(path)}


def latest_by_cell(results: list[CellResult]) -> dict[str, CellResult]:
    """The last record of each cell (a resumed cell that was re-run replaces its older record)."""
    out: dict[str, CellResult] = {}
    for result in results:
        out[result.cell_id] = result
    return out


def result_file_name(release: str, phase: int) -> str:
    """`trt86.p1.jsonl`: one file per image and phase (`host.p0.jsonl` for the host's tier 0)."""
    return f"{release}.p{phase}.jsonl"
