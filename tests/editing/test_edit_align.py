"""Alignment: the closed-form similarity, the CelebA template, crops and their inverse."""

from __future__ import annotations

import math

import numpy as np
import pytest

from secgan.editing.align import (
    CELEBA_LANDMARKS,
    alignment_matrix,
    alignment_points,
    apply_affine,
    crop_bbox,
    crop_template,
    estimate_similarity,
    invert_affine,
    square_crop_matrix,
    transform_scale,
    warp_from_crop,
    warp_to_crop,
)


def _similarity(scale: float, angle: float, tx: float, ty: float) -> np.ndarray:
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    return np.array([[c, -s, tx], [s, c, ty]])


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, size=(5, 2))
    m = _similarity(0.7, 0.3, 12.0, -4.0)
    est = estimate_similarity(src, apply_affine(m, src))
    assert np.allclose(est, m, atol=1e-9)
    assert math.isclose(transform_scale(est), 0.7)
    # no reflection even for mirrored points: the best similarity keeps orientation
    mirrored = src * np.array([-1.0, 1.0])
    est = estimate_similarity(src, mirrored)
    assert np.linalg.det(est[:, :2]) > 0
    with pytest.raises(ValueError):
        estimate_similarity(np.zeros((3, 2)), np.ones((3, 2)))


def test_template_is_the_celeba_crop():
    # at 178 px the template is CelebA's landmarks shifted up by the 20-row centre crop
    pts = alignment_points(CELEBA_LANDMARKS) - np.array([0.0, 20.0])
    assert np.allclose(crop_template(178), pts)
    # a CelebA-aligned 178x218 image lands exactly on the template of any size
    m = alignment_matrix(CELEBA_LANDMARKS, 128)
    assert np.allclose(m, square_crop_matrix(178, 218, 128), atol=1e-9)
    t = crop_template(128)
    assert np.allclose(t[0, 1], t[1, 1]) and t[0, 0] < t[1, 0] < 128 and t[2, 1] > t[0, 1]


def test_crop_and_back_round_trip():
    rng = np.random.default_rng(1)
    photo = (rng.uniform(0, 255, size=(200, 240, 3))).astype(np.uint8)
    photo = np.ascontiguousarray(np.repeat(np.repeat(photo[::8, ::8], 8, 0), 8, 1)[:200, :240])  # smooth-ish
    m = _similarity(1.0, 0.2, -50.0, -30.0)
    crop = warp_to_crop(photo, m, 64)
    box = crop_bbox(m, 64, photo.shape[:2])
    back = warp_from_crop(crop.astype(np.float32), m, box)
    # the centre of the crop maps back onto the same photo pixels (nearest-pixel tolerance)
    centre = apply_affine(invert_affine(m), np.array([[32.0, 32.0]]))[0]
    cx, cy = int(round(centre[0])) - box[0], int(round(centre[1])) - box[1]
    assert (
        np.abs(
            back[cy - 3 : cy + 3, cx - 3 : cx + 3]
            - photo[box[1] + cy - 3 : box[1] + cy + 3, box[0] + cx - 3 : box[0] + cx + 3]
        ).mean()
        < 20
    )


def test_large_faces_are_supersampled():
    # a flat image stays flat whatever the downscale (no aliasing artefacts, exact average)
    photo = np.full((800, 800, 3), 77, np.uint8)
    photo[::2] = 177  # 1-pixel stripes average to 127
    m = _similarity(0.1, 0.0, 0.0, 0.0)
    crop = warp_to_crop(photo, m, 32)
    assert abs(float(crop[4:28, 4:28].mean()) - 127) < 3 and crop[4:28, 4:28].std() < 3
