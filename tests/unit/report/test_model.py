"""The report model: ordering, table, grids, conflicts and the accounting of what did not run."""

from __future__ import annotations

import dataclasses

from matrix import catalogue
from matrix.report import expectations, model
from matrix.suite import cells
from matrix.suite.expect import apply_all
from matrix.suite.schema import CellResult
from tests.unit.report.sample_runs import three_release_run


def build(records: list[CellResult]) -> model.Report:
    return model.build(records, catalogue.load(), generated_at="t", inputs=["x"], expectations="e")


def test_rows_are_host_then_catalogue_order_and_cells_follow_the_check_table() -> None:
    report = build(list(reversed(three_release_run())))
    assert [r.id for r in report.releases] == [cells.HOST, "trt86", "trt10", "trt11"]
    checks = [r.check for r in report.results]
    assert checks == sorted(checks, key=cells.CHECK_NAMES.index)
    assert report.checks == cells.CHECK_NAMES


def test_table_counts_add_up_to_every_record() -> None:
    records = apply_all(three_release_run(), expectations.load())
    report = build(records)
    assert sum(sum(s.counts.values()) for s in report.table.values()) == len(records)
    assert report.table[("trt86", "execute")].worst == "crash"
    assert report.table[("trt10", "deserialize")].worst == "xpass"
    assert report.table[("trt11", "serialize")].counts == {"skip": 26}


def test_grids_cover_every_cross_cell_once() -> None:
    records = three_release_run()
    report = build(records)
    cross = [r for r in records if r.check in model.CROSS_CHECKS]
    assert sum(len(g.cells) for g in report.grids) == len(cross)
    grid = next(g for g in report.grids if g.key == "deserialize-yolov5s-fp16-hc")
    assert grid.producers == grid.consumers == ("trt86", "trt10", "trt11")
    assert grid.cells[("trt86", "trt10")].status == "pass"


def test_conflicting_records_are_kept_and_the_louder_one_shown() -> None:
    records = three_release_run()
    target = records[-1]
    report = build([*records, target.replace(status="crash", signal="SIGSEGV", where="other-runner")])
    assert [c.cell_id for c in report.conflicts] == [target.cell_id]
    shown = next(r for r in report.results if r.cell_id == target.cell_id)
    assert shown.status == "crash" and len(report.results) == len(records)


def test_duplicate_records_from_two_inputs_merge_silently() -> None:
    records = three_release_run()
    assert len(build(records + records).results) == len(records)


def test_not_run_accounting() -> None:
    records = [r for r in three_release_run() if not (r.consumer == "trt86" and r.check == "toolchain")]
    report = build(records)
    assert [rid for rid, _ in report.missing_releases] == [
        r for r in catalogue.load().ids if r not in ("trt86", "trt10", "trt11")
    ]
    assert [(a.release, a.check, a.count) for a in report.absent] == [("trt86", "toolchain", 3)]
    top = report.not_run_reasons[0]
    assert (top.status, top.count) == ("skip", 173) and "no CUDA device" in top.reason


def test_a_release_with_only_api_cells_is_said_to_be_tier_0_only() -> None:
    records = [r for r in three_release_run() if r.consumer != "trt11" or r.check == "api"]
    report = build(records)
    assert ("trt11", "tier 0 only (API surface from its bindings); none of its GPU cells ran") in (
        report.missing_releases
    )


def test_weights_labels_and_synthetic_models() -> None:
    report = build(three_release_run())
    assert report.synthetic_models == ("scrfd-500m", "yolov5s")
    assert (
        "retinaface-mnet",
        "pretrained: mobilenet0.25_Final.pth (biubug6/Pytorch_Retinaface)",
    ) in report.weights


def not_in_sample_run() -> list[str]:
    """The catalogue's releases the three-release sample run (trt86, trt10, trt11) leaves out, in order."""
    return [r for r in catalogue.load().ids if r not in ("trt86", "trt10", "trt11")]


def test_the_builder_flags_each_build_recorded_are_summarised_per_precision() -> None:
    records = list(three_release_run())
    fp32 = next(i for i, r in enumerate(records) if r.precision == "fp32" and r.check == "serialize")
    fp16 = next(i for i, r in enumerate(records) if r.precision == "fp16" and r.check == "serialize")
    records[fp32] = dataclasses.replace(records[fp32], measurements={"builder_flags": ["-TF32"]})
    records[fp16] = dataclasses.replace(records[fp16], measurements={"builder_flags": ["+FP16", "+FP16"]})
    line = build(records).builder_flags_line
    assert line == "builder flags set (+) or cleared (-) by the builds: fp16: +FP16 (1); fp32: -TF32 (1)"
    assert build(list(three_release_run())).builder_flags_line == ""
