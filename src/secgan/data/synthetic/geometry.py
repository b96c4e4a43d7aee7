"""Where the parts of one face lie, in canonical coordinates: landmark positions with their per-face
jitter (``Geometry``), the outer edge of the hair over the skull and the lip curves."""

from __future__ import annotations

import math

import numpy as np

from .nuisance import Nuisance
from .spec import FaceSpec


class Geometry:
    """All landmark positions of one face in canonical coordinates."""

    def __init__(self, spec: FaceSpec, nz: Nuisance) -> None:
        j = nz.jitter  # per-face offsets, independent of the attributes
        self.cx = 89.0
        self.eye_y = 111.0 + j["eye_y"]
        self.eye_dx = 20.0 + j["eye_dx"]
        self.fw = (49.5 if spec.male else 45.0) + j["fw"]  # half width at the cheeks
        self.cheek_y = 121.0
        self.top = 38.0 + j["top"]  # top of the skull
        self.chin = (185.0 if spec.male else 180.0) + j["chin"]
        self.jaw_n = (3.2 if spec.male else 1.75) + j["jaw_n"]  # superellipse exponent of the jaw
        self.nose_y = 135.0 + j["nose_y"]  # bottom of the nose
        self.mouth_y = 155.0 + j["mouth_y"]
        self.mouth_hw = (18.5 if spec.male else 17.5) + (3.0 if spec.smiling else 0.0) + j["mouth_hw"]
        self.neck_hw = 24.0 if spec.male else 20.0
        self.hair_vol = (5.0 if spec.male else 9.0) + abs(j["hair_vol"])
        self.hairline = (50.0 if spec.receding else 64.0) + j["hairline"]
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


def hair_outer_arc(g: Geometry, vol: float, y_end: float, wave_phase: float | None = None) -> np.ndarray:
    """The outer edge of the hair over the skull, from the right side at ``y_end`` to the left side
    (wavy with ``wave_phase``, smooth when it is ``None``)."""
    a = g.fw + vol
    b = g.cheek_y - g.top + vol
    s = np.clip((g.cheek_y - y_end) / b, -1, 1)
    t0 = math.asin(s)
    t = np.linspace(t0, math.pi - t0, 48)
    r = np.ones_like(t)
    if wave_phase is not None:
        r = r + 0.035 * np.sin(t * 14 + wave_phase)
    return np.stack([g.cx + a * r * np.cos(t), g.cheek_y - b * r * np.sin(t)], 1)


def lip_curves(g: Geometry, spec: FaceSpec, nz: Nuisance):
    u = np.linspace(-1, 1, 25)
    x = g.cx + g.mouth_hw * u
    smile = 4.5 if spec.smiling else 0.0
    line = g.mouth_y - smile * u**2 + 1.0 * (1 - u**2)
    gap = (10.0 + nz.lip_gap) if spec.mouth_open else 0.0
    up_low = line - gap / 2 * (1 - u**2)  # lower edge of the upper lip
    lo_up = line + gap / 2 * (1 - u**2)  # upper edge of the lower lip
    ult = 7.5 if spec.big_lips else 6.0
    llt = 10.0 if spec.big_lips else 8.0
    up_top = up_low - ult * np.clip(1 - u**2, 0, None) ** 0.7 + 1.8 * np.exp(-((u / 0.13) ** 2))
    lo_bot = lo_up + llt * np.clip(1 - u**2, 0, None) ** 0.6
    return x, line, up_top, up_low, lo_up, lo_bot
