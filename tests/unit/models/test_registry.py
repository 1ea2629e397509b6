"""The registry: the suite's model names, output layouts that the programs really produce, and the
published shapes they are compared with."""

from __future__ import annotations

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import registry
from matrix.models.nets.numpy_ops import NumpyOps
from matrix.models.nets.ops import SpecSource
from matrix.suite import cells

# What the published exports produce at 640x640 (sources: registry.ModelSpec.published; tests in
# test_onnx_build.py compare the built ONNX graphs with this table).
PUBLISHED = {
    "retinaface-mnet": {"loc": (1, 16800, 4), "conf": (1, 16800, 2), "landms": (1, 16800, 10)},
    "retinaface-r50": {"loc": (1, 16800, 4), "conf": (1, 16800, 2), "landms": (1, 16800, 10)},
    "scrfd-500m": {
        "score_8": (1, 12800, 1),
        "score_16": (1, 3200, 1),
        "score_32": (1, 800, 1),
        "bbox_8": (1, 12800, 4),
        "bbox_16": (1, 3200, 4),
        "bbox_32": (1, 800, 4),
        "kps_8": (1, 12800, 10),
        "kps_16": (1, 3200, 10),
        "kps_32": (1, 800, 10),
    },
    "yolov5s": {"output": (1, 25200, 85)},
}
PUBLISHED["scrfd-2.5g"] = PUBLISHED["scrfd-500m"]
PUBLISHED_INPUTS = {
    "retinaface-mnet": "input0",
    "retinaface-r50": "input0",
    "scrfd-500m": "input.1",
    "scrfd-2.5g": "input.1",
    "yolov5s": "images",
}


def test_names_are_the_suites() -> None:
    assert tuple(registry.names()) == cells.MODELS
    assert {n for n in registry.names() if registry.get(n).netdef} == set(cells.NETDEF_MODELS)


@pytest.mark.parametrize("name", registry.NAMES)
def test_specs_say_what_the_published_models_take_and_give(name: str) -> None:
    spec = registry.get(name)
    assert spec.input_name == PUBLISHED_INPUTS[name]
    assert spec.input_shape == (1, 3, 640, 640)
    assert {o.name: o.shape for o in spec.outputs} == PUBLISHED[name]
    assert list(spec.output_names) == list(PUBLISHED[name])  # the order matters: insightface reads by position
    assert set(spec.score_outputs) <= set(spec.output_names)
    assert spec.has_landmarks == (spec.family != "yolov5")


@pytest.mark.parametrize("name", registry.NAMES)
@pytest.mark.parametrize("size", [(64, 96), (128, 128)])
def test_the_program_produces_the_spec_at_any_size(name: str, size: tuple[int, int]) -> None:
    spec = registry.get(name).at_size(*size)
    outs = NumpyOps(SpecSource()).run(spec.program(), np.zeros(spec.input_shape, np.float32))
    assert list(outs) == list(spec.output_names)
    assert {k: v.shape for k, v in outs.items()} == {o.name: o.shape for o in spec.outputs}


def test_object_scores_count_every_anchor() -> None:
    for name in registry.NAMES:
        spec = registry.get(name).at_size(64, 64)
        outs = NumpyOps(SpecSource()).run(spec.program(), np.zeros(spec.input_shape, np.float32))
        scores = registry.object_scores(spec, outs)
        rows = sum(o.shape[1] for o in spec.outputs if o.name in spec.score_outputs)
        assert scores.shape == (rows,)


def test_bad_names_and_sizes_are_user_errors() -> None:
    with pytest.raises(UserError, match=r"unknown model 'retinaface'; the models are: retinaface-mnet, "):
        registry.get("retinaface")
    with pytest.raises(UserError, match="multiples of 32"):
        registry.get("yolov5s").at_size(100, 100)
    assert registry.get("scrfd").name == "scrfd-500m"
