"""Pre-processing: an RGB image to a model's input tensor, and the letterbox that maps boxes back.

Contract: `preprocess(image, pre)` takes an HxWx3 uint8 RGB array and a `Preprocess` recipe and returns
the NCHW float32 input [1, 3, H, W] and the `Letterbox` (scale and offset) that `Letterbox.to_image`
uses to put model-input coordinates back into the image's pixels. Resizing is bilinear with
half-pixel centres (OpenCV's INTER_LINEAR geometry, in float32, no antialiasing), done in numpy so the
same code runs on the host (references) and inside the images (GPU checks). The recipes:
RetinaFace BGR minus (104, 117, 123), top-left, padded with the mean; SCRFD RGB (x - 127.5) / 128,
top-left, padded with 0 as insightface; YOLOv5 RGB / 255, centred letterbox padded with 114.
Python 3.8, numpy only.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Preprocess:
    height: int
    width: int
    channel_order: str  # "RGB" or "BGR": the order the model's input channels are in
    mean: tuple[float, float, float]  # subtracted, in the model's channel order, pixel units
    std: tuple[float, float, float]  # divided by, after the mean
    placement: str  # "top-left" (insightface, RetinaFace here) or "center" (YOLOv5's letterbox)
    pad: tuple[float, float, float]  # pixel value of the padding, RGB, before normalisation
    rounding: str = "int"  # how the resized size is rounded: "int" (insightface: truncate) or "round"

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Letterbox:
    """Where the image landed in the model input: input = image * scale + (pad_x, pad_y)."""

    scale: float
    pad_x: float
    pad_y: float
    image_width: int
    image_height: int

    def to_image(self, xy: np.ndarray) -> np.ndarray:
        """Model-input x/y pairs (last axis even: x, y, x, y, ...) to image pixels."""
        out = np.array(xy, dtype=np.float32, copy=True)
        out[..., 0::2] = (out[..., 0::2] - self.pad_x) / self.scale
        out[..., 1::2] = (out[..., 1::2] - self.pad_y) / self.scale
        return out


def resize_bilinear(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """HxWxC array (any dtype) to height x width x C float32, bilinear, half-pixel centres."""
    src = image.astype(np.float32)
    h, w = src.shape[:2]

    def axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = (np.arange(n_out, dtype=np.float64) + 0.5) * (n_in / n_out) - 0.5
        pos = np.clip(pos, 0.0, n_in - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    y0, y1, fy = axis(height, h)
    x0, x1, fx = axis(width, w)
    rows = src[y0] * (1.0 - fy)[:, None, None] + src[y1] * fy[:, None, None]
    out: np.ndarray = rows[:, x0] * (1.0 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]
    return out


def as_rgb(image: np.ndarray) -> np.ndarray:
    """Grey (HxW or HxWx1) or RGBA to HxWx3 uint8 RGB."""
    img = np.asarray(image)
    if img.ndim == 2:
        img = img[:, :, None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise ValueError(f"expected an HxW, HxWx1, HxWx3 or HxWx4 image, got shape {img.shape}")
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3]).astype(np.uint8)


def letterbox_geometry(h: int, w: int, pre: Preprocess) -> tuple[int, int, float, float, float]:
    """(new_h, new_w, scale, pad_x, pad_y) for an h x w image."""
    if pre.rounding == "int":  # insightface SCRFD.detect: the longer side fills, the other truncates
        if h / w > pre.height / pre.width:
            new_h = pre.height
            new_w = int(new_h / (h / w))
        else:
            new_w = pre.width
            new_h = int(new_w * (h / w))
        scale = new_h / h
    else:  # YOLOv5 letterbox: r = min(H/h, W/w), new size rounded
        scale = min(pre.height / h, pre.width / w)
        new_h, new_w = round(h * scale), round(w * scale)
    new_h, new_w = max(1, min(new_h, pre.height)), max(1, min(new_w, pre.width))
    if pre.placement == "center":
        pad_y = float(round((pre.height - new_h) / 2 - 0.1))
        pad_x = float(round((pre.width - new_w) / 2 - 0.1))
    else:
        pad_x = pad_y = 0.0
    return new_h, new_w, scale, pad_x, pad_y


def preprocess(image: np.ndarray, pre: Preprocess) -> tuple[np.ndarray, Letterbox]:
    """RGB uint8 image -> ([1, 3, H, W] float32 input, letterbox)."""
    rgb = as_rgb(image)
    h, w = rgb.shape[:2]
    new_h, new_w, scale, pad_x, pad_y = letterbox_geometry(h, w, pre)
    canvas = np.empty((pre.height, pre.width, 3), dtype=np.float32)
    canvas[:, :] = np.asarray(pre.pad, dtype=np.float32)
    resized = resize_bilinear(rgb, new_h, new_w)
    if pre.rounding == "round" or pre.placement == "center":
        resized = np.clip(np.round(resized), 0, 255)  # YOLOv5 resizes to uint8 before normalising
    top, left = int(pad_y), int(pad_x)
    canvas[top : top + new_h, left : left + new_w] = resized
    if pre.channel_order == "BGR":
        canvas = canvas[:, :, ::-1]
    x = (canvas - np.asarray(pre.mean, dtype=np.float32)) / np.asarray(pre.std, dtype=np.float32)
    tensor = np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)
    return tensor, Letterbox(scale=float(scale), pad_x=pad_x, pad_y=pad_y, image_width=w, image_height=h)


RETINAFACE = Preprocess(
    height=640,
    width=640,
    channel_order="BGR",
    mean=(104.0, 117.0, 123.0),
    std=(1.0, 1.0, 1.0),
    placement="top-left",
    pad=(123.0, 117.0, 104.0),  # the mean (RGB order): padding is 0 after mean subtraction
)
SCRFD = Preprocess(
    height=640,
    width=640,
    channel_order="RGB",
    mean=(127.5, 127.5, 127.5),
    std=(128.0, 128.0, 128.0),
    placement="top-left",
    pad=(0.0, 0.0, 0.0),
)
YOLOV5 = Preprocess(
    height=640,
    width=640,
    channel_order="RGB",
    mean=(0.0, 0.0, 0.0),
    std=(255.0, 255.0, 255.0),
    placement="center",
    pad=(114.0, 114.0, 114.0),
    rounding="round",
)
