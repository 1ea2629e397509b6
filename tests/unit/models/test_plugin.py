"""The RetinaFace decode plugin: compiles against each release's headers; its kernel decodes as numpy does.

What these prove: `test_compiles_against_release_headers` compiles decode.cu and plugin.cpp with nvcc
(`-c`, no linking: libnvinfer is absent here) against the NvInfer headers of each TensorRT tag found
under third_party/trt-<tag>/include (fetched from NVIDIA/TensorRT, never committed): the plugin
class implements every pure virtual of IPluginV2IOExt / IPluginCreator in that release and uses
only names its headers declare. It does not prove TensorRT accepts or runs the plugin: that needs
libnvinfer and a GPU inside an image. `test_kernel_matches_numpy_on_a_gpu` runs the CUDA kernel
alone (a test harness, no TensorRT) on a GPU, where one is present, against the numpy decoding of
postprocess.py.
"""

from __future__ import annotations

import ctypes.util
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import plugin, postprocess
from matrix.models.nets import retinaface

ROOT = Path(__file__).resolve().parents[3]
HEADER_DIRS = sorted(p for p in (ROOT / "third_party").glob("trt-*/include") if (p / "NvInfer.h").is_file())
NVCC = shutil.which("nvcc")


def _has_gpu() -> bool:
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return False
    proc = subprocess.run([smi, "-L"], capture_output=True, check=False)
    return proc.returncode == 0 and b"GPU" in proc.stdout


@pytest.mark.slow
@pytest.mark.parametrize("include", HEADER_DIRS or [None], ids=[p.parent.name for p in HEADER_DIRS] or ["no-headers"])
def test_compiles_against_release_headers(include: Path | None, tmp_path: Path) -> None:
    if NVCC is None:
        pytest.skip("nvcc not found: the compile check needs the CUDA toolkit")
    if include is None:
        pytest.skip(
            "no TensorRT headers under third_party/trt-<tag>/include; fetch NVIDIA/TensorRT and run "
            "`git --git-dir=<mirror> archive <tag> include | tar -x -C third_party/trt-<tag>`"
        )
    result = plugin.build(tmp_path, include=include, arch="sm_75", compile_only=True)
    for obj in ("decode.o", "plugin.o"):
        data = (tmp_path / obj).read_bytes()
        assert data[:4] == b"\x7fELF", f"{obj} is not an object file"
    nm = shutil.which("nm")
    if nm is not None:
        symbols = subprocess.run([nm, "-C", str(tmp_path / "plugin.o")], stdout=subprocess.PIPE, check=True)
        text = symbols.stdout.decode()
        assert "vtable for trtm::RetinaFaceDecode" in text
        assert "vtable for trtm::RetinaFaceDecodeCreator" in text
    assert "compile-check" in result.command


def test_build_reports_a_missing_compiler(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="nvcc not found"):
        plugin.build(tmp_path, nvcc="no-such-nvcc-here", compile_only=True)


def test_build_reports_missing_headers(tmp_path: Path) -> None:
    if NVCC is None:
        pytest.skip("nvcc not found: the header check comes after the compiler check")
    with pytest.raises(UserError, match=r"NvInfer\.h not found"):
        plugin.build(tmp_path, include=tmp_path, compile_only=True)


class _Registry:
    def __init__(self, modern_only: bool) -> None:
        self.asked: list[str] = []
        if not modern_only:
            self.get_plugin_creator = self._get("get_plugin_creator")
        self.get_creator = self._get("get_creator")

    def _get(self, how: str) -> Any:
        def get(name: str, version: str, namespace: str) -> Any:
            self.asked.append(f"{how}({name}, {version}, {namespace!r})")
            return object()

        return get


@pytest.mark.parametrize("modern_only", [False, True], ids=["8.x-10.x registry", "11.x registry"])
def test_load_finds_the_creator_by_feature(modern_only: bool) -> None:
    libm = ctypes.util.find_library("m")
    if libm is None:
        pytest.skip("no libm to stand in for the plugin library")
    registry = _Registry(modern_only)
    trt = type("T", (), {"get_plugin_registry": staticmethod(lambda: registry)})
    assert plugin.load(trt, libm) is not None
    how = "get_creator" if modern_only else "get_plugin_creator"
    assert registry.asked == [f"{how}(RetinaFaceDecode_TRTM, 1, '')"]


