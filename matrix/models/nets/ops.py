"""The operations a model program is written in, and where their weights come from.

Contract: a model program (`nets/retinaface.py`, `nets/scrfd.py`, `nets/yolov5.py`) calls only the
methods of `Ops`; a backend (numpy here, ONNX in `onnx_build.py`, TensorRT in `netdef.py`) gives
them meaning. Every weight a program needs is asked for by its state-dict name and shape through
`Ops.weight`, which takes it from a `WeightSource`: `SpecSource` records the architecture's tensor
list (names and shapes, in order), `DictSource` serves a loaded or synthetic weight dict and refuses
a missing tensor or a wrong shape with a `UserError` that names it. Python 3.8, numpy only.
"""

from __future__ import annotations

import abc
from typing import Any, Sequence, Tuple

import numpy as np

from matrix.errors import UserError

Shape = Tuple[int, ...]

# Head roles: what a head convolution predicts, so that synthetic weights can give its outputs a
# useful spread (weights.py) and so that readers know which outputs carry scores.
ROLE_LOGIT = "logit"  # per-channel sigmoid scores (SCRFD)
ROLE_LOGIT_PAIR = "logit-pair"  # [background, face] softmax pairs per anchor (RetinaFace)
ROLE_REG = "reg"  # box / landmark regressions
ROLE_YOLO = "yolo"  # YOLOv5 rows of 85: x y w h objectness classes...


class WeightSource(abc.ABC):
    """Serves weights by name; subclasses decide where they come from."""

    @abc.abstractmethod
    @abc.abstractmethod
    def get(self, name: str, shape: Shape) -> np.ndarray: ...

    def observe_bn(self, name: str, pre_bn: np.ndarray) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Sees a batch norm's input (numpy backend only); synthetic weights set statistics here."""

    def observe_head(self, name: str, role: str, out: np.ndarray) -> bool:
        """Sees a head's output (numpy backend only); True if it changed that head's weights."""
        return False


class SpecSource(WeightSource):
    """Records which tensors the architecture needs, in the order the program asks for them."""

    def __init__(self) -> None:
        self.spec: dict[str, Shape] = {}

    def get(self, name: str, shape: Shape) -> np.ndarray:
        if name in self.spec and self.spec[name] != shape:
            raise AssertionError(f"{name} asked for with two shapes")
        self.spec[name] = shape
        return np.zeros(shape, dtype=np.float32)


class DictSource(WeightSource):
    """Serves tensors from a dict; a missing name or a wrong shape is a UserError naming it."""

    def __init__(self, weights: dict[str, np.ndarray], where: str = "weights") -> None:
        self.weights = weights
        self.where = where
        self.used: list[str] = []

    def get(self, name: str, shape: Shape) -> np.ndarray:
        if name not in self.weights:
            raise UserError(f"{self.where}: missing tensor {name} (expected shape {list(shape)})")
        arr = self.weights[name]
        if tuple(arr.shape) != tuple(shape):
            raise UserError(
                f"{self.where}: tensor {name} has shape {list(arr.shape)}, the architecture needs {list(shape)}"
            )
        self.used.append(name)
        return np.asarray(arr, dtype=np.float32)


def conv_out(size: int, k: int, s: int, p: int) -> int:
    return (size + 2 * p - k) // s + 1


