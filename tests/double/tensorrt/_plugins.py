# mypy: disable-error-code="attr-defined,has-type"
"""Plugins in the double: the registry, the RetinaFaceDecode_TRTM creator, its layer run in numpy, and the
retinaface-int8-scales fault. NOT TensorRT, and no compiled plugin code runs.

Registry (IPluginRegistry docs: a library's static initialiser registers its creators when it is loaded,
REGISTER_TENSORRT_PLUGIN): the double registers the creators of a library it knows by file name once that
library is mapped into the process (/proc/self/maps), which is what `ctypes.CDLL(path, RTLD_GLOBAL)` of
the library does. The one it knows: matrix/models/plugins/retinaface_decode's libtrtm_retinaface_decode.so
(tests/double/bin/nvcc writes it as an ELF shared object with no code; the double supplies the behaviour).

Decode: as decode.cu's kernel (the plugin's source): per level l (strides 8/16/32, anchor sizes 16/32,
64/128, 256/512), per cell and anchor a, score = 1 / (1 + exp(background - face)) from channels 8 + 2a and
9 + 2a, kept when score >= threshold; box centre = prior centre + delta * 0.1 * size, size = size *
exp(delta * 0.2), landmarks = prior centre + delta * 0.1 * size; output row [count, records...] zeroed
first (cudaMemsetAsync). The kernel appends records in whatever order its threads win an atomicAdd; the
double writes them in anchor order, one of the orders the kernel can produce. Checked against
matrix/models/postprocess.py's decode of the same heads (tests/double/test_netdef.py).

Fault retinaface-int8-scales (../shared/research/known-issues.md section 2; matrix/suite/log_patterns.json
"int8-plugin-scales"; https://github.com/wang-xinyu/tensorrtx/issues/1456 on 8.6.1.6): an INT8 build with
a calibrator of a network holding a V2 plugin layer logs TensorRT's two assertion lines and the build fails:
build_serialized_network returns None (known-issues.md section 2, "What a test should observe"). The
process is not aborted by TensorRT: the aborts in the reports come from the applications after the failed
build (tensorrtx's `assert(engine != nullptr)`; in https://github.com/NVIDIA/TensorRT/issues/2698 the
application's own `std::runtime_error("Failed to create object")`, uncaught). The remedy
NVIDIA's maintainer gave (https://github.com/NVIDIA/TensorRT/issues/2621: pin the plugin layer to FP32
and set BuilderFlag.OBEY_PRECISION_CONSTRAINTS) is modelled as working for this plugin: it supports only
FP32 linear I/O (plugin.cpp supportsFormatCombination), so with the pin obeyed no INT8 implementation of
the plugin is considered and its input scales are never asked for; the build proceeds with the plugin in
FP32. The pin without OBEY_PRECISION_CONSTRAINTS is only a preference (IBuilderConfig docs,
PREFER_PRECISION_CONSTRAINTS is the weaker flag) and the assertion stays. (#2698 reports the assertion
even under strict mode for a plugin with no conforming implementation: not this plugin's case.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

import faults  # type: ignore[import-not-found]  # tests/double on sys.path, as tensorrt is
from tensorrt import _model

T = _model.T
LIBRARIES = {"libtrtm_retinaface_decode.so": ("RetinaFaceDecode_TRTM", "1")}
DECODE = "RetinaFaceDecode_TRTM"
STEPS = (8, 16, 32)
MIN_SIZES = ((16.0, 32.0), (64.0, 128.0), (256.0, 512.0))
ANCHORS, RECORD, CHANNELS = 2, 15, 32
SCALES_ASSERT = "2: Assertion scales.size() == 1 failed."
SCALES_LINE = "2: [pluginV2Runner.cpp::getInputHostScale::88] Error Code 2: Internal Error (Assertion scales.size() == 1 failed. )"


def loaded_libraries() -> list[str]:
    """File names of the shared objects mapped into this process."""
    try:
        text = Path("/proc/self/maps").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return sorted({os.path.basename(line.split()[-1]) for line in text.splitlines() if "/" in line})


_UNKNOWN = _model.EnumDefault("PluginFieldType", "UNKNOWN")


_UNKNOWN = _model.EnumDefault("PluginFieldType", "UNKNOWN")


# --- plugin fields ------------------------------------------------------------------------------------
class PluginFieldModel:
    def __init__(self, name: Any, data: Any, type: Any = _UNKNOWN) -> None:
        self._name, self._data, self._type = str(name), np.asarray(data), _model._resolve(type)

    @property
    def name(self) -> str:
        return self._name

    @property
    def data(self) -> Any:
        return self._data

    @property
    def size(self) -> int:
        return int(self._data.size)

    @property
    def type(self) -> Any:
        return self._type


class PluginFieldCollectionModel:
    def __init__(self, arg0: Any) -> None:
        self._fields = list(arg0)

    def __len__(self) -> int:
        return len(self._fields)

    def __getitem__(self, index: int) -> Any:
        return self._fields[index]

    def __iter__(self) -> Any:
        return iter(self._fields)

    def append(self, x: Any) -> None:
        self._fields.append(x)


# --- registry, creator, plugin ------------------------------------------------------------------------
class IPluginRegistryModel:
    def _creators(self) -> dict[tuple[str, str, str], Any]:
        found: dict[tuple[str, str, str], Any] = self.__dict__.setdefault("_found", {})
        for library in loaded_libraries():
            if library in LIBRARIES and (LIBRARIES[library] + ("",)) not in found:
                name, version = LIBRARIES[library]
                creator = T["IPluginCreator"]()
                creator._name, creator._version, creator._library = name, version, library
                found[(name, version, "")] = creator
        return found

    def get_plugin_creator(self, type: str, version: str, plugin_namespace: str = "") -> Any:
        return self._creators().get((type, version, plugin_namespace))

    def get_creator(self, type: str, version: str, plugin_namespace: str = "") -> Any:
        return self.get_plugin_creator(type, version, plugin_namespace)

    @property
    def plugin_creator_list(self) -> list[Any]:
        return list(self._creators().values())


_REGISTRY: list[Any] = []


def get_plugin_registry() -> Any:
    if not _REGISTRY:
        _REGISTRY.append(T["IPluginRegistry"]())
    return _REGISTRY[0]


class IPluginCreatorModel:
    @property
    def name(self) -> str:
        return str(self._name)

    @property
    def plugin_version(self) -> str:
        return str(self._version)

    @property
    def plugin_namespace(self) -> str:
        return ""

    @property
    def field_names(self) -> Any:
        return T["PluginFieldCollection"]([T["PluginField"]("score_threshold", np.zeros(1, np.float32),
                                                            T["PluginFieldType"].FLOAT32)])  # fmt: skip

    def create_plugin(self, name: str, field_collection: Any) -> Any:
        """plugin.cpp's createPlugin: score_threshold (FLOAT32, one value) or the default 0.02."""
        threshold = 0.02
        for field in field_collection:
            if field.name == "score_threshold" and field.type.name == "FLOAT32" and field.size == 1:
                threshold = float(np.asarray(field.data, dtype=np.float32).reshape(-1)[0])
        plugin = T["IPluginV2"]()
        plugin._type, plugin._version, plugin._threshold, plugin._name = self._name, self._version, threshold, name
        return plugin


