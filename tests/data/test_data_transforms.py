"""Crop boxes, resizing and the joint flip."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from secgan.data import transforms as T


def test_celeba_box_is_torchvision_center_crop_178():
    assert T.celeba_box(178, 218) == (0, 20, 178, 198)
    assert T.celeba_box(356, 436) == (0, 40, 356, 396)
    assert T.celeba_box(300, 200) == (50, 0, 250, 200)


def test_rafd_box():
    assert T.rafd_box(681, 1024) == (40, 170, 640, 770)
    left, top, right, bottom = T.rafd_box(340, 512)  # half size: the reference box scaled by ~0.5
    assert (right - left, bottom - top) == (300, 300)
    assert (left, top) == (20, 85)


def test_crop_resize_mask_nearest_keeps_labels():
    lab = np.zeros((218, 178), np.uint8)
    lab[:, 89:] = 5
    out = T.crop_resize_mask(lab, T.celeba_box(178, 218), (178, 218), 64)
    assert out.shape == (64, 64) and set(np.unique(out).tolist()) == {0, 5}
    # a mask at half resolution gives the same result up to the boundary column
    half = lab[::2, ::2]
    out2 = T.crop_resize_mask(half, T.celeba_box(178, 218), (178, 218), 64)
    assert (out2 != out).mean() < 0.03


def test_image_tensor_round_trip_and_flip():
    arr = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    t = T.image_to_tensor(Image.fromarray(arr))
    assert t.shape == (3, 6, 5) and t.min() >= -1 and t.max() <= 1
    np.testing.assert_array_equal(T.tensor_to_image(t), arr)
    m = torch.arange(30).reshape(6, 5)
    ti, tm = T.hflip(t, m)
    torch.testing.assert_close(ti[:, :, 0], t[:, :, -1])
    assert tm[0, 0] == 4
