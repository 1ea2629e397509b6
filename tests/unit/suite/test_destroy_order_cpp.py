"""The C++ destroy-order cells: how the probe is compiled, and what its output becomes.

A stand-in probe (a script printing what cpp/destroy_order.cpp prints: LOG/STEP/RESULT lines, or dying
as a crashing probe does) takes the place of the compiled binary, and a stand-in compiler (a script that
records its command line) the place of g++, so this runs anywhere: the record keeps the lines that
matter, the artifact keeps all, a signal is a crash, each missing piece is a skip that names it. That the
probe compiles against each release's real headers is test_destroy_order_probe.py's job.
"""

from __future__ import annotations

import json
import signal
import stat
import sys
from pathlib import Path

import pytest

from matrix.suite import trace
from matrix.suite.cells import Cell
from matrix.suite.checks import destroy_order
from matrix.suite.outcome import CheckContext, Fail, Skip

DESTROY = (
    "Error Code 3: API Usage Error (Parameter check failed at: optimizer/api/builder.cpp::~Builder::307, "
    "condition: mObjectCounter.use_count() == 1. Destroying a builder object before destroying objects it "
    "created leads to undefined behavior.)"
)


def executable(path: Path, code: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{code}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def fake_probe(tmp_path: Path, destroy_line: bool, plan_valid: str = "1", then: str = "") -> Path:
    """Prints what the probe prints; `then` is Python run after it (a crash, an exit code)."""
    lines = [f"LOG\tverbose\tTactic {i}: a VERBOSE line the builder prints" for i in range(300)]
    lines += ["STEP\tbuild", "LOG\tinfo\t[MemUsageChange] Init CUDA: CPU +1, GPU +0, now: CPU 10, GPU 20 (MiB)"]
    if destroy_line:
        lines.append("LOG\terror\t" + DESTROY)
    lines += ["STEP\tdestroy", f"RESULT\tplan_valid\t{plan_valid}"]
    body = "\n".join(lines)
    return executable(tmp_path / "probe", f"import os, signal, sys\nprint({body!r}, flush=True)\n{then}")


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


def test_a_probe_killed_by_a_signal_is_a_crash_naming_the_signal_and_the_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    then = "sys.stderr.write('free(): invalid pointer\\n'); sys.stderr.flush(); os.kill(os.getpid(), signal.SIGSEGV)"
    probe = fake_probe(tmp_path, destroy_line=True, then=then)
    monkeypatch.setattr(destroy_order, "_compile", lambda _ctx: probe)
    outcome = destroy_order.run(ctx(tmp_path))
    assert outcome.status == "crash" and outcome.signal == "SIGSEGV", (outcome.status, outcome.signal)
    assert "died on SIGSEGV at step 'destroy'" in outcome.reason, outcome.reason
    texts = [x.text for x in outcome.log]
    assert DESTROY in texts and "free(): invalid pointer" in texts  # what it logged, and its last words
    assert outcome.measurements["exit_code"] == -signal.SIGSEGV
    assert outcome.measurements["destroy_order_messages"] == 1


def test_a_probe_exiting_non_zero_fails_naming_the_step_and_keeping_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    then = "sys.stderr.write('cudaMalloc: out of memory\\n'); sys.exit(3)"
    probe = fake_probe(tmp_path, destroy_line=False, then=then)
    monkeypatch.setattr(destroy_order, "_compile", lambda _ctx: probe)
    with pytest.raises(Fail) as failed:
        destroy_order.run(ctx(tmp_path))
    assert failed.value.reason == "the C++ probe exited with code 3 at step 'destroy'"
    assert [x.text for x in failed.value.log if x.severity == "stderr"] == ["cudaMalloc: out of memory"]


def test_a_plan_that_no_longer_loads_fails_even_without_a_logged_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    probe = fake_probe(tmp_path, destroy_line=False, plan_valid="0")
    monkeypatch.setattr(destroy_order, "_compile", lambda _ctx: probe)
    with pytest.raises(Fail, match="no error logged, but the plan no longer loads") as failed:
        destroy_order.run(ctx(tmp_path))
    assert failed.value.measurements["plan_valid"] is False


# The compile step: a stand-in g++ records its command line and writes the output file (or fails).


def image(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, libs: tuple[str, ...], compiler_exit: int = 0) -> Path:
    """An image's layout under tmp_path (headers, CUDA headers, libraries) and a g++ on PATH only."""
    for folder, name in (("inc", "NvInfer.h"), ("cuda-12.6/include", "cuda_runtime_api.h")):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / name).write_text("// header\n", encoding="utf-8")
    (tmp_path / "lib").mkdir()
    for lib in libs:
        (tmp_path / "lib" / lib).write_bytes(b"")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(
        bin_dir / "g++",
        "import json, sys\n"
        f"open({str(tmp_path / 'argv.json')!r}, 'w').write(json.dumps(sys.argv[1:]))\n"
        f"if {compiler_exit}:\n"
        "    sys.stderr.write('NvInfer.h:42:10: error: expected class-name before ‘{’ token\\n'); sys.exit(1)\n"
        "open(sys.argv[sys.argv.index('-o') + 1], 'w').write('')",
    )
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setattr(destroy_order, "INCLUDE_DIRS", (str(tmp_path / "nowhere"), str(tmp_path / "inc")))
    monkeypatch.setattr(destroy_order, "CUDA_INCLUDE_DIRS", (str(tmp_path / "cuda"), str(tmp_path / "cuda-*/include")))
    monkeypatch.setattr(destroy_order, "LIB_DIRS", (str(tmp_path / "lib"),))
    return tmp_path