class IPluginV2Model:
    @property
    def plugin_type(self) -> str:
        return str(self._type)

    @property
    def plugin_version(self) -> str:
        return str(self._version)

    @property
    def num_outputs(self) -> int:
        return 1

    @property
    def plugin_namespace(self) -> str:
        return ""

    def _output_shape(self, per_item: list[tuple[int, ...]]) -> tuple[int, ...]:
        """getOutputDimensions: [1 + 15 * anchors] over the three levels' H x W."""
        if len(per_item) != len(STEPS):
            raise ValueError(f"{DECODE} takes {len(STEPS)} inputs, got {len(per_item)}")
        anchors = sum(s[-2] * s[-1] * ANCHORS for s in per_item)
        return (1 + RECORD * anchors,)


MODELS = {
    "PluginField": PluginFieldModel,
    "PluginFieldCollection": PluginFieldCollectionModel,
    "IPluginRegistry": IPluginRegistryModel,
    "IPluginCreator": IPluginCreatorModel,
    "IPluginV2": IPluginV2Model,
}
FUNCTIONS = {"get_plugin_registry": get_plugin_registry}


# --- the plugin layer in a built engine ---------------------------------------------------------------
def describe(layer: Any, inputs: list[str], output: str) -> dict[str, Any]:
    plugin = layer._get("plugin")
    pinned = layer.precision_is_set and layer.precision.name == "FLOAT"
    pinned = pinned and all(layer.get_output_type(i).name == "FLOAT" for i in range(layer.num_outputs))
    return {
        "name": layer.name,
        "type": plugin.plugin_type,
        "version": plugin.plugin_version,
        "threshold": plugin._threshold,
        "inputs": inputs,
        "output": output,
        "shape": list(layer._outputs[0]._shape()),
        "pinned_fp32": bool(pinned),
    }


