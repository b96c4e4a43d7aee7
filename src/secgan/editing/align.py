"""CelebA-style alignment of a face in a photo to a model's square training crop, and back.

The CelebA ``img_align_celeba`` images (178 x 218) were made by a similarity transform that puts the five
facial landmarks at (almost) fixed positions; our models see the centre 178 x 178 crop of them resized to
``S x S`` (paper-notes §6). So a face in the wild is aligned by the similarity transform that sends its eye
centres and mouth centre to where those points sit in that ``S x S`` crop; the edited crop goes back
through the inverse transform.

Coordinates: ``(x, y)`` in pixels with pixel centres at integer positions (OpenCV's convention). A
transform is a ``[2, 3]`` float64 matrix ``M`` mapping photo coordinates to crop coordinates:
``[u, v] = M @ [x, y, 1]``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

# Mean landmark positions in CelebA's img_align_celeba frame (178 wide, 218 high): left eye, right eye,
# nose tip, left and right mouth corner ("left" = smaller x in the image).
CELEBA_FRAME = (178, 218)
CELEBA_LANDMARKS = np.array(
    [[69.0, 111.0], [108.0, 111.0], [88.0, 136.0], [72.0, 152.0], [105.0, 152.0]], dtype=np.float64
)
# The centre square crop of the 178 x 218 frame that the models are trained on (rows 20..197).
CELEBA_CROP = 178
CELEBA_CROP_TOP = (CELEBA_FRAME[1] - CELEBA_CROP) // 2

# At most this much supersampling when a large face is shrunk to the crop (anti-aliasing).
MAX_SUPERSAMPLE = 8


def alignment_points(landmarks5: np.ndarray) -> np.ndarray:
    """Five landmarks ``[5, 2]`` (left eye, right eye, nose, left/right mouth corner) -> the three points
    the alignment uses ``[3, 2]``: left eye centre, right eye centre, mouth centre."""
    lm = np.asarray(landmarks5, dtype=np.float64)
    if lm.shape != (5, 2):
        raise ValueError(f"expected landmarks [5, 2], got {lm.shape}")
    return np.stack([lm[0], lm[1], (lm[3] + lm[4]) / 2])


def crop_template(size: int) -> np.ndarray:
    """Where the left eye, right eye and mouth centre of a CelebA face sit in the model's ``size x size``
    input, ``[3, 2]`` float64 (CelebA frame -> centre 178 crop -> resize, pixel-centre convention)."""
    pts = alignment_points(CELEBA_LANDMARKS).copy()
    pts[:, 1] -= CELEBA_CROP_TOP
    return (pts + 0.5) * (size / CELEBA_CROP) - 0.5


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation; no reflection) sending ``src [K, 2]``
    to ``dst [K, 2]`` (K >= 2), closed form (Umeyama's solution, written with complex numbers).

    Returns ``M [2, 3]`` float64 with ``dst ~ M @ [src, 1]``.
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 2:
        raise ValueError(f"expected two [K, 2] point sets with K >= 2, got {src.shape} and {dst.shape}")
    zs = src[:, 0] + 1j * src[:, 1]
    zd = dst[:, 0] + 1j * dst[:, 1]
    ms, md = zs.mean(), zd.mean()
    zs_c, zd_c = zs - ms, zd - md
    denom = float(np.sum(np.abs(zs_c) ** 2))
    if denom <= 1e-12:
        raise ValueError("degenerate landmarks: all source points coincide")
    a = np.sum(np.conj(zs_c) * zd_c) / denom  # scale * exp(i * angle)
    b = md - a * ms
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]], dtype=np.float64)


def transform_scale(matrix: np.ndarray) -> float:
    """The uniform scale factor of a similarity ``M [2, 3]`` (crop pixels per photo pixel)."""
    return float(math.hypot(matrix[0, 0], matrix[1, 0]))


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    """Inverse of an affine ``[2, 3]`` transform."""
    return cv2.invertAffineTransform(np.asarray(matrix, dtype=np.float64))


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Transform points ``[K, 2]`` with ``M [2, 3]``."""
    pts = np.asarray(points, dtype=np.float64)
    return pts @ matrix[:, :2].T + matrix[:, 2]


