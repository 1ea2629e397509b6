"""Expectations: parsing refuses unusable entries; applying turns observed outcomes into xfail/xpass.

Runs on Python 3.8 too (the suite applies expectations inside the oldest images). The seeded
entries are checked against the exact TensorRT texts quoted in the project's research notes.
"""

from __future__ import annotations

import copy
import datetime
import sys
from pathlib import Path
from typing import Any

import pytest

from matrix.suite.expect import Expectation, ExpectationError, apply, apply_all, observed, parse
from matrix.suite.schema import CellResult
from tests.unit.records import cell_record

EXPECTATIONS = Path(__file__).resolve().parents[3] / "matrix" / "expectations.toml"

ENTRY: dict[str, Any] = {
    "id": "refused",
    "check": "deserialize",
    "pair": "off-diagonal",
    "variant": ["onnx", "hc"],
    "status": "fail",
    "log": "Version tag does not match",
    "reason": "non-VC plans load only in their own build",
    "citation": "https://github.com/NVIDIA/TensorRT/issues/2072",
    "added": datetime.date(2026, 11, 21),
}


def entries(*tables: dict[str, Any]) -> list[Expectation]:
    return parse({"schema": 1, "expectation": list(tables)})


def cell(
    cell_id: str, status: str = "fail", log: tuple[str, ...] = (), reason: str = "", signal: str | None = None
) -> CellResult:
    reason = reason or ("n/a here" if status in ("na", "skip") else "")
    return cell_record(cell_id, status, reason=reason, signal=signal, log=log, run_id="r")


