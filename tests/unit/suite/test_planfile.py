"""Plan-file header reading: the real fixture plans, synthetic headers, and fuzzing.

Fixture plans come from ../shared/fixtures/engines (EXPECTED.tsv says what each is); those tests skip,
saying so, where the folder is absent. The fuzz tests run TRT_MATRIX_FUZZ_EXAMPLES examples each
(default 300, each feeding the reader ~10 inputs; set it to 20000 for a long run): the reader must
raise nothing but `PlanFileError`. Runs on Python 3.8 too.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matrix.suite import planfile
from matrix.suite.planfile import PlanFileError, inspect_bytes, inspect_file
from tests.unit.suite import synthetic_plans as syn

FIXTURES = syn.fixture_dir()
ROWS = syn.expected_rows()
needs_fixtures = pytest.mark.skipif(
    FIXTURES is None, reason="no ../shared/fixtures/engines/EXPECTED.tsv here (set TRT_MATRIX_FIXTURES)"
)
FUZZ = settings(
    max_examples=int(os.environ.get("TRT_MATRIX_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


def _fixture_bytes() -> list[bytes]:
    if FIXTURES is None:
        return []
    return [(FIXTURES / row["file"]).read_bytes() for row in ROWS]


FIXTURE_DATA = _fixture_bytes()


@needs_fixtures
@pytest.mark.parametrize("row", ROWS, ids=[r["file"][:2] for r in ROWS])
def test_every_fixture_plan_reads_as_expected_tsv_says(row: dict[str, str]) -> None:
    assert FIXTURES is not None
    info = inspect_file(str(FIXTURES / row["file"]))
    assert info.kind == planfile.KIND_PLAN
    assert info.magic == row["magic"]
    assert info.serialization_tag == int(row["serialization_tag"])
    assert info.version_string == row["builder_version"]
    assert info.file_size == (FIXTURES / row["file"]).stat().st_size
    assert info.notes == ()
    if info.magic == "ftrt":
        # The platform id is in the ftrt header; EXPECTED.tsv's x86_64 rows are the 'rtrt' ones.
        assert info.platform == row["platform"]
        assert info.sections[0].name == "ENGN"
        assert info.plan is not None and info.plan.end_marker is True
    else:
        assert info.platform is None, "a ptrt header records no platform"
        assert info.sections == ()


@needs_fixtures
def test_the_fixtures_cover_every_header_layout() -> None:
    assert FIXTURES is not None
    layouts = {}
    for row in ROWS:
        info = inspect_file(str(FIXTURES / row["file"]))
        assert info.plan is not None
        layouts[row["file"][:2]] = info.plan.layout
    assert layouts == {
        "02": "legacy-24",
        "03": "legacy-24",
        "05": "legacy-24",
        "06": "safety-24",
        "13": "safety-24",
        "14": "safety-24",
        "17": "compact-20",
    }
    camera = inspect_file(str(FIXTURES / "17_camera__model.engine"))
    assert [(s.name, s.offset, s.size) for s in camera.sections] == [
        ("ENGN", 0x50, 0x1E887),
        ("WGHT", 0x1E8D8, 0x6420),
    ]
    assert camera.version_compatible == "unknown"
    assert inspect_file(str(FIXTURES / "05_tensorrt_darknet__det2.engine")).version_compatible == "no"


@needs_fixtures
@pytest.mark.parametrize("index", range(len(FIXTURE_DATA)), ids=[r["file"][:2] for r in ROWS])
def test_every_truncation_of_a_fixture_is_an_error(index: int) -> None:
    data = FIXTURE_DATA[index]
    lengths = [*range(0, 600), len(data) // 2, len(data) - 100, len(data) - 1]
    for length in lengths:
        with pytest.raises(PlanFileError):
            inspect_bytes(data[:length])


@given(
    version=st.tuples(*[st.integers(0, 255)] * 4),
    tag=st.integers(0, 2**32 - 1),
    filler=st.integers(0, 200),
)
@FUZZ
def test_synthetic_headers_read_back_what_was_written(
    version: tuple[int, int, int, int], tag: int, filler: int
) -> None:
    legacy = inspect_bytes(syn.ptrt_legacy(version, tag, filler))
    assert (legacy.builder_version, legacy.serialization_tag, legacy.plan and legacy.plan.layout) == (
        version,
        tag,
        "legacy-24",
    )
    eight = inspect_bytes(syn.ptrt_legacy(version, tag, filler, size_at=0x10))
    assert (eight.builder_version, eight.serialization_tag) == (version, tag)
    current = inspect_bytes(syn.ptrt_current(version, tag, filler=filler))
    assert (current.builder_version, current.serialization_tag, current.safety_tag) == (version, tag, 0)
    engn = syn.ptrt_compact(version, tag, filler) if filler % 2 else syn.ptrt_current(version, tag, filler=filler)
    container = inspect_bytes(syn.ftrt(version, [("ENGN", engn), ("WGHT", b"\1" * filler)]))
    assert container.kind == planfile.KIND_PLAN and container.magic == "ftrt"
    assert (container.builder_version, container.serialization_tag) == (version, tag)
    assert [s.name for s in container.sections] == ["ENGN", "WGHT"]
    assert container.notes == ()


def test_a_wrapped_plan_is_recognised_and_read() -> None:
    plan = syn.ftrt((10, 9, 0, 34), [("ENGN", syn.ptrt_current((10, 9, 0, 34), 239))])
    info = inspect_bytes(syn.wrapped({"author": "Ultralytics", "imgsz": [640, 640]}, plan))
    assert info.kind == planfile.KIND_WRAPPED
    assert info.version_string == "10.9.0.34" and info.serialization_tag == 239
    assert info.wrapper is not None and info.wrapper.plan_offset == 4 + info.wrapper.metadata_size
    assert json.loads(info.wrapper.metadata_json)["author"] == "Ultralytics"
    assert info.to_json()["wrapper"]["metadata"]["imgsz"] == [640, 640]


def test_a_git_lfs_pointer_is_named_as_such() -> None:
    info = inspect_bytes(syn.lfs_pointer("cd" * 32, 4242))
    assert info.kind == planfile.KIND_LFS
    assert info.lfs is not None and info.lfs.size == 4242 and info.lfs.oid == "sha256:" + "cd" * 32
    assert "git lfs pull" in info.looks_like


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"PK\x03\x04" + b"\0" * 40, "zip archive"),
        (b"<!DOCTYPE html><html>", "HTML page"),
        (b"\x08\x07\x12\x07pytorch", "unknown data"),
        (struct.pack("<I", 2) + b"{}" + b"nope", "no plan follows"),
    ],
)
def test_other_files_are_not_a_plan_and_say_what_they_look_like(data: bytes, looks_like: str) -> None:
    info = inspect_bytes(data)
    assert info.kind == planfile.KIND_NOT_A_PLAN
    assert looks_like in info.looks_like
    assert info.first_bytes == data[:16]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty file"),
        (b"ab", "too short"),
        (b"ptrt", "truncated"),
        (b"ftrt" + b"\0" * 40, "declares 0 sections"),
        (struct.pack("<I", 1000) + b'{"a": 1}', "truncated wrapped plan"),
        (syn.ftrt((10, 3, 0, 26), [("ENGN", b"xxxx" * 10)]), "does not start with 'ptrt'"),
    ],
)
def test_bad_input_raises_the_documented_error(data: bytes, message: str) -> None:
    with pytest.raises(PlanFileError, match=message):
        inspect_bytes(data)


def test_a_section_outside_the_file_is_an_error() -> None:
    plan = bytearray(syn.ftrt((10, 3, 0, 26), [("ENGN", syn.ptrt_current((10, 3, 0, 26), 239))]))
    plan[0x20 + 16 : 0x20 + 24] = struct.pack("<Q", 10**9)  # ENGN size
    with pytest.raises(PlanFileError, match="section ENGN claims bytes"):
        inspect_bytes(bytes(plan))


def test_odd_but_readable_plans_carry_notes() -> None:
    engn = syn.ptrt_current((10, 3, 0, 26), 239, marker=False)
    info = inspect_bytes(syn.ftrt((10, 4, 0, 1), [("ENGN", engn), ("LEAN", b"\0" * 16)], platform=b"zzzz"))
    assert any("does not end with 0x8B8D8B8F" in note for note in info.notes)
    assert any("ENGN plan says it was built by 10.3.0.26" in note for note in info.notes)
    assert info.platform is None and info.platform_note == "unknown platform id"
    assert "LEAN" in info.version_compatible_reason
    no_records = b"ptrt" + struct.pack("<IIIQ", 0, 213, 0, 40) + b"\xee" * 40
    unreadable = inspect_bytes(no_records)
    assert unreadable.builder_version is None and unreadable.serialization_tag == 213
    assert unreadable.version_compatible == "unknown"
    trailing = inspect_bytes(syn.ptrt_current((8, 4, 1, 5), 213) + b"junk")
    assert any("4 more bytes follow" in note for note in trailing.notes)


def test_missing_files_and_directories_are_errors(tmp_path: Path) -> None:
    with pytest.raises(PlanFileError, match="no such file"):
        inspect_file(str(tmp_path / "absent.engine"))
    with pytest.raises(PlanFileError, match="is a directory"):
        inspect_file(str(tmp_path))
    empty = tmp_path / "empty.engine"
    empty.write_bytes(b"")
    with pytest.raises(PlanFileError, match="empty file"):
        inspect_file(str(empty))


def test_results_are_frozen_and_serialise_to_json() -> None:
    info = inspect_bytes(syn.ptrt_current((8, 5, 1, 7), 232))
    with pytest.raises(AttributeError):
        info.kind = "x"  # type: ignore[misc]
    assert json.loads(json.dumps(info.to_json()))["builder_version"] == "8.5.1.7"


CHECKED = [0]  # inputs fed to the reader by the fuzz tests in this process (for the report)


def _check(data: bytes) -> None:
    """The fuzz contract: a PlanFile that serialises, or PlanFileError; nothing else."""
    CHECKED[0] += 1
    try:
        info = inspect_bytes(data)
    except PlanFileError as exc:
        assert str(exc)
        return
    assert info.kind in planfile.KINDS
    json.dumps(info.to_json())
    if info.is_plan:
        assert info.magic in ("ptrt", "ftrt")


SEEDS = [
    syn.ptrt_legacy((7, 1, 3, 0), 97),
    syn.ptrt_legacy((8, 0, 1, 6), 43, size_at=0x10),
    syn.ptrt_current((8, 2, 1, 8), 205),
    syn.ftrt((10, 3, 0, 26), [("ENGN", syn.ptrt_current((10, 3, 0, 26), 239))]),
    syn.ftrt((10, 15, 1, 29), [("ENGN", syn.ptrt_compact((10, 15, 1, 29), 240)), ("WGHT", b"\1" * 32)]),
    syn.wrapped({"task": "detect"}, syn.ftrt((10, 9, 0, 34), [("ENGN", syn.ptrt_current((10, 9, 0, 34), 239))])),
    syn.lfs_pointer(),
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    """A seed or fixture plan with up to 8 bytes overwritten and a run replaced, and 8 places to cut it."""
    pool = SEEDS + [d[:4096] for d in FIXTURE_DATA]
    data = bytearray(draw(st.sampled_from(pool)))
    window = min(len(data), 320)
    for position, value in draw(st.lists(st.tuples(st.integers(0, window - 1), st.integers(0, 255)), max_size=8)):
        data[position] = value
    if draw(st.booleans()):
        start = draw(st.integers(0, window - 1))
        data[start : start + 8] = draw(st.binary(min_size=0, max_size=8))
    cuts = draw(st.lists(st.integers(0, len(data)), min_size=8, max_size=8))
    return bytes(data), cuts


@given(mutated())
@FUZZ
def test_fuzz_mutated_and_truncated_plans_raise_only_plan_file_error(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    _check(data)
    for cut in cuts:
        _check(data[:cut])


@given(
    magic=st.sampled_from([b"ptrt", b"ftrt"]),
    words=st.lists(st.sampled_from([0, 1, 2, 20, 24, 0x38, 0x50, 205, 2**32 - 1]), min_size=0, max_size=24),
    tail=st.binary(max_size=256),
)
@FUZZ
def test_fuzz_synthetic_headers_raise_only_plan_file_error(magic: bytes, words: list[int], tail: bytes) -> None:
    data = magic + b"".join(struct.pack("<I", w) for w in words) + tail
    for cut in range(len(data), 0, -7):
        _check(data[:cut])


@given(
    length=st.integers(0, 2**32 - 1),
    body=st.one_of(st.binary(max_size=64), st.text(max_size=64).map(lambda t: t.encode("utf-8"))),
    plan=st.sampled_from([b"", b"ptrt", b"ftrt", SEEDS[3], SEEDS[2][:30]]),
)
@FUZZ
def test_fuzz_wrappers_raise_only_plan_file_error(length: int, body: bytes, plan: bytes) -> None:
    _check(struct.pack("<I", length) + b"{" + body + plan)
    _check(struct.pack("<I", len(body) + 1) + b"{" + body + plan)


def test_deeply_nested_metadata_is_not_a_crash() -> None:
    text = b"{" + b'"a":' * 1 + b"[" * 100000
    _check(struct.pack("<I", len(text)) + text + b"ptrt")
