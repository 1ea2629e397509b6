"""The BOM probe reads facts from the machine itself and never guesses one (runs on Python 3.8)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

from matrix.suite import bom


@pytest.mark.parametrize(
    ("number", "version"),
    [
        (8401, "8.4.1"),
        (8503, "8.5.3"),
        (8601, "8.6.1"),
        (7103, "7.1.3"),
        (100001, "10.0.1"),
        (100800, "10.8.0"),
        (110400, "11.4.0"),
    ],
)
def test_decode_tensorrt_number(number: int, version: str) -> None:
    assert bom.decode_tensorrt_number(number) == version


def test_parse_trtexec_banner() -> None:
    text = "&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --help\n=== Model Options ===\n"
    assert bom.parse_trtexec_banner(text) == ("8.6.1", "[TensorRT v8601]")
    assert bom.parse_trtexec_banner("&&&& RUNNING TensorRT.trtexec [TensorRT v100001] # trtexec") == (
        "10.0.1",
        "[TensorRT v100001]",
    )
    assert bom.parse_trtexec_banner("trtexec: error while loading shared libraries") is None


def test_parse_os_release() -> None:
    text = 'NAME="Ubuntu"\nVERSION_ID="22.04"\n# comment\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\n'
    values = bom.parse_os_release(text)
    assert values["PRETTY_NAME"] == "Ubuntu 22.04.4 LTS" and values["ID"] == "ubuntu"


def test_parse_nvidia_driver() -> None:
    text = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  580.159.04  Tue Sep  9 2025\nGCC version: gcc 12\n"
    assert bom.parse_nvidia_driver(text) == "580.159.04"
    assert (
        bom.parse_nvidia_driver("NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  535.54.03  Release Build")
        == "535.54.03"
    )
    assert bom.parse_nvidia_driver("no driver here") is None


def test_probe_reports_every_fact_and_a_note_for_each_absent_one() -> None:
    result = bom.probe()
    assert result["schema"] == bom.SCHEMA
    for fact in bom.FACTS:
        assert fact in result
        if result[fact] is None:
            assert result["notes"][fact], fact
        else:
            assert fact not in result["notes"], fact
    assert result["python"] == platform.python_version()
    json.dumps(result)  # JSON-ready


def test_tensorrt_absent_or_present_matches_a_real_import() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import tensorrt; print(tensorrt.__version__)"],
        capture_output=True,
        text=True,
        check=False,
    )
    result = bom.probe()
    if child.returncode == 0:
        assert result["tensorrt_python"] == child.stdout.strip()
    else:
        assert result["tensorrt_python"] is None
        assert result["notes"]["tensorrt_python"] == child.stderr.strip().splitlines()[-1]


def test_a_crash_in_the_child_becomes_a_note_naming_the_signal() -> None:
    with pytest.raises(bom.Absent, match="killed by SIGSEGV"):
        bom.python_child("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")


def test_a_hanging_child_is_cut_off() -> None:
    with pytest.raises(bom.Absent, match=r"did not finish within 0\.5 s"):
        bom.python_child("import time; time.sleep(30)", timeout=0.5)


def test_a_failing_probe_function_does_not_lose_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> dict:  # type: ignore[type-arg]
        raise KeyError("boom")

    probes = tuple((name, broken if name == "numpy" else fn) for name, fn in bom.PROBES)
    monkeypatch.setattr(bom, "PROBES", probes)
    result = bom.probe(skip=("gpu",))
    assert result["numpy"] is None and result["notes"]["numpy"] == "probe error: KeyError: 'boom'"
    assert result["gpu"] is None and result["notes"]["gpu"] == "not probed (skipped on request)"
    assert result["python"] == platform.python_version()


def test_the_module_runs_as_a_script() -> None:
    out = subprocess.run(
        [sys.executable, bom.__file__, "--skip=gpu"], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out)["notes"]["gpu"] == "not probed (skipped on request)"


@pytest.mark.parametrize(
    ("banner", "version"),
    [
        ("&&&& RUNNING TensorRT.trtexec [TensorRT v8601] # trtexec --help", "8.6.1"),
        ("&&&& RUNNING TensorRT.trtexec [TensorRT v8401] # trtexec", "8.4.1"),
        ("&&&& PASSED TensorRT.trtexec [TensorRT v100300]", "10.3.0"),
        ("&&&& FAILED TensorRT.trtexec [TensorRT v100001] # ./trtexec", "10.0.1"),
        ("[TensorRT v110400]", "11.4.0"),
    ],
)
def test_trtexec_banners_from_public_logs(banner: str, version: str) -> None:
    parsed = bom.parse_trtexec_banner(banner)
    assert parsed is not None and parsed[0] == version
