"""Host-side images: reading (and the errors a user sees), augmentations, drawing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from matrix.errors import UserError
from matrix.models import images
from matrix.models.postprocess import Detection

Image = pytest.importorskip("PIL.Image", reason="Pillow is host-side only")


def test_reads_the_bundled_photos() -> None:
    found = {p.name for p in images.bundled_photos()}
    assert found == {"matplotlib__grace_hopper.jpg", "MAXrec__Bryan.png", "skimage__camera.png"}
    assert images.read_image(images.REFERENCE_PHOTO).shape == (600, 512, 3)
    assert images.read_image(images.DATA / "skimage__camera.png").shape == (512, 512, 3)  # grey -> RGB


def test_transparency_is_composited_on_white(tmp_path: Path) -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[0, 0, 3] = 255
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    img = images.read_image(tmp_path / "a.png")
    assert img[0, 0].tolist() == [255, 0, 0] and img[1, 1].tolist() == [255, 255, 255]


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.png: no such image file"):
        images.read_image(tmp_path / "nope.png")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(UserError, match=r"bad\.jpg: cannot read it as an image"):
        images.read_image(bad)
    with pytest.raises(UserError, match="not a file"):
        images.read_image(tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="no images in it"):
        images.images_in(empty)


def test_augmentations_are_deterministic_variants() -> None:
    img = images.read_image(images.REFERENCE_PHOTO)
    variants = [images.augment(img, k) for k in range(5)]
    assert variants[0] is img
    np.testing.assert_array_equal(variants[1], img[:, ::-1])
    assert variants[2].mean() < img.mean() < variants[3].mean()
    assert variants[4].shape == img.shape and not np.array_equal(variants[4], img)
    np.testing.assert_array_equal(images.augment(img, 9), variants[4])


def test_draw_writes_a_png(tmp_path: Path) -> None:
    img = np.zeros((50, 60, 3), np.uint8)
    det = Detection(box=(5.0, 5.0, 30.0, 40.0), score=0.9, landmarks=((10.0, 10.0),) * 5)
    images.draw(img, [det], tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as im:
        drawn = np.asarray(im)
    assert drawn.shape == (50, 60, 3) and drawn[20, 5].tolist() == [0, 255, 0]  # the box's left edge
