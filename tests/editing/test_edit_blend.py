"""Paste-back: feathered masks, exactness outside the face, residual vs replace, region masks."""

from __future__ import annotations

import math

import numpy as np

from secgan.data.masks import SEGMENTS_12
from secgan.editing.align import crop_quad
from secgan.editing.blend import (
    colorize_labels,
    difference_heatmap,
    feather_mask,
    paste_back,
    paste_labels,
    region_mask,
)


def _matrix(scale=0.5, angle=0.1, tx=-20.0, ty=-10.0):
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    return np.array([[c, -s, tx], [s, c, ty]])


def _inside_quad(quad: np.ndarray, h: int, w: int) -> np.ndarray:
    import cv2

    mask = np.zeros((h, w), np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 1)
    return mask.astype(bool)


def test_feather_mask_shape():
    m = feather_mask(64)
    assert m.shape == (64, 64) and m.dtype == np.float32
    assert m[0].max() == 0 and m[:, -1].max() == 0  # zero on the border band
    assert m[32, 32] == 1.0
    assert np.all(np.diff(m[32, :32]) >= 0)  # monotone ramp


def test_paste_back_touches_only_the_crop_footprint():
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, size=(120, 140, 3), dtype=np.uint8)
    m = _matrix()
    crop = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    edited = 255 - crop
    for mode in ("residual", "replace"):
        out = paste_back(photo, crop, edited, m, feather_mask(32), mode)
        assert out.shape == photo.shape and out.dtype == np.uint8
        footprint = _inside_quad(crop_quad(m, 32), *photo.shape[:2])
        changed = np.any(out != photo, axis=-1)
        assert changed.any()
        assert not changed[~footprint].any(), mode  # identical outside the crop
    # residual with an unchanged crop is an exact no-op
    assert np.array_equal(paste_back(photo, crop, crop, m, feather_mask(32), "residual"), photo)


def test_region_mask_limits_to_segments():
    labels = np.full((32, 32), SEGMENTS_12.index("skin"), np.uint8)
    labels[:8] = SEGMENTS_12.index("hair")
    hair = region_mask(labels, ["Blond_Hair"], grow=0.0, blur=0.01)
    assert hair[2, 16] > 0.99 and hair[28, 16] < 0.01
    assert region_mask(labels, ["Blond_Hair", "Young"]) is None  # a global attribute: whole face
    glasses = region_mask(labels, ["Eyeglasses"])
    assert glasses.max() == 0  # no eyes/glasses/brows/nose in this map


def test_paste_labels_and_colours():
    canvas = np.full((60, 60), 255, np.uint8)
    labels = np.full((32, 32), 10, np.uint8)
    out = paste_labels(canvas, labels, _matrix(0.8, 0.0, -2.0, -2.0), feather_mask(32))
    assert set(np.unique(out)) == {10, 255}
    rgb = colorize_labels(out)
    assert rgb.shape == (60, 60, 3) and (rgb[out == 255] == 0).all()


def test_heatmap():
    a = np.zeros((8, 8, 3), np.uint8)
    b = a.copy()
    b[2, 3] = 200
    h = difference_heatmap(a, b)
    assert h.shape == (8, 8, 3) and h.dtype == np.uint8
    assert h[2, 3].sum() > h[0, 0].sum()
    assert np.array_equal(difference_heatmap(a, a), np.broadcast_to(h[0, 0], h.shape))