def alignment_matrix(landmarks5: np.ndarray, size: int) -> np.ndarray:
    """Photo -> ``size x size`` crop similarity for a face with the given five landmarks."""
    return estimate_similarity(alignment_points(landmarks5), crop_template(size))


def warp_to_crop(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """Cut the ``size x size`` crop defined by ``matrix`` (photo -> crop) out of ``image`` ``[H, W, C]``
    uint8, with border replication outside the photo.

    When the face is shrunk (scale < 1) the crop is warped at up to :data:`MAX_SUPERSAMPLE` times the
    size and area-averaged down, so large faces do not alias.
    """
    k = int(min(MAX_SUPERSAMPLE, max(1, math.floor(1.0 / max(transform_scale(matrix), 1e-6)))))
    m = np.asarray(matrix, dtype=np.float64) * k
    # pixel centres: hi-res coordinate = k * u + (k - 1) / 2 for crop coordinate u
    m[:, 2] += (k - 1) / 2.0
    hi = cv2.warpAffine(
        image, m, (size * k, size * k), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    if k == 1:
        return hi
    return cv2.resize(hi, (size, size), interpolation=cv2.INTER_AREA)


def crop_quad(matrix: np.ndarray, size: int) -> np.ndarray:
    """Corners ``[4, 2]`` of the ``size x size`` crop in photo coordinates."""
    corners = np.array([[-0.5, -0.5], [size - 0.5, -0.5], [size - 0.5, size - 0.5], [-0.5, size - 0.5]])
    return apply_affine(invert_affine(matrix), corners)


def crop_bbox(
    matrix: np.ndarray, size: int, shape: tuple[int, int], pad: int = 2
) -> tuple[int, int, int, int]:
    """Integer box ``(x0, y0, x1, y1)`` (exclusive ends) of the crop in a photo of ``shape = (H, W)``,
    padded by ``pad`` pixels and clipped to the photo; empty boxes have ``x1 <= x0`` or ``y1 <= y0``."""
    quad = crop_quad(matrix, size)
    h, w = shape
    x0 = max(0, int(math.floor(quad[:, 0].min())) - pad)
    y0 = max(0, int(math.floor(quad[:, 1].min())) - pad)
    x1 = min(w, int(math.ceil(quad[:, 0].max())) + pad + 1)
    y1 = min(h, int(math.ceil(quad[:, 1].max())) + pad + 1)
    return x0, y0, x1, y1


def warp_from_crop(
    crop: np.ndarray,
    matrix: np.ndarray,
    box: tuple[int, int, int, int],
    interpolation: int = cv2.INTER_LINEAR,
    border_value: float = 0.0,
) -> np.ndarray:
    """Warp a crop ``[S, S, ...]`` (any dtype OpenCV warps) back into the photo region ``box`` =
    ``(x0, y0, x1, y1)``; returns ``[y1 - y0, x1 - x0, ...]``. Outside the crop: ``border_value``."""
    x0, y0, x1, y1 = box
    m = np.asarray(matrix, dtype=np.float64).copy()
    # photo pixel (x + x0, y + y0) of the region -> crop coordinates
    m[:, 2] += m[:, :2] @ np.array([x0, y0], dtype=np.float64)
    return cv2.warpAffine(
        crop,
        m,
        (x1 - x0, y1 - y0),
        flags=interpolation | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border_value,
    )


def square_crop_matrix(width: int, height: int, size: int) -> np.ndarray:
    """The transform of an already aligned image: centre square crop (side ``min(W, H)``) resized to
    ``size``, as a photo -> crop matrix (e.g. a 178 x 218 CelebA image -> its centre 178 crop)."""
    side = min(width, height)
    s = size / side
    left, top = (width - side) // 2, (height - side) // 2
    # u = (x - left + 0.5) * s - 0.5
    return np.array([[s, 0.0, (0.5 - left) * s - 0.5], [0.0, s, (0.5 - top) * s - 0.5]], dtype=np.float64)
