"""FP32 references with ONNX Runtime on the CPU, and the exported model folders every image compares to.

Contract: `Runner` runs a registry model (or a user's insightface SCRFD `.onnx`, as it is) in ONNX
Runtime and returns outputs by the registry's names. `export_model(...)` writes
`<artifacts>/models/<name>/`: `model.onnx` (byte-identical for the same weights), `reference.npz`
(`input` plus every output by name, from the bundled Grace Hopper photo through the model's
pre-processing), `meta.json` (names, shapes, opset, weights label and sha256, pre-processing, the
reference photo and its letterbox, onnx/onnxruntime/numpy versions) and `calib/batch_NNN.npy`
(pre-processed [B, 3, H, W] float32 batches from the bundled photos, or `--images`, with simple
augmentations); also `eval.npz`/`eval.json` (FP32 outputs on every evaluation photo, evalset.py) and,
for the INT8 models, `model.qdq.onnx`/`qdq.json` (quantize.py) from the same calibration samples.
Host only: onnx and onnxruntime are imported inside the functions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from matrix.errors import UserError
from matrix.models import images, registry
from matrix.models import weights as wmod
from matrix.models.registry import ModelSpec

META_SCHEMA = "trt-matrix.model-meta/1"
CALIB_BATCH = 4


@dataclasses.dataclass
class Runner:
    """An ONNX Runtime session for one model; `outputs(x)` gives {registry output name: array}."""

    spec: ModelSpec
    session: Any
    weights_label: str
    positional: bool = False  # a user's .onnx: outputs are taken in order, not by name

    def outputs(self, x: np.ndarray) -> dict[str, np.ndarray]:
        name = self.session.get_inputs()[0].name
        outs = self.session.run(None, {name: x.astype(np.float32)})
        if self.positional:
            return dict(zip(self.spec.output_names, outs))
        names = [o.name for o in self.session.get_outputs()]
        return dict(zip(names, outs))


def session(model: bytes | str | Path) -> Any:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    source = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(source, sess_options=opts, providers=["CPUExecutionProvider"])


def model_bytes(spec: ModelSpec, weights: wmod.Weights) -> bytes:
    from matrix.models.onnx_build import build_onnx

    return bytes(build_onnx(spec, weights).SerializeToString())


def resolve_weights(spec: ModelSpec, path: str | Path | None, seed: int = 0) -> wmod.Weights:
    return wmod.synthetic(spec, seed) if path is None else wmod.load(spec, path)


def external_scrfd(spec: ModelSpec, path: Path) -> Runner:
    """A user's insightface SCRFD .onnx, used as it is: 9 outputs read by position, as insightface does."""
    try:
        sess = session(path)
    except Exception as exc:  # onnxruntime raises its own exception types for bad files
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{path}: ONNX Runtime cannot load it ({first})") from exc
    ins, outs = sess.get_inputs(), sess.get_outputs()
    if len(ins) != 1 or len(ins[0].shape) != 4:
        raise UserError(
            f"{path}: expected one input of shape [1, 3, H, W], the model has "
            + (", ".join(f"{i.name} {i.shape}" for i in ins)[:200] or "no input")
        )
    if len(outs) != 9:
        raise UserError(
            f"{path}: has {len(outs)} outputs; an SCRFD model with keypoints has 9 "
            "(score, bbox, kps for strides 8, 16, 32)"
        )
    shape = ins[0].shape
    h = shape[2] if isinstance(shape[2], int) and shape[2] > 0 else spec.height
    w = shape[3] if isinstance(shape[3], int) and shape[3] > 0 else spec.width
    try:
        sized = spec.at_size(int(h), int(w))
    except UserError as exc:  # e.g. a fixed input size that is no multiple of the strides
        raise UserError(f"{path}: its input {shape}: {exc}") from None
    widths = [1, 1, 1, 4, 4, 4, 10, 10, 10]
    for o, wd in zip(outs, widths):
        if not o.shape:
            raise UserError(f"{path}: output {o.name} is a scalar; SCRFD's outputs are [N, {wd}] or [1, N, {wd}]")
        if isinstance(o.shape[-1], int) and o.shape[-1] != wd:
            raise UserError(
                f"{path}: output {o.name} has last dimension {o.shape[-1]}, expected {wd} "
                "(insightface order: scores, boxes, keypoints)"
            )
    return Runner(sized, sess, f"file:{path.name} sha256:{wmod.file_sha256(path)[:16]}", positional=True)


def runner_for(name: str, weights_path: str | Path | None = None, seed: int = 0) -> Runner:
    spec = registry.get(name)
    if weights_path is not None and Path(weights_path).suffix.lower() == ".onnx":
        if spec.family != "scrfd":
            raise UserError(
                "{}: .onnx weights are taken as they are only for SCRFD; {} takes {}".format(
                    weights_path, spec.name, ", ".join(spec.weights_formats)
                )
            )
        p = Path(weights_path)
        if not p.is_file():
            raise UserError(f"{p}: no such weights file")
        return external_scrfd(spec, p)
    w = resolve_weights(spec, weights_path, seed)
    if w.anchors is not None:
        spec = spec.with_anchors(w.anchors)
    return Runner(spec, session(model_bytes(spec, w)), w.label)


def _versions() -> dict[str, str]:
    import onnx
    import onnxruntime

    return {"onnx": onnx.__version__, "onnxruntime": onnxruntime.__version__, "numpy": np.__version__}


