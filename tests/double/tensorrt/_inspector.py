"""The engine inspector of the double: ICudaEngine.create_engine_inspector and EngineInspector. NOT TensorRT.

Source: NVIDIA's Python API documentation of IEngineInspector ("get_engine_information(format): the
information of all layers", LayerInformationFormat.JSON) and of ProfilingVerbosity ("DETAILED: ... layer
names and layer information"; LAYER_NAMES_ONLY, the default, only names). JSON as TensorRT writes it:
{"Layers": [...]} holding, under DETAILED, one object per layer with "Name", "LayerType", "Inputs" and
"Outputs" (each tensor with "Name" and "Format/Datatype"), and otherwise the layer names as strings.
The layers are the engine's ONNX nodes (Q/DQ nodes are not layers: TensorRT fuses them). A tensor's
format says the precision the build gave it: INT8 where the engine reads it dequantized from int8 (the
calibrated engine's fake quantization, or a Q/DQ model's own) or writes it to a QuantizeLinear, else
FP16 where the build had the FP16 flag, else FP32. Format texts as matrix/suite/layerinfo.py quotes them.
"""

from __future__ import annotations

import json
from typing import Any

from tensorrt import _model

FORMATS = {
    "int8": "Channel major INT8 format where channel % 32 == 0",
    "fp16": "Row major linear FP16 format",
    "fp32": "Row major linear FP32",
}
QDQ = ("QuantizeLinear", "DequantizeLinear")


def build_meta(config: Any) -> dict[str, Any]:
    """What the plan keeps for the inspector: the profiling verbosity the build had."""
    return {"profiling_verbosity": config.profiling_verbosity.name}


def layers(engine: Any) -> list[Any]:
    import onnx

    graph = onnx.load_from_string(engine._onnx).graph
    producer = {out: node.op_type for node in graph.node for out in node.output}
    quantized_next = {i for node in graph.node if node.op_type == "QuantizeLinear" for i in node.input[:1]}
    plain = "fp16" if "FP16" in engine._meta.get("flags", []) else "fp32"
    detailed = engine._meta.get("profiling_verbosity") == "DETAILED"
    out: list[Any] = []
    for index, node in enumerate(n for n in graph.node if n.op_type not in QDQ):
        name = node.name or f"{node.op_type}_{index}"
        if not detailed:
            out.append(name)
            continue
        inputs = [
            {"Name": t, "Format/Datatype": FORMATS["int8" if producer.get(t) == "DequantizeLinear" else plain]}
            for t in node.input
            if t
        ]
        outputs = [
            {"Name": t, "Format/Datatype": FORMATS["int8" if t in quantized_next else plain]} for t in node.output
        ]
        out.append({"Name": name, "LayerType": node.op_type, "Inputs": inputs, "Outputs": outputs})
    for plugin in engine._meta.get("plugins", []):  # FP32 linear only (the plugin's supportsFormatCombination)
        if not detailed:
            out.append(plugin["name"])
            continue
        fp32 = FORMATS["fp32"]
        inputs = [{"Name": t, "Format/Datatype": fp32} for t in plugin["inputs"]]
        outputs = [{"Name": plugin["output"], "Format/Datatype": fp32}]
        out.append({"Name": plugin["name"], "LayerType": "PluginV2", "Inputs": inputs, "Outputs": outputs})
    return out


class EngineInspectorModel:
    _engine: Any  # set by create()

    def get_engine_information(self, format: Any) -> str:
        if format.name != "JSON":
            raise _model.T["NotModelled"]("the TensorRT double does not model LayerInformationFormat." + format.name)
        return json.dumps({"Layers": layers(self._engine)})


def create(engine: Any) -> Any:
    inspector = _model.T["EngineInspector"]()
    inspector._engine = engine  # keep_alive<0,1> (the inspector holds its engine)
    return inspector


MODELS = {"EngineInspector": EngineInspectorModel}
