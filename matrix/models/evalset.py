"""The evaluation photos of a model: pre-processed inputs and their FP32 outputs, for detection accuracy.

Contract: `write(folder, spec, runner_outputs, photos)` (host) pre-processes each photo as the model
wants, runs the FP32 model (`runner_outputs(x)`, ONNX Runtime on the host) and writes
`<folder>/eval.npz` (compressed: `<i>/input` and `<i>/<output name>` per photo) and `eval.json` (photo
names, sha256, letterboxes, FP32 detection counts, how to regenerate). `load(folder)` (Python 3.8,
numpy only: the images read it) returns the `EvalImage`s, or raises `EvalSetMissing` saying how to
make them. INT8 and FP16 cells run each input and compare detections with the stored FP32 ones.
"""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from matrix.models import registry
from matrix.models.postprocess import Detection
from matrix.models.preprocess import Letterbox
from matrix.models.registry import ModelSpec

NPZ = "eval.npz"
INDEX = "eval.json"
SCHEMA = "trt-matrix.eval-set/1"


class EvalSetMissing(Exception):
    """The model folder has no evaluation set; the message says how to export one."""


@dataclasses.dataclass(frozen=True)
class EvalImage:
    name: str
    input: np.ndarray  # [1, 3, H, W] float32, exactly what the FP32 reference ran on
    outputs: dict[str, np.ndarray]  # FP32 reference outputs by name
    letterbox: Letterbox

    def fp32_detections(self, spec: ModelSpec, threshold: float | None = None) -> list[Detection]:
        return registry.decode(spec, self.outputs, self.letterbox, threshold)


def write(
    folder: Path,
    spec: ModelSpec,
    runner_outputs: Callable[[np.ndarray], dict[str, np.ndarray]],
    photos: Sequence[Path],
) -> dict[str, Any]:
    """Writes eval.npz and eval.json for `photos`; returns the index written."""
    from matrix.models import images
    from matrix.models import weights as wmod
    from matrix.models.preprocess import preprocess

    arrays: dict[str, np.ndarray] = {}
    entries = []
    for i, path in enumerate(photos):
        x, box = preprocess(images.read_image(path), spec.preprocess)
        outs = runner_outputs(x)
        arrays[f"{i:03d}/input"] = x
        for name in spec.output_names:
            arrays[f"{i:03d}/{name}"] = np.asarray(outs[name], dtype=np.float32)
        dets = registry.decode(spec, outs, box)
        entries.append(
            {
                "index": i,
                "image": path.name,
                "image_sha256": wmod.file_sha256(path),
                "letterbox": dataclasses.asdict(box),
                "fp32_detections": len(dets),
            }
        )
    buf = io.BytesIO()
    save: Any = np.savez_compressed
    save(buf, **arrays)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / NPZ).write_bytes(buf.getvalue())
    index = {
        "schema": SCHEMA,
        "generated_by": "trt-matrix models export (regenerate with the same command; do not edit)",
        "model": spec.name,
        "outputs": list(spec.output_names),
        "score_threshold": spec.score_threshold,
        "images": entries,
    }
    (folder / INDEX).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return index


def load(folder: Path) -> list[EvalImage]:
    index_path, npz_path = folder / INDEX, folder / NPZ
    if not index_path.is_file() or not npz_path.is_file():
        raise EvalSetMissing(
            f"{folder} has no {INDEX}/{NPZ}: re-run `trt-matrix models export` (it writes the evaluation photos)"
        )
    index = json.loads(index_path.read_text(encoding="utf-8"))
    out: list[EvalImage] = []
    with np.load(str(npz_path)) as data:
        for entry in index["images"]:
            key = "{:03d}".format(entry["index"])
            outputs = {name: data[f"{key}/{name}"] for name in index["outputs"]}
            out.append(EvalImage(entry["image"], data[f"{key}/input"], outputs, Letterbox(**entry["letterbox"])))
    return out