def check_build(logger: Any, meta: dict[str, Any], config: Any) -> bool:
    """The retinaface-int8-scales fault at the moment TensorRT meets it: configuring the plugin's inputs in
    an INT8 build with a calibrator (see the module docstring). True when it fired: the build fails."""
    release = str(T["__trt_matrix_double__"])
    if not meta.get("plugins") or not faults.on("retinaface-int8-scales", release):
        return False
    flags = {f.name for f in config._flags}
    if "INT8" not in flags or getattr(config, "_calibrator", None) is None:
        return False
    obeyed = "OBEY_PRECISION_CONSTRAINTS" in flags
    if all(p["pinned_fp32"] for p in meta["plugins"]) and obeyed:
        return False  # NVIDIA/TensorRT#2621's remedy: the pinned FP32 plugin is never asked for INT8 scales
    _model._log(logger, "ERROR", SCALES_ASSERT)  # through the caller's ILogger, as TensorRT does
    _model._log(logger, "ERROR", SCALES_LINE)
    return True


def engine_outputs(meta: dict[str, Any]) -> Any:
    """The engine's outputs when a plugin ends the network (the ONNX graph's outputs are its inputs)."""
    return [tuple((n, tuple(s), d)) for n, s, d in meta["outputs"]] if meta.get("plugins") else None


def decode(levels: list[np.ndarray], threshold: float) -> np.ndarray:
    """decode.cu for a batch: levels [N, 32, H, W] -> rows [N, 1 + 15 * anchors]."""
    batch = levels[0].shape[0]
    anchors = sum(lv.shape[2] * lv.shape[3] * ANCHORS for lv in levels)
    out = np.zeros((batch, 1 + RECORD * anchors), np.float32)
    for item in range(batch):
        records = []
        for lv, step, sizes in zip(levels, STEPS, MIN_SIZES):
            x = lv[item].astype(np.float32)
            _, h, w = x.shape
            ys, xs = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
            cx, cy = ((xs + 0.5) * step).reshape(-1), ((ys + 0.5) * step).reshape(-1)
            per_anchor = []
            for a in range(ANCHORS):
                size = np.float32(sizes[a])
                plane = x.reshape(CHANNELS, -1)
                score = np.float32(1.0) / (np.float32(1.0) + np.exp(plane[8 + 2 * a] - plane[9 + 2 * a]))
                box = plane[4 * a : 4 * a + 4]
                bx, by = cx + box[0] * np.float32(0.1) * size, cy + box[1] * np.float32(0.1) * size
                bw, bh = size * np.exp(box[2] * np.float32(0.2)), size * np.exp(box[3] * np.float32(0.2))
                lmk = plane[12 + 10 * a : 22 + 10 * a]
                marks = [v for k in range(5) for v in (cx + lmk[2 * k] * 0.1 * size, cy + lmk[2 * k + 1] * 0.1 * size)]
                rec = np.stack([bx - bw * 0.5, by - bh * 0.5, bx + bw * 0.5, by + bh * 0.5, score, *marks], axis=1)
                per_anchor.append(rec)
            # the kernel's index: cell-major, anchor-minor within a level
            records.append(np.stack(per_anchor, axis=1).reshape(-1, RECORD))
        rows = np.concatenate(records).astype(np.float32)
        kept = rows[rows[:, 4] >= threshold]
        out[item, 0] = len(kept)
        out[item, 1 : 1 + kept.size] = kept.reshape(-1)
    return out


def run(meta: dict[str, Any], values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The plugin layers on the ONNX graph's outputs: {plugin output name: value}."""
    results = dict(values)
    for p in meta.get("plugins", []):
        if p["type"] != DECODE:
            raise T["NotModelled"](f"the TensorRT double does not model plugin {p['type']}")
        results[p["output"]] = decode([results[n] for n in p["inputs"]], float(p["threshold"]))
    return results
