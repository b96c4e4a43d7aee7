"""Where the parts of one face lie, in canonical coordinates: landmark positions with their per-face
jitter (``Geometry``), the outer edge of the hair over the skull and the lip curves."""

from __future__ import annotations

import math

import numpy as np

from .spec import FaceSpec


class Geometry:
    """All landmark positions of one face in canonical coordinates."""

    def __init__(self, spec: FaceSpec, rng: np.random.Generator) -> None:
        j = lambda s: float(rng.normal(0.0, s))  # noqa: E731
        self.cx = 89.0
        self.eye_y = 111.0 + j(1.0)
        self.eye_dx = 20.0 + j(0.7)
        self.fw = (49.5 if spec.male else 45.0) + j(1.3)  # half width at the cheeks
        self.cheek_y = 121.0
        self.top = 38.0 + j(2.0)  # top of the skull
        self.chin = (185.0 if spec.male else 180.0) + j(1.5)
        self.jaw_n = (3.2 if spec.male else 1.75) + j(0.12)  # superellipse exponent of the jaw
        self.nose_y = 135.0 + j(0.8)  # bottom of the nose
        self.mouth_y = 155.0 + j(1.0)
        self.mouth_hw = (18.5 if spec.male else 17.5) + (3.0 if spec.smiling else 0.0) + j(0.8)
        self.neck_hw = 24.0 if spec.male else 20.0
        self.hair_vol = (5.0 if spec.male else 9.0) + abs(j(1.5))
        self.hairline = (50.0 if spec.receding else 64.0) + j(2.0)
        self.ear_y = self.eye_y + 14.0

    def half_width(self, y: float) -> float:
        """Half width of the face outline at height ``y``."""
        if y <= self.cheek_y:
            u = min(1.0, (self.cheek_y - y) / (self.cheek_y - self.top))
            return self.fw * math.sqrt(max(0.0, 1 - u * u))
        v = min(1.0, (y - self.cheek_y) / (self.chin - self.cheek_y))
        return self.fw * max(0.0, 1 - v**self.jaw_n) ** (1 / self.jaw_n)

    def face_outline(self) -> np.ndarray:
        cx, cy, fw = self.cx, self.cheek_y, self.fw
        t = np.linspace(0, np.pi, 40)
        upper = np.stack([cx + fw * np.cos(t), cy - (cy - self.top) * np.sin(t)], 1)  # right -> over -> left
        v = np.linspace(0, 1, 30)[1:]
        w = fw * np.clip(1 - v**self.jaw_n, 0, None) ** (1 / self.jaw_n)
        y = cy + v * (self.chin - cy)
        left = np.stack([cx - w, y], 1)
        right = np.stack([cx + w, y], 1)[::-1]
        return np.concatenate([upper, left, right[1:]])


def hair_outer_arc(g: Geometry, vol: float, y_end: float, wavy: bool, rng: np.random.Generator) -> np.ndarray:
    """The outer edge of the hair over the skull, from the right side at ``y_end`` to the left side."""
    a = g.fw + vol
    b = g.cheek_y - g.top + vol
    s = np.clip((g.cheek_y - y_end) / b, -1, 1)
    t0 = math.asin(s)
    t = np.linspace(t0, math.pi - t0, 48)
    r = np.ones_like(t)
    if wavy:
        r = r + 0.035 * np.sin(t * 14 + rng.uniform(0, 6.28))
    return np.stack([g.cx + a * r * np.cos(t), g.cheek_y - b * r * np.sin(t)], 1)


def lip_curves(g: Geometry, spec: FaceSpec, rng: np.random.Generator):
    u = np.linspace(-1, 1, 25)
    x = g.cx + g.mouth_hw * u
    smile = 4.5 if spec.smiling else 0.0
    line = g.mouth_y - smile * u**2 + 1.0 * (1 - u**2)
    gap = (10.0 + rng.uniform(-1, 2)) if spec.mouth_open else 0.0
    up_low = line - gap / 2 * (1 - u**2)  # lower edge of the upper lip
    lo_up = line + gap / 2 * (1 - u**2)  # upper edge of the lower lip
    ult = 7.5 if spec.big_lips else 6.0
    llt = 10.0 if spec.big_lips else 8.0
    up_top = up_low - ult * np.clip(1 - u**2, 0, None) ** 0.7 + 1.8 * np.exp(-((u / 0.13) ** 2))
    lo_bot = lo_up + llt * np.clip(1 - u**2, 0, None) ** 0.6
    return x, line, up_top, up_low, lo_up, lo_bot
