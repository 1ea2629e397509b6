"""`trt-matrix doctor`: fake installations in temporary folders (a hand-written ELF libnvinfer, a trtexec
script), real plans, and the real 8.6.1 and 10.8 bindings through the project's bindings environment."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from matrix.cli import main
from tests.unit.offline import fake_trt
from tests.unit.suite import real_bindings
from tests.unit.suite import synthetic_plans as syn

FIXTURES = syn.fixture_dir()
ROOT = Path(__file__).resolve().parents[3]
X86 = platform.machine() in ("x86_64", "AMD64")


def _machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """libnvinfer.so.8.6.1 (getInferLibVersion() = 8601) and a trtexec printing the 8.5.1 banner."""
    lib = fake_trt.libnvinfer(tmp_path / "trt86" / "lib", "8.6.1")
    exe = fake_trt.trtexec_script(tmp_path / "trt85" / "bin" / "trtexec", 8501)
    monkeypatch.setenv("PATH", f"{exe.parent}:/usr/bin:/bin")
    monkeypatch.setenv("LD_LIBRARY_PATH", str(lib.parent))
    return lib, exe


def _doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["doctor", "--no-system", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.skipif(FIXTURES is None, reason="no ../shared/fixtures/engines here")
def test_a_trtexec_and_a_library_that_disagree_and_a_plan_of_another_release(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert FIXTURES is not None
    lib, exe = _machine(tmp_path, monkeypatch)
    plan = FIXTURES / "13_trt-samples-for-hackathon-cn__model-Dim1.plan"  # built by 10.0.1.6
    code, out = _doctor(capsys, str(plan))
    assert code == 1 and out["consistent"] is False
    found = {(i["kind"], i["version"]): i for i in out["installations"]}
    assert set(found) == {("library", "8.6.1"), ("trtexec", "8.5.1")}
    assert found["library", "8.6.1"]["path"] == str(lib)
    # read from the library itself where it loads here, else from its file name
    assert found["library", "8.6.1"]["source"] == ("getInferLibVersion() = 8601" if X86 else "file name")
    assert found["trtexec", "8.5.1"]["path"] == str(exe) and found["trtexec", "8.5.1"]["loads"] is None
    assert any("disagree" in p and "8.6.1" in p and "8.5.1" in p for p in out["problems"])
    (checked,) = out["plans"]
    assert checked["builder_version"] == "10.0.1.6"
    refusal = checked["verdicts"][str(lib)]
    assert refusal["loads"] is False and "no plan loads in an older runtime" in refusal["why"]
    assert any(p.startswith(f"{plan} will not load with library 8.6.1") for p in out["problems"])
    assert "rebuild 13_trt-samples-for-hackathon-cn__model-Dim1.plan with TensorRT 8.6.1" in " ".join(out["fixes"])
    assert any("10.0.1.6 (the build that made it)" in f for f in out["fixes"])
    main(["doctor", "--no-system", str(plan)])
    text = capsys.readouterr().out
    assert "library  8.6.1" in text and "trtexec  8.5.1" in text and "refused" in text and "Fixes:" in text


def test_a_plan_the_trtexec_release_would_load_but_the_library_would_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lib, exe = _machine(tmp_path, monkeypatch)
    plan = tmp_path / "built-by-trtexec.engine"
    plan.write_bytes(syn.ptrt_current((8, 5, 1, 7), 232))
    code, out = _doctor(capsys, str(plan))
    assert code == 1
    verdicts = out["plans"][0]["verdicts"]
    assert verdicts[str(lib)]["loads"] is False
    assert "loads only in the exact build" in verdicts[str(lib)]["why"]
    # trtexec's banner names the release, not the build: 8.5.1 loads it only if it is 8.5.1.7 itself
    assert verdicts[str(exe)]["loads"] is None and "exactly 8.5.1.7" in verdicts[str(exe)]["why"]
    assert any("rebuild built-by-trtexec.engine with" in f for f in out["fixes"])


def test_nothing_found_says_so_and_exits_0_or_1_with_a_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.delenv("LD_LIBRARY_PATH", raising=False)
    assert main(["doctor", "--no-system"]) == 0
    assert "no TensorRT on this machine" in capsys.readouterr().out
    plan = tmp_path / "a.engine"
    plan.write_bytes(syn.ptrt_current((8, 5, 1, 7), 232))
    code, out = _doctor(capsys, str(plan))
    assert code == 1 and out["installations"] == []
    assert out["problems"] == [f"{plan}: no TensorRT installation with a known version here to load it"]


def test_unreadable_files_and_broken_links_give_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lib, _ = _machine(tmp_path, monkeypatch)
    (lib.parent / "libnvinfer.so").symlink_to("libnvinfer.so.9.9.9")  # dangling
    (lib.parent / "libnvinfer.so.7.1.3").write_bytes(b"\x7fELF" + b"\xff" * 20)  # truncated ELF
    (lib.parent / "libnvinfer.so.7").mkdir()  # a directory under the library's name
    bin_dir = tmp_path / "trt85" / "bin"
    (bin_dir / "other").mkdir()
    (tmp_path / "gone").mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}:{tmp_path / 'missing'}:{tmp_path / 'gone'}:/usr/bin:/bin")
    missing, folder = tmp_path / "missing.engine", tmp_path
    code = main(["doctor", "--no-system", "--json", str(missing), str(folder)])
    captured = capsys.readouterr()
    out, err = json.loads(captured.out), captured.err
    assert code == 2
    assert [p.get("error") for p in out["plans"]] == ["no such file", "is a directory, not a plan file"]
    assert f"trt-matrix: error: {missing}: no such file" in err and "Traceback" not in err
    assert any(p.startswith(f"broken link: {lib.parent / 'libnvinfer.so'}") for p in out["problems"])
    broken = next(i for i in out["installations"] if i["path"].endswith("libnvinfer.so.7.1.3"))
    assert broken["version"] == "7.1.3" and any("unreadable ELF file" in n for n in broken["notes"])


def test_an_lfs_pointer_or_an_onnx_file_as_plan_is_bad_input_saying_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _machine(tmp_path, monkeypatch)
    lfs, onnx = tmp_path / "model.engine", tmp_path / "model.onnx"
    lfs.write_bytes(syn.lfs_pointer())
    onnx.write_bytes(b"\x08\x07\x12\x07pytorch" + b"\0" * 32)
    code = main(["doctor", "--no-system", str(lfs), str(onnx)])
    captured = capsys.readouterr()
    assert code == 2, captured.out
    errors = captured.err.strip().splitlines()
    assert errors[0].startswith(f"trt-matrix: error: {lfs}: a Git LFS pointer") and "git lfs pull" in errors[0]
    assert errors[1].startswith(f"trt-matrix: error: {onnx}: not a TensorRT plan: ") and "--saveEngine" in errors[1]
    assert "could not be checked" in captured.out or "Problems:" in captured.out
    assert not any(str(lfs) in line and "will not load" in line for line in captured.out.splitlines())


def test_a_crashing_interpreter_probe_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\nkill -SEGV $$\n", encoding="utf-8")
    fake.chmod(0o755)
    code, out = _doctor(capsys, "--python", str(fake), "--python", str(tmp_path / "nope"))
    assert code == 1
    assert [p.split(":")[0] for p in out["problems"]] == [str(fake), str(tmp_path / "nope")]
    assert all("could not be probed" in p for p in out["problems"])


@pytest.mark.parametrize(("version", "number"), [("8.6.1", "8"), ("10.8.0.43", "10")])
def test_the_real_bindings_are_found_with_the_library_they_load(version: str, number: str) -> None:
    env = real_bindings.env_for(version)
    proc = subprocess.run(
        [sys.executable, "-m", "matrix", "doctor", "--no-system", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    (python,) = [i for i in out["installations"] if i["kind"] == "python"]
    assert python["version"] == version
    assert python["path"].startswith(env["PYTHONPATH"].split(os.pathsep)[0])
    libdir = env["TRT_MATRIX_STANDIN_LIBDIR"]
    assert python["loads"] == os.path.join(libdir, f"libnvinfer.so.{number}")
    (library,) = [i for i in out["installations"] if i["kind"] == "library"]
    assert library["path"] == python["loads"] and library["version"] == number
    assert any("stand-in" in n for n in library["notes"])