def calibration_batches(spec: ModelSpec, photos: Sequence[Path], count: int) -> list[np.ndarray]:
    """`count` pre-processed samples (photos, then their augmentations in turn), in batches of 4."""
    from matrix.models.preprocess import preprocess

    loaded = [images.read_image(p) for p in photos]
    samples = [
        preprocess(images.augment(loaded[i % len(loaded)], i // len(loaded)), spec.preprocess)[0] for i in range(count)
    ]
    return [np.concatenate(samples[i : i + CALIB_BATCH]) for i in range(0, len(samples), CALIB_BATCH)]


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buf = io.BytesIO()
    save: Any = np.savez  # numpy's stub types **kwds as savez's keyword flags
    save(buf, **arrays)
    return buf.getvalue()


def _export_int8(
    out: Path,
    spec: ModelSpec,
    data: bytes,
    label: str,
    batches: Sequence[np.ndarray],
    eval_sources: Sequence[Path],
    qdq: bool,
    say: Callable[[str], None],
) -> None:
    """What the INT8 and FP16 cells need beyond reference.npz: FP32 outputs on every evaluation photo
    (eval.npz, eval.json) and, for the INT8 models, the Q/DQ model from the same calibration samples."""
    from matrix.models import evalset, quantize

    evalset.write(out, spec, Runner(spec, session(data), label).outputs, eval_sources)
    say(f"eval.npz: FP32 outputs on {len(eval_sources)} photo(s) for detection accuracy")
    for stale in (out / quantize.QDQ_MODEL, out / quantize.QDQ_META):
        stale.unlink(missing_ok=True)
    if qdq and spec.family in quantize.INT8_FAMILIES:
        quantize.export_qdq(out, data, [b[i : i + 1] for b in batches for i in range(b.shape[0])], say)


def export_model(
    name: str,
    artifacts: Path,
    weights_path: Path | None = None,
    seed: int = 0,
    photos: Sequence[Path] | None = None,
    calib_count: int = 16,
    say: Callable[[str], None] = lambda _msg: None,
    eval_photos: Sequence[Path] | None = None,
    qdq: bool = True,
) -> Path:
    """Writes artifacts/models/<name>/ and returns that folder."""
    import onnx

    from matrix.models.onnx_build import IR_VERSION, OPSET
    from matrix.models.preprocess import preprocess

    spec = registry.get(name)
    say("weights: {}".format(f"synthetic (seed {seed})" if weights_path is None else weights_path))
    w = resolve_weights(spec, weights_path, seed)
    if w.anchors is not None:
        spec = spec.with_anchors(w.anchors)
    data = model_bytes(spec, w)
    onnx.checker.check_model(onnx.load_from_string(data), full_check=True)
    out = artifacts / "models" / name
    (out / "calib").mkdir(parents=True, exist_ok=True)
    (out / "model.onnx").write_bytes(data)
    say(f"model.onnx: {len(data) / 1e6:.1f} MB, onnx.checker passed")
    if spec.netdef:  # the tensorrtx path builds layer by layer from a .wts file, inside the images
        from matrix.models.wts import write_wts

        write_wts(out / "weights.wts", w.tensors)
        say("weights.wts: the same weights for the network-definition builder")

    photo = images.read_image(images.REFERENCE_PHOTO)
    x, box = preprocess(photo, spec.preprocess)
    outputs = Runner(spec, session(data), w.label).outputs(x)
    (out / "reference.npz").write_bytes(_npz_bytes(dict({"input": x}, **outputs)))
    say(f"reference.npz: ONNX Runtime CPU outputs for {images.REFERENCE_PHOTO.name}")

    sources = list(photos) if photos else images.bundled_photos()
    for old in (out / "calib").glob("batch_*.npy"):
        old.unlink()
    batches = calibration_batches(spec, sources, calib_count)
    for i, batch in enumerate(batches):
        np.save(out / "calib" / f"batch_{i:03d}.npy", batch)
    say(f"calib: {calib_count} samples from {len(sources)} photos in {len(batches)} batches")
    _export_int8(out, spec, data, w.label, batches, list(eval_photos) if eval_photos else sources, qdq, say)

    meta = {
        "schema": META_SCHEMA,
        "generated_by": "trt-matrix models export (regenerate with the same command; do not edit)",
        "name": spec.name,
        "family": spec.family,
        "variant": spec.variant,
        "opset": OPSET,
        "ir_version": IR_VERSION,
        "input": {"name": spec.input_name, "shape": list(spec.input_shape)},
        "outputs": [{"name": o.name, "shape": list(o.shape), "role": o.role} for o in spec.outputs],
        "score_outputs": list(spec.score_outputs),
        "strides": list(spec.strides),
        "anchors": [[list(a) for a in level] for level in spec.anchors],
        "has_landmarks": spec.has_landmarks,
        "weights": {
            "label": w.label,
            "sha256": w.sha256,
            "synthetic": weights_path is None,
        },
        "model_sha256": hashlib.sha256(data).hexdigest(),
        "preprocessing": spec.preprocess.to_json(),
        "reference": {
            "image": images.REFERENCE_PHOTO.name,
            "image_sha256": wmod.file_sha256(images.REFERENCE_PHOTO),
            "letterbox": dataclasses.asdict(box),
            "runtime": "onnxruntime CPUExecutionProvider, FP32",
        },
        "calibration": {
            "images": [p.name for p in sources],
            "samples": calib_count,
            "batch": CALIB_BATCH,
            "augmentations": "photo order, then mirrored, darker (x0.7), brighter (x1.3), zoomed 1.25x",
        },
        "published": spec.published,
        "versions": _versions(),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return out