def with_(**changes: Any) -> dict[str, Any]:
    table = copy.deepcopy(ENTRY)
    for key, value in changes.items():
        if value is None:
            table.pop(key, None)
        else:
            table[key] = value
    return table


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"citation": None}, "field 'citation': missing"),
        ({"citation": "see the forum"}, "not an https:// URL"),
        ({"citation": "http://example.com/x"}, "not an https:// URL"),
        ({"colour": "red"}, "field 'colour': unknown field"),
        ({"status": "broken"}, "'broken' is not one of fail, crash, timeout, na, skip"),
        ({"status": "xfail"}, "'xfail' is not one of"),
        ({"status": None}, "field 'status': missing"),
        ({"log": "scales.size() == 1 ("}, "not a valid regular expression"),
        ({"pair": "sideways"}, "'sideways' is not one of any, diagonal, off-diagonal"),
        ({"added": "yesterday"}, "expected a date"),
        ({"id": "Has Spaces"}, "field 'id'"),
        ({"reason": ""}, "field 'reason'"),
        ({"strict": "yes"}, "field 'strict'"),
        ({"variant": []}, "field 'variant'"),
    ],
)
def test_unusable_entries_are_refused_naming_the_field(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ExpectationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        entries(with_(**changes))


def test_an_entry_without_any_selector_is_refused() -> None:
    table = with_(check=None, pair=None, variant=None)
    with pytest.raises(ExpectationError, match="no selector"):
        entries(table)


def test_duplicate_ids_and_bad_top_level_are_refused() -> None:
    with pytest.raises(ExpectationError, match="duplicate id"):
        entries(ENTRY, ENTRY)
    with pytest.raises(ExpectationError, match="'schema'"):
        parse({"expectation": [ENTRY]})
    with pytest.raises(ExpectationError, match="'extra'"):
        parse({"schema": 1, "extra": 1})


def test_an_expected_failure_with_the_log_line_becomes_xfail_and_keeps_the_citation() -> None:
    result = cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", log=("... Version tag does not match. Note: ...",))
    applied = apply(result, entries(ENTRY))
    assert applied.status == "xfail"
    assert applied.expectation == {
        "id": "refused",
        "citation": "https://github.com/NVIDIA/TensorRT/issues/2072",
        "reason": "non-VC plans load only in their own build",
        "observed": "fail",
    }
    assert applied.log == result.log and applied.reason == result.reason


def test_a_failure_with_another_log_line_stays_a_failure() -> None:
    result = cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", log=("magicTag == rt::kPLAN_MAGIC_TAG failed",))
    assert apply(result, entries(ENTRY)) == result


def test_selector_globs_and_pair_limit_which_cells_an_entry_speaks_about() -> None:
    log = ("Version tag does not match",)
    exps = entries(ENTRY)
    assert apply(cell("deserialize:trt86>trt86:yolov5s:fp32:onnx", log=log), exps).status == "fail"  # diagonal
    assert apply(cell("deserialize:trt86>trt10:yolov5s:fp32:vc", log=log), exps).status == "fail"  # variant
    assert apply(cell("serialize:trt86>trt86:yolov5s:fp32:onnx", log=log), exps).status == "fail"  # check
    diag = entries(with_(pair="diagonal"))
    assert apply(cell("deserialize:trt86>trt86:yolov5s:fp32:onnx", log=log), diag).status == "xfail"
    globbed = entries(with_(producer="trt8*", consumer=["trt10", "trt11"]))
    assert apply(cell("deserialize:trt85>trt10:yolov5s:fp32:onnx", log=log), globbed).status == "xfail"
    assert apply(cell("deserialize:trt10>trt11:yolov5s:fp32:onnx", log=log), globbed).status == "fail"


def test_a_strict_expected_failure_that_passes_is_xpass() -> None:
    result = cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", status="pass")
    applied = apply(result, entries(ENTRY))
    assert applied.status == "xpass"
    assert applied.expectation is not None and applied.expectation["observed"] == "pass"


def test_a_non_strict_entry_does_not_turn_a_pass_into_xpass() -> None:
    result = cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", status="pass")
    assert apply(result, entries(with_(strict=False))) == result


def test_crash_and_timeout_are_expected_only_when_listed() -> None:
    crash = cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", status="crash", signal="SIGSEGV")
    assert apply(crash, entries(with_(log=None))).status == "crash"
    assert apply(crash, entries(with_(log=None, status=["fail", "crash"]))).status == "xfail"


def test_an_expected_na_keeps_its_status_and_gains_the_citation() -> None:
    table = with_(check="int8", pair=None, variant="entropy2", consumer="trt11", status="na", log=None)
    result = cell("int8:trt11>trt11:retinaface-mnet:int8:entropy2", status="na", reason="INT8 absent")
    applied = apply(result, entries(table))
    assert applied.status == "na"
    assert applied.expectation is not None and applied.expectation["id"] == "refused"


def test_applying_is_idempotent_and_follows_a_changed_file() -> None:
    result = cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", log=("Version tag does not match",))
    once = apply(result, entries(ENTRY))
    assert apply(once, entries(ENTRY)) == once
    assert apply(once, []) == result  # the entry was removed: the failure is a failure again
    assert observed(once) == result
    passed = apply(cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", status="pass"), entries(ENTRY))
    assert apply(passed, []).status == "pass"


def test_observed_infers_the_status_of_records_applied_without_it() -> None:
    result = cell("deserialize:trt85>trt86:yolov5s:fp32:onnx").replace(
        status="xfail", expectation={"id": "x", "citation": "https://e.org"}
    )
    assert observed(result).status == "fail" and observed(result).expectation is None


# --- the seeded file, against the exact texts in shared/research/known-issues.md -------------------------


def _seeded() -> list[Expectation]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        tomllib = pytest.importorskip("tomli", reason="tomli parses TOML on Python < 3.11 (the suite pins it)")
    return parse(tomllib.loads(EXPECTATIONS.read_text(encoding="utf-8")))


BUILDER_852 = (
    "[E] [TRT] 3: [builder.cpp::~Builder::307] Error Code 3: API Usage Error (Parameter check failed at: "
    "optimizer/api/builder.cpp::~Builder::307, condition: mObjectCounter.use_count() == 1. "
    "Destroying a builder object before destroying objects it created leads to undefined behavior."
)
RUNTIME_86 = (
    "3: [runtime.cpp::~Runtime::346] Error Code 3: API Usage Error (Parameter check failed at: "
    "runtime/rt/runtime.cpp::~Runtime::346, condition: mEngineCounter.use_count() == 1. Destroying a runtime "
    "before destroying deserialized engines created by the runtime leads to undefined behavior.)"
)
SCALES = (
    "[E] [TRT] 2: [pluginV2Runner.cpp::getInputHostScale::88] Error Code 2: Internal Error "
    "(Assertion scales.size() == 1 failed. )"
)
TAG_8X = (
    "Serialization assertion stdVersionRead == serializationVersion failed.Version tag does not match. "
    "Note: Current Version: 213, Serialized Engine Version: 205"
)
TAG_10X = "Serialization assertion stdVersionRead == kSERIALIZATION_VERSION failed."
BUILD = (
    "The engine plan file is not compatible with this version of TensorRT, expecting library version 8.5.1.7 "
    "got 8.5.3.1, please rebuild."
)


@pytest.mark.parametrize(
    ("cell_id", "status", "log", "expected_id", "after"),
    [
        (
            "destroy-order:trt85>trt85:-:fp32:cpp-builder-first",
            "fail",
            BUILDER_852,
            "builder-destroyed-first",
            "xfail",
        ),
        (
            "destroy-order:trt86>trt86:-:fp32:cpp-builder-first",
            "fail",
            BUILDER_852,
            "builder-destroyed-first",
            "xfail",
        ),
        (
            "destroy-order:trt86>trt86:-:fp32:cpp-runtime-first",
            "fail",
            RUNTIME_86,
            "runtime-destroyed-first",
            "xfail",
        ),
        (
            "destroy-order:trt11>trt11:-:fp32:cpp-runtime-first",
            "fail",
            RUNTIME_86,
            "runtime-destroyed-first",
            "xfail",
        ),
        (
            "int8:trt86>trt86:retinaface-mnet:int8:decode-plugin",
            "fail",
            SCALES,
            "retinaface-int8-decode-plugin-scales",
            "xfail",
        ),
        (
            "deserialize:trt84>trt85:yolov5s:fp32:onnx",
            "fail",
            TAG_8X,
            "plan-refused-by-other-release",
            "xfail",
        ),
        (
            "deserialize:trt10>trt11:yolov5s:fp16:hc",
            "fail",
            TAG_10X,
            "plan-refused-by-other-release",
            "xfail",
        ),
        (
            "deserialize:trt85>trt86:yolov5s:fp32:onnx",
            "fail",
            BUILD,
            "plan-refused-by-other-release",
            "xfail",
        ),
        ("deserialize:trt86>trt11:scrfd-500m:fp32:vc", "fail", "", "vc-plan-8x-refused-by-11x", "xfail"),
        ("int8:trt11>trt11:scrfd-500m:int8:entropy2", "na", "", "implicit-int8-removed-in-11", "na"),
        ("int8-cache:trt10>trt11:scrfd-500m:int8:entropy2", "na", "", "implicit-int8-removed-in-11", "na"),
        (
            "serialize:trt84>trt84:yolov5s:fp16:onnx",
            "fail",
            "Internal Error (Unsupported SM: 0x809, ...)",
            "unsupported-sm-on-8.4",
            "xfail",
        ),
        # not covered: the message on a release nobody reported it for, and the non-VC refusal text on VC
        (
            "destroy-order:trt84>trt84:-:fp32:cpp-builder-first",
            "fail",
            BUILDER_852,
            None,
            "fail",
        ),
        (
            "destroy-order:trt85>trt85:-:fp32:cpp-runtime-first",
            "fail",
            RUNTIME_86,
            None,
            "fail",
        ),
        ("int8:trt10>trt10:retinaface-mnet:int8:decode-plugin", "fail", SCALES, None, "fail"),
        ("deserialize:trt86>trt10:yolov5s:fp32:vc", "fail", TAG_8X, None, "fail"),
        # a plan that loads where the seeded refusal says it cannot: loudly XPASS; 8.4 on Ampere: plain pass
        ("deserialize:trt86>trt10:yolov5s:fp32:onnx", "pass", "", "plan-refused-by-other-release", "xpass"),
        ("serialize:trt84>trt84:yolov5s:fp16:onnx", "pass", "", None, "pass"),
    ],
)
def test_seeded_expectations_match_the_reported_texts(
    cell_id: str, status: str, log: str, expected_id: str | None, after: str
) -> None:
    applied = apply(cell(cell_id, status=status, log=(log,) if log else ()), _seeded())
    assert applied.status == after
    assert (applied.expectation or {}).get("id") == expected_id


def test_every_seeded_entry_cites_a_public_url() -> None:
    seeded = _seeded()
    assert len(seeded) >= 8
    for exp in seeded:
        assert exp.citation.startswith("https://")
        assert all(url.startswith("https://") for url in exp.also)


def test_apply_all_keeps_order() -> None:
    results = [
        cell("deserialize:trt85>trt86:yolov5s:fp32:onnx", status="pass"),
        cell("api:trt86>trt86:-:-:x"),
    ]
    assert [r.cell_id for r in apply_all(results, entries(ENTRY))] == [r.cell_id for r in results]
