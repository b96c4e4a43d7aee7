"""Drawing primitives of the synthetic renderer: the canonical frame, the 19 part ids, the ``Canvas``
(label map + pose transform + polygon fill/stroke in canonical coordinates) and small numeric helpers
(ellipse points, colour mixing, blurred noise fields, alpha blending)."""

from __future__ import annotations

import math

import cv2
import numpy as np

CANON_W, CANON_H = 178, 218
PARTS = {
    name: k
    for k, name in enumerate(
        (
            "background",
            "skin",
            "l_brow",
            "r_brow",
            "l_eye",
            "r_eye",
            "eye_g",
            "l_ear",
            "r_ear",
            "ear_r",
            "nose",
            "mouth",
            "u_lip",
            "l_lip",
            "neck",
            "neck_l",
            "cloth",
            "hair",
            "hat",
        )  # fmt: skip
    )
}
_SHIFT = 4  # fixed-point bits for sub-pixel polygon vertices
_ONE = 1 << _SHIFT


def ellipse(
    cx: float, cy: float, ax: float, ay: float, a0: float = 0.0, a1: float = 360.0, n: int = 40
) -> np.ndarray:
    """Points ``[n, 2]`` on an axis-aligned ellipse from angle a0 to a1 (degrees, y down)."""
    t = np.deg2rad(np.linspace(a0, a1, n, endpoint=(a1 - a0) < 360))
    return np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], axis=1)


def mix(a, b, t: float) -> np.ndarray:
    return np.asarray(a, np.float32) * (1 - t) + np.asarray(b, np.float32) * t


class Canvas:
    """Label map + pose transform + helpers to fill/stroke polygons given in canonical coordinates."""

    def __init__(self, width: int, height: int, matrix: np.ndarray, scale: float) -> None:
        self.w, self.h = width, height
        self.m = matrix  # [2, 3] canonical -> pixel
        self.s = scale
        self.labels = np.zeros((height, width), np.uint8)

    def pts(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, np.float64)
        q = p @ self.m[:, :2].T + self.m[:, 2]
        return np.round(q * _ONE).astype(np.int32)

    def thick(self, t: float) -> int:
        return max(1, int(round(t * self.s)))

    def fill(self, target: np.ndarray, polys, value, aa: bool = False) -> None:
        if not isinstance(polys, list):
            polys = [polys]
        cv2.fillPoly(
            target,
            [self.pts(p) for p in polys],
            value,
            lineType=cv2.LINE_AA if aa else cv2.LINE_8,
            shift=_SHIFT,
        )

    def stroke(
        self, target: np.ndarray, polys, value, thickness: float, aa: bool = False, closed: bool = False
    ):
        if not isinstance(polys, list):
            polys = [polys]
        cv2.polylines(
            target,
            [self.pts(p) for p in polys],
            closed,
            value,
            thickness=self.thick(thickness),
            lineType=cv2.LINE_AA if aa else cv2.LINE_8,
            shift=_SHIFT,
        )

    def label(self, polys, part: str) -> None:
        self.fill(self.labels, polys, PARTS[part])

    def label_stroke(self, polys, part: str, thickness: float, closed: bool = False) -> None:
        self.stroke(self.labels, polys, PARTS[part], thickness, closed=closed)

    def alpha(self) -> np.ndarray:
        return np.zeros((self.h, self.w), np.uint8)


def between(xa, ya, xb, yb) -> np.ndarray:
    """Closed region between curve a (left->right) and curve b (traversed back)."""
    return np.concatenate([np.stack([xa, ya], 1), np.stack([xb, yb], 1)[::-1]])


def noise_field(base: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Blurred copy of the white noise ``base [h, w]`` float32, rescaled to about unit variance
    (anisotropic: strands when sy > sx)."""
    n = cv2.GaussianBlur(base, (0, 0), sigmaX=sx, sigmaY=sy)
    # std of white noise blurred by a Gaussian of (sx, sy) is about 1 / (2 sqrt(pi sx sy)) for sigmas >~ 0.7
    return n * (2.0 * math.sqrt(math.pi * max(sx, 0.5) * max(sy, 0.5)))


def blend(img: np.ndarray, alpha: np.ndarray, colour, strength: float = 1.0, where: np.ndarray | None = None):
    """``img = img * (1 - a) + colour * a`` with ``a = alpha / 255 * strength`` (optionally only where a
    0/1 mask holds); ``colour`` is an RGB triple or an image. Works on the bounding box of ``alpha`` only."""
    x, y, w, h = cv2.boundingRect(alpha)
    if w == 0 or h == 0:
        return
    win = (slice(y, y + h), slice(x, x + w))
    a = alpha[win].astype(np.float32) * (strength / 255.0)
    if where is not None:
        a *= where[win]
    a = a[..., None]
    col = np.asarray(colour, np.float32)
    if col.ndim == 3:
        col = col[win]
    sub = img[win]
    sub *= 1 - a
    sub += a * col
