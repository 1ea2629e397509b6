"""Pre-processing: bilinear resizing, the three recipes, and the letterbox that maps back."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from matrix.models import preprocess as P


def test_bilinear_uses_half_pixel_centres() -> None:
    img = np.array([[0.0, 100.0], [200.0, 300.0]], dtype=np.float32)[:, :, None]
    out = P.resize_bilinear(img, 4, 4)[:, :, 0]
    # output pixel centres at 0.25, 0.75, 1.25, 1.75 of the source (clamped at the edges)
    assert out[0].tolist() == pytest.approx([0.0, 25.0, 75.0, 100.0])
    assert out[:, 0].tolist() == pytest.approx([0.0, 50.0, 150.0, 200.0])
    same = P.resize_bilinear(img, 2, 2)
    np.testing.assert_array_equal(same, img)


def test_grey_and_rgba_become_rgb() -> None:
    assert P.as_rgb(np.zeros((5, 7), np.uint8)).shape == (5, 7, 3)
    assert P.as_rgb(np.zeros((5, 7, 4), np.uint8)).shape == (5, 7, 3)
    with pytest.raises(ValueError, match="HxW"):
        P.as_rgb(np.zeros((5, 7, 2), np.uint8))


def test_retinaface_recipe_is_bgr_minus_mean_and_pads_with_the_mean() -> None:
    img = np.zeros((600, 512, 3), np.uint8)
    img[:] = (123, 117, 104)  # RGB: the mean, in BGR order (104, 117, 123)
    img[0, 0] = (255, 0, 0)  # pure red
    x, box = P.preprocess(img, P.RETINAFACE)
    assert x.shape == (1, 3, 640, 640) and x.dtype == np.float32
    assert (box.scale, box.pad_x, box.pad_y) == (640 / 600, 0.0, 0.0)
    assert np.abs(x[0, :, 300:, 300:]).max() < 1e-4  # mean colour and padding are both zero
    assert x[0, 2, 0, 0] > 100 and x[0, 0, 0, 0] < -50  # channel 2 is red (BGR), channel 0 blue


def test_scrfd_recipe_matches_insightface_geometry() -> None:
    img = np.full((600, 512, 3), 255, np.uint8)
    x, box = P.preprocess(img, P.SCRFD)
    # insightface: im_ratio 600/512 > 1 -> new_height 640, new_width int(640 / 1.171875) = 546
    assert box.scale == pytest.approx(640 / 600)
    assert x[0, 0, 0, 545] == pytest.approx((255 - 127.5) / 128)
    assert x[0, 0, 0, 546] == pytest.approx(-127.5 / 128)  # zero padding, normalised
    assert x[0, 0, 639, 0] == pytest.approx((255 - 127.5) / 128)


def test_yolov5_letterbox_is_centred_with_grey_114() -> None:
    img = np.zeros((600, 512, 3), np.uint8)
    x, box = P.preprocess(img, P.YOLOV5)
    # r = min(640/600, 640/512) = 1.0667, new size (640, 546), dw = 47 on the left
    assert (box.pad_x, box.pad_y) == (47.0, 0.0)
    assert x[0, 0, 320, 46] == pytest.approx(114 / 255)
    assert x[0, 0, 320, 47] == 0.0 and x[0, 0, 320, 47 + 545] == 0.0
    assert x[0, 0, 320, 47 + 546] == pytest.approx(114 / 255)


@pytest.mark.parametrize("recipe", [P.RETINAFACE, P.SCRFD, P.YOLOV5])
def test_letterbox_maps_points_back_to_the_image(recipe: P.Preprocess) -> None:
    img = np.zeros((300, 700, 3), np.uint8)
    _, box = P.preprocess(img, recipe)
    pts = np.array([[0.0, 0.0, 700.0, 300.0, 350.0, 150.0]], np.float32)
    model = pts.copy()
    model[:, 0::2] = pts[:, 0::2] * box.scale + box.pad_x
    model[:, 1::2] = pts[:, 1::2] * box.scale + box.pad_y
    np.testing.assert_allclose(box.to_image(model), pts, atol=1e-3)
    small = dataclasses.replace(recipe, height=320, width=320)
    x, _ = P.preprocess(img, small)
    assert x.shape == (1, 3, 320, 320)