def compiled_with(layout: Path) -> list[str]:
    return list(json.loads((layout / "argv.json").read_text(encoding="utf-8")))


def test_the_probe_is_compiled_against_the_image_headers_and_linked_by_its_soname(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = image(tmp_path / "image", monkeypatch, libs=("libnvinfer.so.10",))  # a runtime-only image: no .so link
    c = ctx(tmp_path)
    binary = destroy_order._compile(c)
    argv = compiled_with(layout)
    assert binary.is_file() and binary.parent == c.scratch and binary.name.startswith("destroy_order-")
    assert f"-I{layout / 'inc'}" in argv and f"-I{layout / 'cuda-12.6/include'}" in argv
    assert str(destroy_order.SOURCE) in argv and argv[argv.index("-o") + 1] == str(binary)
    assert str(layout / "lib" / "libnvinfer.so.10") in argv and "-lnvinfer" not in argv
    assert f"-Wl,-rpath,{layout / 'lib'}" in argv


def test_with_the_development_link_the_probe_links_with_lnvinfer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = image(tmp_path / "image", monkeypatch, libs=("libnvinfer.so", "libnvinfer.so.8"))
    destroy_order._compile(ctx(tmp_path))
    argv = compiled_with(layout)
    assert "-lnvinfer" in argv and f"-L{layout / 'lib'}" in argv


def test_a_compile_error_fails_the_cell_and_keeps_the_compiler_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image(tmp_path / "image", monkeypatch, libs=("libnvinfer.so",), compiler_exit=1)
    monkeypatch.setattr(trace, "EXTRA_LOG", [])
    with pytest.raises(Fail, match=r"does not compile against this image's headers \(exit 1\)"):
        destroy_order._compile(ctx(tmp_path))
    assert any("expected class-name" in x.text for x in trace.EXTRA_LOG), trace.EXTRA_LOG


@pytest.mark.parametrize(
    ("remove", "says"),
    [
        ("bin/g++", "no C++ compiler in this image"),
        ("inc/NvInfer.h", "TensorRT C++ headers (NvInfer.h) not found"),
        ("cuda-12.6/include/cuda_runtime_api.h", "CUDA headers (cuda_runtime_api.h) not found"),
        ("lib/libnvinfer.so", "libnvinfer.so not found"),
    ],
)
def test_each_missing_piece_is_a_skip_that_names_it(
    remove: str, says: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    layout = image(tmp_path / "image", monkeypatch, libs=("libnvinfer.so",))
    (layout / remove).unlink()
    with pytest.raises(Skip) as skipped:
        destroy_order.run(ctx(tmp_path))
    assert says in skipped.value.reason
    assert not (layout / "argv.json").exists()  # nothing was compiled
