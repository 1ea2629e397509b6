"""Verdicts (matrix.plans.will_load, rules in matrix.plans.rules): which runtime would load a plan,
decided from its header, never guessed. Python 3.8 (nox -s py38): no catalogue, runtimes as strings."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matrix import plans
from matrix.errors import UserError
from matrix.plans import rules
from tests.unit.suite import synthetic_plans as syn

FIXTURES = syn.fixture_dir()


def _ftrt(version: tuple[int, int, int, int], tag: int) -> bytes:
    return syn.ftrt(version, [("ENGN", syn.ptrt_current(version, tag))])


def _verdict(plan: bytes, runtime: str) -> plans.Verdict:
    v = plans.will_load(plan, runtime)
    assert v.loads is {"loads": True, "refused": False}.get(v.status), "loads and status agree"
    return v


def test_the_exact_build_loads() -> None:
    v = _verdict(_ftrt((11, 4, 0, 106), 244), "11.4.0.106")
    assert v.status == "loads" and "same build" in v.reason


def test_a_series_only_runtime_cannot_be_compared_with_an_exact_build() -> None:
    v = _verdict(_ftrt((8, 6, 1, 6), 236), "8.6.1")
    assert v.status == "unknown"
    assert "only as 8.6.1" in v.reason and "exactly 8.6.1.6" in v.reason
    old = _verdict(syn.ptrt_current((8, 4, 1, 5), 213), "8.4.1")
    assert old.status == "unknown" and "version-compatible" not in old.reason


def test_same_tag_but_another_build_is_refused_with_the_rebuild_message() -> None:
    v = _verdict(syn.ptrt_current((8, 5, 3, 1), 232), "8.5.1.7")
    assert v.status == "refused"
    assert v.reason.startswith("built by 8.5.3.1, this runtime is 8.5.1.7")
    assert v.log_line == (
        "The engine plan file is not compatible with this version of TensorRT, expecting library version "
        "8.5.1.7 got 8.5.3.1, please rebuild."
    )


def test_another_tag_quotes_the_tag_mismatch_line() -> None:
    v = _verdict(syn.ptrt_current((8, 2, 1, 8), 205), "8.4.1")
    assert v.status == "refused"
    assert v.log_line.endswith("Current Version: 213, Serialized Engine Version: 205")
    legacy = _verdict(syn.ptrt_legacy((7, 1, 3, 0), 97), "8.5.1")
    assert "safeVersionRead == safeSerializationVersion" in legacy.log_line
    assert legacy.log_line.endswith("Serialized Engine Version: 97")


@pytest.mark.parametrize(
    ("built", "runtime", "status", "phrase"),
    [
        ((8, 6, 1, 6), "8.6.2.3", "loads-if-version-compatible", "same major"),
        ((8, 6, 1, 6), "10.8.0", "loads-if-version-compatible", "8.x version-compatible plans load in 10.x"),
        ((8, 6, 1, 6), "11.4.0.106", "refused", "across majors only 8.x-VC -> 10.x, 10.x-VC -> 11.x"),
        ((10, 3, 0, 26), "10.8.0", "loads-if-version-compatible", "same major"),
        ((10, 3, 0, 26), "11.0.0.114", "loads-if-version-compatible", "10.x version-compatible plans load"),
        ((10, 3, 0, 26), "10.0.1", "refused", "no plan loads in an older runtime"),
        ((10, 3, 0, 26), "8.6.1", "refused", "no plan loads in an older runtime"),
        ((8, 5, 1, 7), "10.8.0", "refused", "loads only in the exact build"),
        ((8, 5, 1, 7), "8.6.1", "refused", "loads only in the exact build"),
        ((9, 2, 0, 5), "10.8.0", "refused", "across majors"),
    ],
)
def test_version_compatibility_rules(built: tuple[int, int, int, int], runtime: str, status: str, phrase: str) -> None:
    plan = _ftrt(built, 236) if built >= (8, 6, 0, 0) else syn.ptrt_current(built, 232)
    v = _verdict(plan, runtime)
    assert v.status == status, v.reason
    assert phrase in v.reason
    if status == "loads-if-version-compatible":
        assert "the header does not say whether it was" in v.reason
        assert "engine_host_code_allowed" in v.reason


def test_an_unreadable_version_falls_back_on_the_tag_or_says_unknown() -> None:
    plan = (
        b"ptrt"
        + (0).to_bytes(4, "little")
        + (213).to_bytes(4, "little")
        + b"\0" * 4
        + (8).to_bytes(8, "little")
        + b"\xee" * 8
    )
    assert plans.identify(plan).builder_version is None
    assert _verdict(plan, "8.5.1").status == "refused"
    unknown = _verdict(plan, "8.4.1")
    assert unknown.status == "unknown" and "tag 213 does not settle it" in unknown.reason
    assert _verdict(plan, "11.4.0.106").status == "unknown"


def test_non_plans_are_refused_with_what_tensorrt_says() -> None:
    lfs = syn.lfs_pointer(size=999)
    v8, v10 = _verdict(lfs, "8.6.1"), _verdict(lfs, "10.9.0.34")
    assert v8.status == v10.status == "refused"
    assert "git lfs pull" in v8.reason and "999-byte" in v8.reason
    assert v8.log_line == "Serialization assertion plan->header.magicTag == rt::kPLAN_MAGIC_TAG failed."
    assert v10.log_line == "incompatible serialization version (1936876918 != 1953657958)"
    plan = syn.ftrt((10, 9, 0, 34), [("ENGN", syn.ptrt_current((10, 9, 0, 34), 239))])
    wrapped = syn.wrapped({"x": "y" * 1816}, plan)
    assert plans.identify(wrapped).payload_offset == 4 + 1825
    w = _verdict(wrapped, "10.9.0.34")
    assert w.status == "refused" and "Ultralytics" in w.reason and "loads: built by 10.9.0.34" in w.reason
    assert w.log_line == "incompatible serialization version (1825 != 1953657958)"
    junk = _verdict(b"PK\x03\x04" + b"\0" * 60, "8.4.1")
    assert junk.status == "refused" and "zip archive" in junk.reason


@pytest.mark.skipif(FIXTURES is None, reason="no ../shared/fixtures/engines here")
def test_fixture_plans_against_the_catalogue_runtimes() -> None:
    """The catalogue's runtimes (versions.toml) as of this writing, written out: no catalogue on 3.8."""
    assert FIXTURES is not None
    runtimes = {"trt86": "8.6.1", "trt100": "10.0.1", "trt10": "10.8.0", "trt11": "11.4.0.106"}
    statuses = {}
    for row in syn.expected_rows():
        data = (FIXTURES / row["file"]).read_bytes()
        statuses[row["file"][:2]] = {rid: _verdict(data, rt).status for rid, rt in runtimes.items()}
    # Nothing built before 8.6 loads anywhere but its own build, which none of these is.
    for key in ("02", "03", "05", "06"):
        assert set(statuses[key].values()) == {"refused"}
    # 10.0.1.6 against a runtime named 10.0.1: cannot be told; a later 10.x or 11.x only if VC.
    assert statuses["13"]["trt100"] == "unknown"
    assert statuses["13"]["trt10"] == statuses["13"]["trt11"] == "loads-if-version-compatible"
    assert statuses["17"]["trt10"] == "refused" and statuses["17"]["trt11"] == "loads-if-version-compatible"


