"""The C++ destroy-order probe's output: the record keeps the lines that matter, the artifact keeps all.

A stand-in probe (a script printing what cpp/destroy_order.cpp prints: LOG/STEP/RESULT lines) takes the
place of the compiled binary, so this runs anywhere; the compile step itself is tested against real
headers in test_destroy_order_probe.py.
"""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from matrix.suite.cells import Cell
from matrix.suite.checks import destroy_order
from matrix.suite.outcome import CheckContext, Fail

DESTROY = (
    "Error Code 3: API Usage Error (Parameter check failed at: optimizer/api/builder.cpp::~Builder::307, "
    "condition: mObjectCounter.use_count() == 1. Destroying a builder object before destroying objects it "
    "created leads to undefined behavior.)"
)


def fake_probe(tmp_path: Path, destroy_line: bool) -> Path:
    lines = [f"LOG\tverbose\tTactic {i}: a VERBOSE line the builder prints" for i in range(300)]
    lines += ["STEP\tbuild", "LOG\tinfo\t[MemUsageChange] Init CUDA: CPU +1, GPU +0, now: CPU 10, GPU 20 (MiB)"]
    if destroy_line:
        lines.append("LOG\terror\t" + DESTROY)
    lines += ["STEP\tdestroy", "RESULT\tplan_valid\t1"]
    script = tmp_path / "probe"
    body = "\n".join(lines)
    script.write_text(f"#!{sys.executable}\nprint({body!r})\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def ctx(tmp_path: Path) -> CheckContext:
    cell = Cell("destroy-order", "trt86", "trt86", "-", "fp32", "cpp-builder-first", phase=1, needs="gpu")
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "scratch").mkdir()
    return CheckContext(cell, "trt86", tmp_path / "artifacts", tmp_path / "scratch")


def test_a_failing_cpp_cell_keeps_the_relevant_lines_and_the_full_log_as_an_artifact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = fake_probe(tmp_path, destroy_line=True)
    monkeypatch.setattr(destroy_order, "_compile", lambda _ctx: probe)
    c = ctx(tmp_path)
    with pytest.raises(Fail) as failed:
        destroy_order.run(c)
    texts = [x.text for x in failed.value.log]
    assert DESTROY in texts
    assert not [x for x in failed.value.log if x.severity == "verbose"]  # 300 VERBOSE lines stay out
    assert len(failed.value.log) <= 5
    m = failed.value.measurements
    assert m["destroy_order_messages"] == 1 and m["probe_log_lines"] == 302
    full = (c.artifacts / m["probe_log"]).read_text(encoding="utf-8")
    assert full.count("VERBOSE line") == 300 and DESTROY in full
    assert m["probe_log"] == "trt86/logs/destroy-order-cpp-builder-first.log"


def test_a_passing_cpp_cell_also_keeps_its_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = fake_probe(tmp_path, destroy_line=False)
    monkeypatch.setattr(destroy_order, "_compile", lambda _ctx: probe)
    c = ctx(tmp_path)
    outcome = destroy_order.run(c)
    assert outcome.status == "pass" and outcome.measurements["destroy_order_messages"] == 0
    assert (c.artifacts / outcome.measurements["probe_log"]).is_file()


def test_a_read_only_artifacts_folder_does_not_fail_the_cell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    probe = fake_probe(tmp_path, destroy_line=False)
    monkeypatch.setattr(destroy_order, "_compile", lambda _ctx: probe)
    c = ctx(tmp_path)
    (c.artifacts / "trt86").write_text("not a folder", encoding="utf-8")  # mkdir fails like a read-only mount
    outcome = destroy_order.run(c)
    assert outcome.status == "pass" and outcome.measurements["probe_log"] is None
