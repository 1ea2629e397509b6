"""Weights for the models: deterministic synthetic ones, or real ones read from a file and checked.

Contract: `synthetic(spec, seed)` returns `Weights` labelled `synthetic(seed=N)`: He-normal
convolutions drawn from a per-tensor seeded generator, batch-norm statistics set from the
activations of two fixed synthetic "dead leaves" images (so every layer's output stays near zero
mean and unit variance through the depth instead of exploding or dying, on photos too), and head
layers scaled so that scores spread (most anchors low, a few high) and regressions stay moderate.
`load(spec, path)` reads a `.pth` (pth.py) or tensorrtx `.wts` (wts.py) file and `check` refuses,
with a `UserError` naming the first mismatching tensor (missing, wrong shape, or unexpected),
anything that does not match the architecture. `architecture(spec)` lists the expected tensors.
Python 3.8, numpy only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import zlib
from collections import OrderedDict
from pathlib import Path

import numpy as np

from matrix.errors import UserError
from matrix.models import preprocess, pth, wts
from matrix.models.nets import yolov5
from matrix.models.nets.numpy_ops import NumpyOps
from matrix.models.nets.ops import ROLE_LOGIT, ROLE_LOGIT_PAIR, ROLE_YOLO, Shape, SpecSource, WeightSource
from matrix.models.registry import ModelSpec

CALIBRATION_SIZE = 640  # statistics are taken at the models' published input size, whatever size is built
IGNORED_SUFFIXES = (".num_batches_tracked",)


@dataclasses.dataclass(frozen=True)
class Weights:
    tensors: dict[str, np.ndarray]
    label: str  # "synthetic(seed=0)" or "file:<name>"
    sha256: str  # of the file, or of the synthetic tensors (names, shapes and bytes, in order)
    anchors: tuple[tuple[tuple[float, float], ...], ...] | None = None  # YOLOv5 anchors from the file


def architecture(spec: ModelSpec) -> OrderedDict[str, Shape]:
    """The tensors the architecture needs, by state-dict name, in the order the layers use them."""
    src = SpecSource()
    small = spec.at_size(64, 64)
    NumpyOps(src).run(small.program(), np.zeros(small.input_shape, dtype=np.float32))
    return OrderedDict(src.spec)


def tensors_sha256(tensors: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr, dtype="<f4")
        h.update(f"{name}:{list(a.shape)}\n".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _round(values: np.ndarray) -> np.ndarray:
    """Four significant digits: statistics that a different BLAS moves in the last bit stay the same."""
    return np.array([float(f"{v:.4g}") for v in np.asarray(values, dtype=np.float64)], dtype=np.float32)


def _head_targets(role: str, channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel (mean, std) a synthetic head's outputs are scaled to."""
    mean = np.zeros(channels)
    std = np.full(channels, 0.3)
    idx = np.arange(channels)
    if role == ROLE_LOGIT:  # sigmoid scores: mostly ~0.05, about 2% above 0.5
        mean[:], std[:] = -3.0, 1.5
    elif role == ROLE_LOGIT_PAIR:  # [background, face]: the face column's softmax has the same spread
        mean[:] = np.where(idx % 2 == 0, 1.5, -1.5)
        std[:] = 1.0
    elif role == ROLE_YOLO:
        c = idx % yolov5.NO
        mean = np.select([c < 2, c < 4, c == 4], [0.0, -0.5, -3.0], -2.0)
        std = np.select([c < 2, c < 4], [1.0, 0.5], 1.5)
    return mean, std


