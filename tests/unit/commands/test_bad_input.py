"""Every command that reads a file, fed a non-UTF-8 file, wrong-shaped JSON/TOML and random bytes.

Each must exit 2 with exactly one line on stderr that names the file, and never a traceback (an
exception escaping `main` is one). See docs/bad-input.md for the inventory these cases come from.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pytest

from matrix.cli import main
from tests.unit.models.test_readers_fuzz import SCRFD_OUTPUTS, _scrfd_onnx
from tests.unit.report.sample_runs import three_release_run, write_run

NON_UTF8 = b"\xff\xfe\x00schema = \xc3\x28 1\n\x80\x81\n"
WRONG_JSON = b'{"schema": 3, "results": {"log": "x"}, "release": [1, "a", null]}\n[1, 2]\n"log"\n'
WRONG_TOML = b'schema = "one"\nrelease = 3\n[[entry]]\nid = 7\nmatch = "x"\n[suite]\npip = {a = 1}\n'
RANDOM = bytes(random.Random(16).getrandbits(8) for _ in range(4096))
CONTENTS = {"non-utf8": NON_UTF8, "wrong-json": WRONG_JSON, "wrong-toml": WRONG_TOML, "random": RANDOM}

# (name, the file's name, argv given the bad file, the results folder and a scratch folder)
Argv = Callable[[Path, Path, Path], list[str]]
COMMANDS: list[tuple[str, str, Argv]] = [
    ("report jsonl", "trt86.p1.jsonl", lambda f, run, tmp: ["report", str(f), "--out", str(tmp / "o")]),
    ("report folder", "trt86.p1.jsonl", lambda f, run, tmp: ["report", str(f.parent), "--out", str(tmp / "o")]),
    ("report results.json", "results.json", lambda f, run, tmp: ["report", str(f), "--out", str(tmp / "o")]),
    (
        "report --expectations",
        "exp.toml",
        lambda f, run, tmp: ["report", str(run), "--out", str(tmp / "o"), "--expectations", str(f)],
    ),
    (
        "report --catalogue",
        "versions.toml",
        lambda f, run, tmp: ["report", str(run), "--out", str(tmp / "o"), "--catalogue", str(f)],
    ),
    (
        "report --api-surface",
        "api.json",
        lambda f, run, tmp: ["report", str(run), "--out", str(tmp / "o"), "--api-surface", str(f)],
    ),
    ("diff old", "results.json", lambda f, run, tmp: ["diff", str(f), str(run), "--no-expectations"]),
    ("diff new", "trt86.p1.jsonl", lambda f, run, tmp: ["diff", str(run), str(f.parent), "--no-expectations"]),
    ("merge", "trt86.p1.jsonl", lambda f, run, tmp: ["merge", str(run), str(f), "--out", str(tmp / "m")]),
    ("releases --catalogue", "versions.toml", lambda f, run, tmp: ["releases", "--catalogue", str(f)]),
    ("expectations lint", "exp.toml", lambda f, run, tmp: ["expectations", "lint", str(f)]),
    ("models detect image", "face.jpg", lambda f, run, tmp: ["models", "detect", "--model", "yolov5s", str(f)]),
    (
        "models detect --weights pth",
        "w.pth",
        lambda f, run, tmp: ["models", "detect", "--model", "retinaface-mnet", "--weights", str(f), str(f)],
    ),
    (
        "models detect --weights onnx",
        "w.onnx",
        lambda f, run, tmp: ["models", "detect", "--model", "scrfd-500m", "--weights", str(f), str(f)],
    ),
    (
        "quantize --weights wts",
        "w.wts",
        lambda f, run, tmp: ["quantize", "--model", "retinaface-mnet", "--weights", str(f), "--out", str(tmp / "q")],
    ),
    (
        "run --weights",
        "w.pth",
        lambda f, run, tmp: [
            "run",
            "--host-only",
            "--weights",
            f"retinaface-mnet={f}",
            "--results",
            str(tmp / "r"),
            "--artifacts",
            str(tmp / "a"),
            "--no-report",
        ],
    ),
]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_run(three_release_run(), tmp_path_factory.mktemp("good") / "run")


@pytest.mark.parametrize("content", list(CONTENTS), ids=list(CONTENTS))
@pytest.mark.parametrize(("name", "filename", "argv"), COMMANDS, ids=[c[0] for c in COMMANDS])
def test_bad_file_is_one_line_and_exit_2(
    name: str,
    filename: str,
    argv: Argv,
    content: str,
    good_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "in" / filename
    bad.parent.mkdir()
    bad.write_bytes(CONTENTS[content])
    code = main(argv(bad, good_run, tmp_path))  # an exception escaping here is the traceback a user would see
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith("trt-matrix: error: "), err
    assert filename in lines[0] or "weights" in lines[0], err


@pytest.mark.parametrize("content", list(CONTENTS), ids=list(CONTENTS))
def test_inspect_names_what_a_non_plan_is(content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`inspect` says what a file that is no plan is ("not a TensorRT plan: ...", and what each release
    would log given it), and exits 2 with one line on stderr saying what to give it instead."""
    bad = tmp_path / "model.plan"
    bad.write_bytes(CONTENTS[content])
    assert main(["inspect", str(bad)]) == 2
    captured = capsys.readouterr()
    assert "not a TensorRT plan" in captured.out.splitlines()[1]
    assert "if refused, TensorRT logs:" in captured.out
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"trt-matrix: error: {bad}: not a TensorRT plan: "), lines
    assert "give the file TensorRT serialized" in lines[0]


@pytest.mark.parametrize(
    ("input_shape", "outputs", "said"),
    [
        ([1, 3], SCRFD_OUTPUTS, "expected one input of shape [1, 3, H, W]"),
        (None, SCRFD_OUTPUTS, "no input"),
        ([1, 3, 32, 32], [*SCRFD_OUTPUTS[:8], ("kps_32", [])], "output kps_32 is a scalar"),
    ],
    ids=["2-D input", "no input", "scalar output"],
)
def test_an_onnx_model_of_another_shape_is_one_line(
    input_shape: list[int | str] | None,
    outputs: list[tuple[str, list[int | str]]],
    said: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Valid ONNX that is no SCRFD model: an IndexError traceback before (found by fuzzing)."""
    model = tmp_path / "scrfd.onnx"
    model.write_bytes(_scrfd_onnx(input_shape, outputs))
    assert main(["models", "detect", "--model", "scrfd-500m", "--weights", str(model), str(model)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(model) in lines[0] and said in lines[0], lines
