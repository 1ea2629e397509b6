"""Layer precisions from the engine inspector's JSON (3.8): format texts to precisions, counts, and the
flags for an INT8 build that runs no INT8 layer and for a pinned layer in the wrong precision."""

from __future__ import annotations

from typing import Any

import pytest

from matrix.suite import layerinfo


@pytest.mark.parametrize(
    ("fmt", "precision"),
    [
        ("Row major linear FP32", "fp32"),
        ("Channel major FP16 format where channel % 8 == 0", "fp16"),
        ("Thirty-two wide channel vectorized row major Int8 format", "int8"),
        ("Channel major INT8 format where channel % 16 == 0", "int8"),
        ("Row major linear BFloat16 format", "bf16"),
        ("Row major linear Int32", "int32"),
        ("Row major linear UInt8 format", "uint8"),
        ("Half", "fp16"),
        ("Float", "fp32"),
        ("Unknown format", "other"),
    ],
)
def test_format_texts_name_their_precision(fmt: str, precision: str) -> None:
    assert layerinfo.precision(fmt) == precision


def layer(name: str, kind: str, inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    def tensors(fmts: list[str]) -> list[dict[str, Any]]:
        return [{"Name": f"t{i}", "Dimensions": [1, 8, 4, 4], "Format/Datatype": f} for i, f in enumerate(fmts)]

    return {"Name": name, "LayerType": kind, "Inputs": tensors(inputs), "Outputs": tensors(outputs)}


INT8 = "Thirty-two wide channel vectorized row major Int8 format"
FP32 = "Row major linear FP32"
FP16 = "Channel major FP16 format where channel % 8 == 0"


def test_an_int8_engine_counts_its_int8_layers() -> None:
    layers = [
        layer("conv1 + relu", "CaskConvolution", [INT8], [INT8]),
        layer("reformat", "Reformat", [INT8], [FP32]),
        layer("decode_plugin", "PluginV2", [FP32], [FP32]),
    ]
    summary = layerinfo.summarize(layers)
    assert summary["detailed"] and summary["by_precision"] == {"int8": 2, "fp32": 1}
    assert layerinfo.problems(summary, "int8", {"decode_plugin": "fp32"}) == []


def test_an_int8_build_that_is_quietly_fp16_is_flagged() -> None:
    summary = layerinfo.summarize([layer("conv1", "CaskConvolution", [FP16], [FP16])])
    problems = layerinfo.problems(summary, "int8")
    assert problems == ["INT8 was asked but no layer runs in INT8 (fp16 1): the engine is quietly fp16"]


def test_a_pinned_layer_in_another_precision_is_flagged() -> None:
    summary = layerinfo.summarize(
        [layer("conv", "CaskConvolution", [INT8], [INT8]), layer("decode_plugin", "PluginV2", [INT8], [FP32])]
    )
    assert layerinfo.problems(summary, "int8", {"decode_plugin": "fp32"}) == [
        "decode_plugin (PluginV2) runs in fp32/int8, pinned to fp32"
    ]
    assert layerinfo.problems(summary, "int8", {"absent": "fp32"}) == [
        "no layer named 'absent' in the engine (pinned to fp32)"
    ]


def test_the_reformat_layer_tensorrt_inserts_before_the_plugin_is_not_the_plugin() -> None:
    """INT8 in, FP32 out is what a Reformat in front of an FP32-pinned plugin does by design: judging it as
    the plugin (a substring match on its name) failed decode-plugin-fp32 on the very conversion it asks for."""
    summary = layerinfo.summarize(
        [
            layer("conv", "CaskConvolution", [INT8], [INT8]),
            layer("Reformatting CopyNode for Input Tensor 0 to decode_plugin", "Reformat", [INT8], [FP32]),
            layer("decode_plugin", "PluginV2", [FP32], [FP32]),
        ]
    )
    assert layerinfo.problems(summary, "int8", {"decode_plugin": "fp32"}) == []
    only_reformat = layerinfo.summarize(
        [layer("Reformatting CopyNode for Input Tensor 0 to decode_plugin", "Reformat", [INT8], [FP32])]
    )
    assert layerinfo.problems(only_reformat, "fp32", {"decode_plugin": "fp32"}) == [
        "no layer named 'decode_plugin' in the engine (pinned to fp32)"
    ]


def test_a_fused_layer_that_lists_the_pinned_one_counts_and_a_longer_name_does_not() -> None:
    fused = layerinfo.summarize([layer("conv9 + decode_plugin", "Myelin", [INT8], [INT8])])
    assert layerinfo.problems(fused, "int8", {"decode_plugin": "fp32"}) == [
        "conv9 + decode_plugin (Myelin) runs in int8, pinned to fp32"
    ]
    other = layerinfo.summarize([layer("decode_plugin_2", "PluginV2", [FP32], [FP32])])
    assert layerinfo.problems(other, "int8", {"decode_plugin": "fp32"})[-1].startswith("no layer named")


def test_names_only_or_no_inspector_cannot_tell() -> None:
    names_only = layerinfo.summarize(["conv1", "conv2"])
    assert names_only["detailed"] is False and "named the layers only" in names_only["why"]
    assert layerinfo.problems(names_only, "int8") == []
    missing = layerinfo.summarize(None, "this release has no engine inspector")
    assert missing == {"detailed": False, "why": "this release has no engine inspector"}