class SyntheticSource(WeightSource):
    """Draws weights on request and calibrates statistics from what the numpy backend shows it."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.tensors: OrderedDict[str, np.ndarray] = OrderedDict()

    def _rng(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(name.encode("utf-8"))])

    def get(self, name: str, shape: Shape) -> np.ndarray:
        if name not in self.tensors:
            if len(shape) == 4:
                fan_in = shape[1] * shape[2] * shape[3]
                value = self._rng(name).standard_normal(shape) * np.sqrt(2.0 / fan_in)
            elif name.endswith(".scale"):
                value = np.ones(shape)
            else:  # a convolution's bias
                value = np.zeros(shape)
            self.tensors[name] = value.astype(np.float32)
        return self.tensors[name]

    def observe_bn(self, name: str, pre_bn: np.ndarray) -> None:
        if name + ".weight" in self.tensors:
            return
        y = pre_bn.astype(np.float64)
        mean = y.mean(axis=(0, 2, 3))
        var = y.var(axis=(0, 2, 3))
        var = np.maximum(var, 1e-3 * max(float(var.mean()), 1e-6))  # a dead channel stays finite
        rng = self._rng(name)
        c = mean.shape[0]
        self.tensors[name + ".weight"] = rng.uniform(0.5, 1.5, c).astype(np.float32)
        self.tensors[name + ".bias"] = (rng.standard_normal(c) * 0.25).astype(np.float32)
        self.tensors[name + ".running_mean"] = _round(mean)
        self.tensors[name + ".running_var"] = _round(var)

    def observe_head(self, name: str, role: str, out: np.ndarray) -> bool:
        w, b = self.tensors[name + ".weight"], self.tensors[name + ".bias"]
        y = out.astype(np.float64)
        mean, std = y.mean(axis=(0, 2, 3)), np.maximum(y.std(axis=(0, 2, 3)), 1e-6)
        target_mean, target_std = _head_targets(role, w.shape[0])
        gain = _round(target_std / std).astype(np.float64)
        self.tensors[name + ".weight"] = (w * gain.reshape(-1, 1, 1, 1)).astype(np.float32)
        self.tensors[name + ".bias"] = _round((b - mean) * gain + target_mean)
        return True


def dead_leaves(seed: int, size: int, discs: int, max_radius: float, shading: bool, noise: float) -> np.ndarray:
    """A "dead leaves" image: overlapping flat discs with a scale-invariant radius law, RGB uint8.

    Photographs share its statistics (edges at every scale, flat regions, occlusions) far better than
    white or 1/f noise, so batch-norm statistics taken from it carry over to real photos."""
    rng = np.random.default_rng([seed, 0xDEAD])
    img = np.empty((size, size, 3), dtype=np.float64)
    img[:] = rng.uniform(0, 255, 3)
    rmin, rmax = size / 100.0, size * max_radius
    for _ in range(discs):
        u = rng.uniform()
        r = 1.0 / np.sqrt(u / rmin**2 + (1.0 - u) / rmax**2)  # density ~ 1/r^3
        cx, cy = rng.uniform(-r, size + r, 2)
        colour = rng.uniform(0, 255, 3)
        x0, x1 = int(max(0.0, cx - r)), int(min(size, cx + r + 1))
        y0, y1 = int(max(0.0, cy - r)), int(min(size, cy + r + 1))
        if x0 >= x1 or y0 >= y1:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        inside = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
        img[y0:y1, x0:x1][inside] = colour
    if shading:
        g = rng.uniform(-1, 1, 2)
        ramp = np.add.outer(g[1] * (np.arange(size) / size - 0.5), g[0] * (np.arange(size) / size - 0.5))
        img *= (1.0 + 0.4 * ramp)[:, :, None]
    img += rng.normal(0, noise, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def calibration_images(seed: int, size: int = CALIBRATION_SIZE) -> list[np.ndarray]:
    """The fixed images the statistics come from: a dense one, and a sparse one with a lighting ramp."""
    return [
        dead_leaves(seed * 2, size, 1500, 0.25, False, 4.0),
        dead_leaves(seed * 2 + 1, size, 150, 0.5, True, 2.0),
    ]


_SYNTHETIC_CACHE: dict[tuple[str, int], Weights] = {}


def synthetic(spec: ModelSpec, seed: int = 0) -> Weights:
    """Deterministic synthetic weights for a model (cached per process); the same at every input size."""
    key = (spec.name, seed)
    if key not in _SYNTHETIC_CACHE:
        full = spec.at_size(CALIBRATION_SIZE, CALIBRATION_SIZE)
        batch = np.concatenate([preprocess.preprocess(img, full.preprocess)[0] for img in calibration_images(seed)])
        src = SyntheticSource(seed)
        NumpyOps(src, dtype=np.float64).run(full.program(), batch)
        tensors = OrderedDict((k, src.tensors[k]) for k in architecture(spec))
        _SYNTHETIC_CACHE[key] = Weights(
            tensors=tensors, label=f"synthetic(seed={seed})", sha256=tensors_sha256(tensors)
        )
    return _SYNTHETIC_CACHE[key]


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check(spec: ModelSpec, tensors: dict[str, np.ndarray], where: str) -> OrderedDict[str, np.ndarray]:
    """Tensors reshaped to the architecture; the first mismatch is a UserError naming the tensor."""
    expected = architecture(spec)
    extras = set(yolov5.EXTRA_TENSORS) if spec.family == "yolov5" else set()
    out: OrderedDict[str, np.ndarray] = OrderedDict()
    for name, shape in expected.items():
        if name not in tensors:
            raise UserError(f"{where}: does not match {spec.name}: missing tensor {name} (shape {list(shape)})")
        arr = np.asarray(tensors[name], dtype=np.float32)
        if arr.ndim == 1 and len(shape) != 1 and arr.size == int(np.prod(shape)):
            arr = arr.reshape(shape)  # .wts keeps no shapes: a flat array of the right size is accepted
        if tuple(arr.shape) != tuple(shape):
            has = f"{arr.size} values" if arr.ndim == 1 and len(shape) != 1 else f"shape {list(arr.shape)}"
            raise UserError(
                f"{where}: does not match {spec.name}: tensor {name} has {has}, "
                f"the architecture needs shape {list(shape)} ({int(np.prod(shape))} values)"
            )
        out[name] = arr
    for name in tensors:
        if name not in expected and name not in extras and not name.endswith(IGNORED_SUFFIXES):
            raise UserError(
                f"{where}: does not match {spec.name}: unexpected tensor {name} "
                "(not part of this architecture; is it another model's file?)"
            )
    return out


def load(spec: ModelSpec, path: str | Path) -> Weights:
    """Real weights from a `.pth` / `.pt` state dict or a tensorrtx `.wts` file, checked against spec."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: no such weights file")
    suffix = p.suffix.lower()
    if suffix in (".pth", ".pt"):
        raw: dict[str, np.ndarray] = pth.read_pth(p)
    elif suffix == ".wts":
        raw = wts.read_wts(p)
    else:
        raise UserError(
            "{}: unknown weights format {!r}; {} takes {}".format(
                p, suffix or "(none)", spec.name, ", ".join(spec.weights_formats)
            )
        )
    anchors = yolov5.anchors_from(raw) if spec.family == "yolov5" else None
    tensors = check(spec, raw, str(p))
    return Weights(tensors=tensors, label=f"file:{p.name}", sha256=file_sha256(p), anchors=anchors)
