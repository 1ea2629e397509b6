"""Build and load the RetinaFace decode plugin (plugins/retinaface_decode) inside an image.

Contract: `build(out_dir, ...)` runs the plugin's Makefile with nvcc against the image's TensorRT
headers and libraries and returns the path of `libtrtm_retinaface_decode.so` (or, with
`compile_only=True`, of the object files' folder: no libnvinfer needed, which is what the host's
compile check uses). `load(trt, so_path)` loads the library (ctypes, RTLD_GLOBAL, which registers
the creator through REGISTER_TENSORRT_PLUGIN) and returns the creator from the plugin registry;
`create(trt, creator, threshold)` makes a plugin object for `netdef.build_network`. The `tensorrt`
module is passed in, never imported here. Python 3.8, standard library and numpy only.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from matrix.errors import UserError

SOURCE_DIR = Path(__file__).with_name("plugins") / "retinaface_decode"
PLUGIN_NAME = "RetinaFaceDecode_TRTM"
PLUGIN_VERSION = "1"
LIBRARY = "libtrtm_retinaface_decode.so"
INCLUDE_CANDIDATES = (
    "/usr/include/x86_64-linux-gnu",
    "/usr/include/aarch64-linux-gnu",
    "/usr/include",
    "/usr/local/tensorrt/include",
)
LIB_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/local/tensorrt/lib",
    "/usr/lib64",
)


class PluginBuildError(UserError):
    """nvcc or make failed; the message carries the tail of their output."""


@dataclasses.dataclass(frozen=True)
class BuildResult:
    path: Path  # the .so, or the folder of object files for a compile-only build
    command: list[str]
    output: str


def find_include(extra: Sequence[str] = ()) -> Path | None:
    """A folder holding NvInfer.h: $TRT_INCLUDE, then the usual places."""
    env = os.environ.get("TRT_INCLUDE")
    for d in ([env] if env else []) + list(extra) + list(INCLUDE_CANDIDATES):
        if d and (Path(d) / "NvInfer.h").is_file():
            return Path(d)
    return None


def find_lib(extra: Sequence[str] = ()) -> Path | None:
    """A folder with libnvinfer.so[.N]: $TRT_LIB, LD_LIBRARY_PATH, pip's `tensorrt_libs`, the usual places."""
    dirs = [os.environ.get("TRT_LIB", ""), *extra, *os.environ.get("LD_LIBRARY_PATH", "").split(":")]
    try:
        import importlib.util

        spec = importlib.util.find_spec("tensorrt_libs")
        if spec is not None and spec.submodule_search_locations:
            dirs.extend(spec.submodule_search_locations)
    except (ImportError, ValueError):
        pass
    for d in dirs + list(LIB_CANDIDATES):
        if d and Path(d).is_dir() and any(Path(d).glob("libnvinfer.so*")):
            return Path(d)
    return None


def _linkable(lib: Path, out_dir: Path) -> Path:
    """-lnvinfer needs libnvinfer.so; pip wheels ship only libnvinfer.so.N: link through a symlink."""
    if (lib / "libnvinfer.so").exists():
        return lib
    versioned = sorted(lib.glob("libnvinfer.so.*"))
    if not versioned:
        raise UserError(f"{lib}: no libnvinfer.so in it")
    link_dir = out_dir / "lib"
    link_dir.mkdir(parents=True, exist_ok=True)
    link = link_dir / "libnvinfer.so"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(versioned[0])
    return link_dir


def build(
    out_dir: str | Path,
    *,
    include: str | Path | None = None,
    lib: str | Path | None = None,
    nvcc: str = "nvcc",
    arch: str = "native",
    compile_only: bool = False,
    timeout: float = 600.0,
) -> BuildResult:
    out = Path(out_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    nvcc_path = shutil.which(nvcc)
    if nvcc_path is None:
        raise UserError(f"nvcc not found ({nvcc!r}): the plugin is compiled with the CUDA toolkit's nvcc")
    if shutil.which("make") is None:
        raise UserError("make not found: the plugin is built with its Makefile")
    inc = Path(include) if include is not None else find_include()
    if inc is None or not (inc / "NvInfer.h").is_file():
        raise UserError("NvInfer.h not found{}; set TRT_INCLUDE".format(f" in {inc}" if inc else ""))
    cmd = [
        "make",
        "-C",
        str(SOURCE_DIR),
        "NVCC=" + nvcc_path,
        "TRT_INCLUDE=" + str(inc),
        "ARCH=" + arch,
        "OUT=" + str(out),
    ]
    if compile_only:
        cmd.append("compile-check")
    else:
        found = Path(lib) if lib is not None else find_lib()
        if found is None:
            raise UserError("libnvinfer.so not found; set TRT_LIB (compile_only=True needs none)")
        cmd.append("TRT_LIB=" + str(_linkable(found, out)))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    text = proc.stdout.decode("utf-8", "replace")
    if proc.returncode != 0:
        tail = "\n".join(text.strip().splitlines()[-15:])
        raise PluginBuildError(f"building the decode plugin failed (make exit {proc.returncode}):\n{tail}")
    return BuildResult(path=out if compile_only else out / LIBRARY, command=cmd, output=text)


def load(trt: Any, so_path: str | Path) -> Any:
    """Loads the library (its static initialiser registers the creator) and returns the creator."""
    ctypes.CDLL(str(so_path), mode=ctypes.RTLD_GLOBAL)
    registry = trt.get_plugin_registry()
    if hasattr(registry, "get_plugin_creator"):
        creator = registry.get_plugin_creator(PLUGIN_NAME, PLUGIN_VERSION, "")
    else:  # removed some day: 10.x adds get_creator for every creator kind
        creator = registry.get_creator(PLUGIN_NAME, PLUGIN_VERSION, "")
    if creator is None:
        raise UserError(f"{so_path} loaded, but no creator {PLUGIN_NAME} v{PLUGIN_VERSION} is registered")
    return creator


def create(trt: Any, creator: Any, threshold: float = 0.02, name: str = "retinaface_decode") -> Any:
    field = trt.PluginField("score_threshold", np.array([threshold], dtype=np.float32), trt.PluginFieldType.FLOAT32)
    plugin = creator.create_plugin(name, trt.PluginFieldCollection([field]))
    if plugin is None:
        raise UserError(f"{PLUGIN_NAME}.create_plugin returned None")
    return plugin