def _reference(levels: list[np.ndarray], threshold: float, h: int, w: int) -> np.ndarray:
    """The plugin's records for one item, computed with postprocess.py from the same maps."""

    def rows(x: np.ndarray, width: int) -> np.ndarray:
        out: np.ndarray = x.transpose(0, 2, 3, 1).reshape(-1, width)
        return out

    loc = np.concatenate([rows(lv[:, 0:8], 4) for lv in levels])
    logits = np.concatenate([rows(lv[:, 8:12], 2) for lv in levels])
    ldm = np.concatenate([rows(lv[:, 12:32], 10) for lv in levels])
    score = 1.0 / (1.0 + np.exp(logits[:, 0] - logits[:, 1]))
    priors = postprocess.retinaface_priors(h, w, retinaface.STEPS, retinaface.MIN_SIZES)
    boxes, pts = postprocess.retinaface_boxes(loc, ldm, priors, retinaface.VARIANCE, h, w)
    keep = score >= threshold
    rec = np.concatenate([boxes[keep], score[keep, None], pts[keep]], axis=1)
    return rec[np.lexsort((rec[:, 0], rec[:, 4]))]


@pytest.mark.slow
def test_kernel_matches_numpy_on_a_gpu(tmp_path: Path) -> None:
    if NVCC is None or not _has_gpu():
        pytest.skip("needs nvcc and a CUDA device (nvidia-smi -L lists none here)")
    exe = tmp_path / "harness"
    src = plugin.SOURCE_DIR
    subprocess.run(
        [
            NVCC,
            "-O2",
            "-arch=native",
            "-I",
            str(src),
            str(src / "decode.cu"),
            str(Path(__file__).with_name("gpu") / "decode_harness.cu"),
            "-o",
            str(exe),
        ],
        check=True,
    )
    rng = np.random.default_rng(7)
    batch, size = 2, 160
    levels = []
    for step in retinaface.STEPS:
        lv = rng.normal(0.0, 1.0, (batch, 32, size // step, size // step)).astype(np.float32)
        lv[:, 9:12:2] += 1.5 * rng.normal(size=(batch, 2, size // step, size // step)).astype(np.float32)
        levels.append(lv)
    blob = np.array([batch] + [d for lv in levels for d in lv.shape[2:]], dtype=np.int32).tobytes()
    blob += b"".join(lv.tobytes() for lv in levels)
    (tmp_path / "in.bin").write_bytes(blob)
    threshold = 0.5
    subprocess.run([str(exe), str(tmp_path / "in.bin"), str(tmp_path / "out.bin"), str(threshold)], check=True)
    out = np.fromfile(tmp_path / "out.bin", dtype=np.float32).reshape(batch, -1)
    assert out.shape[1] == 1 + 15 * retinaface.num_anchors(size, size)
    for item in range(batch):
        got = postprocess.plugin_records(out[item])
        got = got[np.lexsort((got[:, 0], got[:, 4]))]
        want = _reference([lv[item : item + 1] for lv in levels], threshold, size, size)
        assert len(want) > 20, "the random maps should put a good number of anchors over the threshold"
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)


def test_finds_headers_and_links_through_versioned_libraries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inc = tmp_path / "include"
    inc.mkdir()
    (inc / "NvInfer.h").write_text("// stand-in\n")
    monkeypatch.setenv("TRT_INCLUDE", str(inc))
    assert plugin.find_include() == inc
    lib = tmp_path / "tensorrt_libs"
    lib.mkdir()
    (lib / "libnvinfer.so.10").write_bytes(b"")  # what pip wheels ship: no unversioned name
    monkeypatch.setenv("TRT_LIB", str(lib))
    assert plugin.find_lib() == lib
    link_dir = plugin._linkable(lib, tmp_path / "out")
    assert (link_dir / "libnvinfer.so").resolve() == (lib / "libnvinfer.so.10").resolve()
    with pytest.raises(UserError, match=r"no libnvinfer\.so"):
        plugin._linkable(tmp_path / "include", tmp_path / "out2")