class Ops(abc.ABC):
    """The vocabulary of the model programs. Tensors are backend handles; `shape(t)` gives NCHW."""

    def __init__(self, source: WeightSource) -> None:
        self.source = source

    # --- weights -------------------------------------------------------------------------------
    def weight(self, name: str, shape: Shape) -> np.ndarray:
        return self.source.get(name, tuple(int(d) for d in shape))

    def bn_params(self, name: str, channels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return (
            self.weight(name + ".weight", (channels,)),
            self.weight(name + ".bias", (channels,)),
            self.weight(name + ".running_mean", (channels,)),
            self.weight(name + ".running_var", (channels,)),
        )

    # --- graph ---------------------------------------------------------------------------------
    @abc.abstractmethod
    def shape(self, x: Any) -> Shape: ...

    @abc.abstractmethod
    def input(self, name: str, shape: Shape) -> Any: ...

    @abc.abstractmethod
    def output(self, x: Any, name: str) -> Any: ...

    @abc.abstractmethod
    def conv_bn(
        self,
        x: Any,
        conv: str,
        bn: str,
        out_ch: int,
        k: int,
        s: int = 1,
        p: int | None = None,
        groups: int = 1,
        eps: float = 1e-5,
    ) -> Any:
        """Convolution without bias (`conv`.weight) followed by batch norm (`bn`.*)."""
        ...

    @abc.abstractmethod
    def conv(
        self,
        x: Any,
        name: str,
        out_ch: int,
        k: int,
        s: int = 1,
        p: int | None = None,
        groups: int = 1,
        role: str = "",
    ) -> Any:
        """Convolution with bias (`name`.weight, `name`.bias)."""
        ...

    @abc.abstractmethod
    def act(self, x: Any, kind: str, alpha: float = 0.0) -> Any:
        """kind: relu, leaky (LeakyReLU with slope alpha), sigmoid, silu."""
        ...

    @abc.abstractmethod
    def add(self, a: Any, b: Any) -> Any: ...

    @abc.abstractmethod
    def scale(self, x: Any, name: str) -> Any:
        """Multiply by a learned scalar (mmcv `Scale`, weight `name`.scale)."""
        ...

    @abc.abstractmethod
    def concat(self, xs: Sequence[Any], axis: int = 1) -> Any: ...

    @abc.abstractmethod
    def upsample_like(self, x: Any, ref: Any) -> Any:
        """Nearest-neighbour resize of x to ref's height and width (an integer factor)."""
        ...

    @abc.abstractmethod
    def maxpool(self, x: Any, k: int, s: int, p: int) -> Any: ...

    @abc.abstractmethod
    def avgpool_ceil(self, x: Any, k: int) -> Any:
        """AvgPool2d(k, stride k, ceil_mode=True, count_include_pad=False)."""
        ...

    @abc.abstractmethod
    def rows(self, x: Any, width: int) -> Any:
        """[N, A*width, H, W] -> [N, H*W*A, width] (PyTorch's permute(0, 2, 3, 1).reshape(N, -1, width))."""
        ...

    @abc.abstractmethod
    def softmax_last(self, x: Any) -> Any: ...

    @abc.abstractmethod
    def yolo_decode(self, x: Any, stride: int, anchors: Sequence[tuple[float, float]]) -> Any:
        """YOLOv5 Detect for one level: [N, na*no, H, W] -> [N, na*H*W, no], sigmoid and box decoding."""
        ...

    # --- shared helpers ------------------------------------------------------------------------
    def conv_out_shape(self, x: Any, out_ch: int, k: int, s: int, p: int) -> Shape:
        n, _, h, w = self.shape(x)
        return (n, out_ch, conv_out(h, k, s, p), conv_out(w, k, s, p))


def pad_of(k: int, p: int | None) -> int:
    return k // 2 if p is None else p


def yolo_grid(h: int, w: int, na: int) -> np.ndarray:
    """Cell offsets [1, na, h, w, 2] as (x, y)."""
    yv, xv = np.meshgrid(np.arange(h, dtype=np.float32), np.arange(w, dtype=np.float32), indexing="ij")
    grid = np.stack((xv, yv), axis=-1)[None, None]
    return np.ascontiguousarray(np.broadcast_to(grid, (1, na, h, w, 2)), dtype=np.float32)


def yolo_anchor_grid(h: int, w: int, anchors: Sequence[tuple[float, float]]) -> np.ndarray:
    """Anchor sizes in pixels [1, na, h, w, 2]."""
    a = np.asarray(anchors, dtype=np.float32).reshape(1, len(anchors), 1, 1, 2)
    return np.ascontiguousarray(np.broadcast_to(a, (1, len(anchors), h, w, 2)), dtype=np.float32)
