"""Result files: JSON lines, one record per cell, appended and flushed as each cell ends.

Contract: `ResultWriter.write()` makes the record durable before it returns (flush + fsync), so a
killed run keeps every finished cell. `read()` returns the records of a file and tolerates the one
torn line a kill can leave at the end; any other bad line is an error naming file and line.
`done_ids()` is what `--resume` skips. A write that fails (a full file system above all) leaves the
file as it was: the part of the line that reached the disk is cut off again, so the next read and the
next append see whole records only; a full file system (ENOSPC, EDQUOT) is a `ResultsFull` whose text
is the one line a user gets. Runs on Python 3.8, standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
from pathlib import Path
from typing import Union

from matrix.suite.schema import CellResult, dumps, validation_errors

PathLike = Union[str, "os.PathLike[str]"]


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
        # A run killed mid-write leaves a line without its newline: cut it, so that appends start clean.
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "rb+") as handle:
            data = handle.read()
            if data.endswith(b"\n"):
                return
            cut = data.rfind(b"\n") + 1
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


def read(path: PathLike) -> list[CellResult]:
    """Records of one file, in file order. A torn last line (no newline) is ignored: it is the record
    that was being written when the run was killed, and `--resume` runs that cell again. Anything else
    that is not a record (bad bytes, bad JSON, a record the schema refuses) is a `ResultFileError`
    naming the file and line."""
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
        if torn_tail and number == len(lines):
            break  # the record being written when the run was killed: it never counted
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ResultFileError(
                f"{path}:{number}: not UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
                "a results file holds one JSON record per line"
            ) from None
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ResultFileError(f"{path}:{number}: not a JSON record ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ResultFileError(f"{path}:{number}: a record must be a JSON object")
        problems = validation_errors(record)
        if problems:
            raise ResultFileError("{}:{}: {}".format(path, number, "; ".join(problems)))
        try:
            out.append(CellResult.from_json(record))
        except (TypeError, ValueError, KeyError) as exc:
            raise ResultFileError(f"{path}:{number}: not a cell record ({exc})") from None
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
