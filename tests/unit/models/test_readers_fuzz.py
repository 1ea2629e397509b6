"""Fuzzing the model files' readers: each yields its value or its documented error, nothing else.

thresholds.toml (`compare.load_thresholds`: ValueError), qdq.toml (`quantize.load_settings`:
UserError), `.wts` (`wts.read_wts`) and `.pth` (`pth.read_pth`): UserError, and a user's SCRFD `.onnx`
(`reference.external_scrfd`: UserError). Each message is one line naming the file. The TOML files are
the real ones damaged at any level (tests/unit/fuzzing.py); the weight files are small real ones (the
tiny torch files of data/, a .wts written by write_wts, an SCRFD-shaped ONNX model), cut at every byte
and damaged by random bytes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, List, Union

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("onnx", reason="qdq.toml and a user's ONNX model are read on the host only")

from matrix.errors import UserError
from matrix.models import compare, pth, quantize, reference, registry, wts
from tests.unit.fuzzing import FUZZ, damaged, mutated, toml_text
from tests.unit.models.conftest import DATA

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

THRESHOLDS = tomllib.loads(compare.THRESHOLDS_FILE.read_text(encoding="utf-8"))
QDQ = tomllib.loads(quantize.SETTINGS_FILE.read_text(encoding="utf-8"))
QDQ["measurement"] = QDQ["measurement"][:1]  # every shape the file holds, at a fraction of the cost
PTH_FILES = {name: (DATA / name).read_bytes() for name in ("tiny_zip.pth", "tiny_legacy.pth")}


def _one_line_naming(exc: Exception, path: Path) -> None:
    assert str(path) in str(exc) and "\n" not in str(exc), str(exc)


def _wts_bytes() -> bytes:
    tensors = {"conv.weight": np.arange(6, dtype=np.float32) - 2.5, "conv.bias": np.array([0.5, -1e-3], np.float32)}
    return "2\nconv.weight 6 {}\nconv.bias 2 {}\n".format(
        " ".join(np.asarray(tensors["conv.weight"], ">f4").tobytes().hex()[i : i + 8] for i in range(0, 48, 8)),
        " ".join(np.asarray(tensors["conv.bias"], ">f4").tobytes().hex()[i : i + 8] for i in range(0, 16, 8)),
    ).encode("ascii")


WTS = _wts_bytes()

Dim = Union[int, str]
Shape = List[Dim]


def _scrfd_onnx(input_shape: Shape | None, outputs: list[tuple[str, Shape]]) -> bytes:
    """An ONNX model with SCRFD's interface shapes as given: each output a constant of its shape."""
    from onnx import TensorProto, helper

    inputs = [] if input_shape is None else [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, input_shape)]
    nodes, outs = [], []
    for name, shape in outputs:
        concrete = [d if isinstance(d, int) else 1 for d in shape]
        value = helper.make_tensor(name + "_value", TensorProto.FLOAT, concrete, [0.25] * int(np.prod(concrete)))
        nodes.append(helper.make_node("Constant", [], [name], value=value))
        outs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    graph = helper.make_graph(nodes, "scrfd-shaped", inputs, outs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


SCRFD_OUTPUTS: list[tuple[str, Shape]] = [
    (f"{kind}_{stride}", [1, n, width])
    for kind, width in (("score", 1), ("bbox", 4), ("kps", 10))
    for stride, n in ((8, 8), (16, 2), (32, 1))
]
SCRFD_ONNX = _scrfd_onnx([1, 3, 32, 32], SCRFD_OUTPUTS)


def _read_or_refuse(read: Callable[[Path], Any], path: Path, error: type[Exception] = UserError) -> None:
    try:
        read(path)
    except error as exc:
        assert type(exc) is error, f"{type(exc).__name__}: {exc}"
        _one_line_naming(exc, path)


def test_the_real_files_and_samples_are_read(tmp_path: Path) -> None:
    """The fuzz tests start from files the readers accept: otherwise they would test refusals only."""
    assert compare.load_thresholds(compare.THRESHOLDS_FILE)["int8"]["object_score"] == 0.5
    assert quantize.load_settings().method == "MinMax"
    (tmp_path / "w.wts").write_bytes(WTS)
    assert list(wts.read_wts(tmp_path / "w.wts")) == ["conv.weight", "conv.bias"]
    (tmp_path / "m.onnx").write_bytes(SCRFD_ONNX)
    runner = reference.external_scrfd(registry.get("scrfd-500m"), tmp_path / "m.onnx")
    assert runner.spec.height == 32 and runner.positional


@FUZZ
@given(doc=mutated(THRESHOLDS, toml=True))
def test_thresholds_toml(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "thresholds.toml"
    path.write_text(toml_text(doc), encoding="utf-8")
    _read_or_refuse(compare.load_thresholds, path, ValueError)


@FUZZ
@given(doc=mutated(QDQ, toml=True))
def test_qdq_toml(doc: Any, tmp_path: Path) -> None:
    path = tmp_path / "qdq.toml"
    path.write_text(toml_text(doc), encoding="utf-8")
    _read_or_refuse(quantize.load_settings, path)


@pytest.mark.parametrize(
    ("name", "read", "error"),
    [("thresholds.toml", compare.load_thresholds, ValueError), ("qdq.toml", quantize.load_settings, UserError)],
)
def test_toml_readers_refuse_bytes_that_are_not_utf8(
    name: str, read: Callable[[Path], Any], error: type[Exception], tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_bytes(b'[settings]\nmethod = "\xff"\n')
    with pytest.raises(error, match="not UTF-8") as info:
        read(path)
    assert type(info.value) is error
    _one_line_naming(info.value, path)


def _every_cut(data: bytes, suffix: str, read: Callable[[Path], Any], tmp_path: Path) -> int:
    path = tmp_path / ("cut" + suffix)
    refused = 0
    for end in range(len(data)):
        path.write_bytes(data[:end])
        try:
            read(path)
        except UserError as exc:
            assert type(exc) is UserError
            _one_line_naming(exc, path)
            refused += 1
    return refused


def test_wts_cut_at_every_byte(tmp_path: Path) -> None:
    assert _every_cut(WTS, ".wts", wts.read_wts, tmp_path) > len(WTS) // 2


@pytest.mark.parametrize("name", list(PTH_FILES))
def test_pth_cut_at_every_byte(name: str, tmp_path: Path) -> None:
    assert _every_cut(PTH_FILES[name], ".pth", pth.read_pth, tmp_path) > len(PTH_FILES[name]) // 2


def test_onnx_cut_at_every_byte(tmp_path: Path) -> None:
    spec = registry.get("scrfd-500m")
    _every_cut(SCRFD_ONNX, ".onnx", lambda p: reference.external_scrfd(spec, p), tmp_path)


@FUZZ
@given(data=damaged(WTS))
def test_wts_bytes(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "w.wts"
    path.write_bytes(data)
    _read_or_refuse(wts.read_wts, path)


@FUZZ
@given(data=st.sampled_from(sorted(PTH_FILES)).flatmap(lambda name: damaged(PTH_FILES[name])))
def test_pth_bytes(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "w.pth"
    path.write_bytes(data)
    _read_or_refuse(pth.read_pth, path)


_names = st.sampled_from(["N", "height", ""])
_input_shapes = st.lists(st.one_of(st.integers(-1, 64), _names), max_size=5)
_shapes = st.lists(st.one_of(st.integers(-1, 12), _names), max_size=4)  # small: each output is a constant
_outputs = st.lists(st.tuples(st.sampled_from(["score", "bbox", "kps", "x"]), _shapes), max_size=11)


@st.composite
def _onnx_interfaces(draw: st.DrawFn) -> bytes:
    """SCRFD's interface with one part damaged: the input's rank and dims, the outputs' count and shapes."""
    input_shape: Shape | None = [1, 3, 32, 32]
    outputs = list(SCRFD_OUTPUTS)
    what = draw(st.sampled_from(["input", "no input", "outputs", "one output"]))
    if what == "input":
        input_shape = draw(_input_shapes)
    elif what == "no input":
        input_shape = None
    elif what == "outputs":
        outputs = [(f"{kind}_{i}", shape) for i, (kind, shape) in enumerate(draw(_outputs))]
    else:
        i = draw(st.integers(0, len(outputs) - 1))
        outputs[i] = (outputs[i][0], draw(_shapes))
    if any(isinstance(d, int) and d < 0 for _, shape in outputs for d in shape):
        outputs = [(name, [abs(d) if isinstance(d, int) else d for d in shape]) for name, shape in outputs]
    return _scrfd_onnx(input_shape, outputs)


@FUZZ
@given(data=st.one_of(_onnx_interfaces(), damaged(SCRFD_ONNX)))
def test_scrfd_onnx(data: bytes, tmp_path: Path) -> None:
    path = tmp_path / "scrfd.onnx"
    path.write_bytes(data)
    _read_or_refuse(lambda p: reference.external_scrfd(registry.get("scrfd-500m"), p), path)
