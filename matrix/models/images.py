"""Host-side image files: reading with Pillow, the bundled photos, calibration augmentations, drawing.

Contract: `read_image(path)` returns an HxWx3 uint8 RGB array or raises a `UserError` naming the
file (missing, unreadable, not an image). `bundled_photos()` lists the photos shipped in
`matrix/models/data` (licences in its SOURCES.md); `REFERENCE_PHOTO` is the fixed input of every
exported reference. `augment(image, k)` gives simple deterministic variants (flip, brightness,
zoom) for calibration. `draw(image, detections, path)` saves boxes, scores and landmarks as PNG.
Pillow is imported inside the functions; the module itself needs numpy only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from matrix.errors import UserError
from matrix.models.postprocess import Detection
from matrix.models.preprocess import as_rgb, resize_bilinear

DATA = Path(__file__).with_name("data")
REFERENCE_PHOTO = DATA / "matplotlib__grace_hopper.jpg"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".ppm", ".pgm")


def read_image(path: str | Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    p = Path(path)
    if not p.exists():
        raise UserError(f"{p}: no such image file")
    if not p.is_file():
        raise UserError(f"{p}: not a file")
    try:
        with Image.open(p) as opened:
            opened.load()
            im = opened
            if im.mode in ("RGBA", "LA", "P"):  # transparency: composite on white
                rgba = im.convert("RGBA")
                im = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
            return as_rgb(np.asarray(im.convert("RGB")))
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise UserError(f"{p}: cannot read it as an image ({exc})") from exc


def bundled_photos() -> list[Path]:
    return sorted(p for p in DATA.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def images_in(folder: str | Path) -> list[Path]:
    d = Path(folder)
    if not d.is_dir():
        raise UserError(f"{d}: not a folder of images")
    found = sorted(p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not found:
        raise UserError("{}: no images in it (looked for {})".format(d, " ".join(IMAGE_SUFFIXES)))
    return found


def augment(image: np.ndarray, k: int) -> np.ndarray:
    """Variant k of an image: 0 as is, 1 mirrored, 2 darker, 3 brighter, 4 zoomed 1.25x (centre)."""
    img = np.asarray(image)
    kind = k % 5
    if kind == 1:
        return np.ascontiguousarray(img[:, ::-1])
    if kind in (2, 3):
        gain = 0.7 if kind == 2 else 1.3
        out: np.ndarray = np.clip(img.astype(np.float32) * gain, 0, 255).astype(np.uint8)
        return out
    if kind == 4:
        h, w = img.shape[:2]
        ch, cw = max(1, int(h / 1.25)), max(1, int(w / 1.25))
        top, left = (h - ch) // 2, (w - cw) // 2
        crop = img[top : top + ch, left : left + cw]
        return np.clip(np.round(resize_bilinear(crop, h, w)), 0, 255).astype(np.uint8)
    return img


def draw(image: np.ndarray, detections: Sequence[Detection], path: str | Path) -> None:
    from PIL import Image, ImageDraw

    im = Image.fromarray(as_rgb(image))
    pen = ImageDraw.Draw(im)
    width = max(2, round(max(im.size) / 250))
    colours = [(255, 0, 0), (255, 255, 0), (255, 0, 255), (0, 255, 0), (0, 160, 255)]
    for det in detections:
        x1, y1, x2, y2 = det.box
        pen.rectangle([x1, y1, x2, y2], outline=(0, 255, 0), width=width)
        label = f"{det.score:.3f}" if det.class_id is None else f"{det.class_id} {det.score:.3f}"
        pen.text((x1 + 3, y1 + 2), label, fill=(255, 255, 255))
        for i, (x, y) in enumerate(det.landmarks or ()):
            r = width + 1
            pen.ellipse([x - r, y - r, x + r, y + r], fill=colours[i % len(colours)])
    out = Path(path)
    try:
        im.save(out, format="PNG")
    except OSError as exc:
        raise UserError(f"{out}: cannot write the drawing ({exc})") from exc