def test_a_broken_facts_file_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "facts.toml"
    bad.write_text("schema = 1\n[[tag]]\ntag = 'x'\n", encoding="utf-8")
    with pytest.raises(UserError, match="not a valid plan-facts file"):
        rules.load_facts(bad)


def test_every_status_is_a_known_one_and_verdicts_are_frozen() -> None:
    v = _verdict(_ftrt((10, 3, 0, 26), 239), "10.8.0")
    assert v.status in rules.STATUSES
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.status = "loads"  # type: ignore[misc]
    assert set(v.to_json()) == {"runtime", "loads", "status", "reason", "log_line", "log_source"}


@given(
    version=st.tuples(*[st.integers(0, 255)] * 4),
    tag=st.integers(0, 300),
    magic=st.sampled_from(["ptrt", "ftrt", "legacy"]),
    runtime=st.lists(st.integers(0, 20), min_size=2, max_size=4).map(lambda p: ".".join(map(str, p))),
)
@settings(
    max_examples=int(os.environ.get("TRT_MATRIX_FUZZ_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_any_readable_plan_gets_a_verdict_with_a_reason(
    version: tuple[int, int, int, int], tag: int, magic: str, runtime: str
) -> None:
    if magic == "ftrt":
        plan = _ftrt(version, tag)
    elif magic == "ptrt":
        plan = syn.ptrt_current(version, tag)
    else:
        plan = syn.ptrt_legacy(version, tag)
    v = _verdict(plan, runtime)
    assert v.status in rules.STATUSES and v.reason
    if v.status == "loads":
        assert ".".join(map(str, version)) == runtime


def test_the_two_85_builds_in_the_catalogue_refuse_each_other_with_the_library_version_line() -> None:
    """trt85 (8.5.1) and trt853 (8.5.3) share serialization tag 232: the refusal is the rebuild line."""
    plan = syn.ptrt_current((8, 5, 1, 7), 232)
    v = _verdict(plan, "8.5.3")  # trt853 in the catalogue (this module also runs on 3.8: no catalogue import)
    assert v.status == "refused"
    assert v.log_line == (
        "The engine plan file is not compatible with this version of TensorRT, "
        "expecting library version 8.5.3.x got 8.5.1.7, please rebuild."
    )
    assert _verdict(plan, "8.5.1").status == "unknown"  # trt85: the catalogue gives 8.5.1, not the 4th part
