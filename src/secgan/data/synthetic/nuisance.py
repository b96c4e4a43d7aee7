"""Everything about one synthetic face that is *not* an attribute: geometry jitter, pose, colour draws,
texture noise, background, lighting and sensor noise (``Nuisance``).

Each concern is drawn from its own random stream ``default_rng([seed, index, STREAMS[concern]])``, and
every value is drawn whether or not the face uses it (a lens shape is drawn for a face without glasses).
So the nuisances of a face depend on ``(seed, index, size)`` only, never on its attributes: rendering the
same face with one attribute flipped changes only what that attribute draws. This is what makes the
counterfactual ground truth (``counterfactual.py``) possible. The attributes themselves come from the
stream ``default_rng([seed, index])`` (``spec.sample_spec``) and the JPEG quality from stream 7
(``writer.jpeg_quality``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Stream ids (the third entry of the seed sequence); 7 is the writer's JPEG-quality stream.
STREAMS = {"geometry": 101, "layout": 102, "pose": 103, "colour": 104, "texture": 105, "background": 106,
           "camera": 107}  # fmt: skip

# Standard deviations (canonical pixels; jaw_n unitless) of the landmark jitter, in Geometry's order.
JITTER_SD = {"eye_y": 1.0, "eye_dx": 0.7, "fw": 1.3, "top": 2.0, "chin": 1.5, "jaw_n": 0.12, "nose_y": 0.8,
             "mouth_y": 1.0, "mouth_hw": 0.8, "hair_vol": 1.5, "hairline": 2.0}  # fmt: skip


@dataclass(frozen=True)
class Nuisance:
    """The nuisance draws of one face (see the module docstring). Arrays are float32 or float64."""

    # geometry: landmark offsets (canonical px) by JITTER_SD key
    jitter: dict
    # layout: shapes that are not attributes
    shoulder: float  # shoulder line offset, U(-3, 3)
    v_neck: bool  # the collar's cut
    hair_end: float  # bottom of long hair, U(188, 222)
    wave_phase: tuple  # (back hair, top hair) phases of wavy hair, U(0, 6.28)
    big_earrings: bool
    lip_gap: float  # extra opening of an open mouth, U(-1, 2)
    bangs_base: float  # height offset of bangs, U(-1.5, 1.5)
    bald_fringe: bool  # a bald head keeps a fringe of hair above the ears
    hat_y: float  # U(0, 5)
    hat_brim: bool
    round_glasses: bool
    frame_t: float  # glasses frame thickness, U(2.2, 3.4)
    nose_side: int  # +1 / -1: the side of the nose shadow
    gaze: float  # U(-2, 2)
    beard_style: str  # "full" | "goatee": the beard a counterfactual "No_Beard off" grows
    sunglasses: bool  # whether glasses a counterfactual "Eyeglasses on" puts on are sunglasses
    # pose
    angle: float  # degrees, U(-6, 6)
    scale: float  # U(0.95, 1.05)
    shift: tuple  # (dx, dy) canonical px, U(-4, 4) x U(-3, 3)
    # colours
    pale_tint: np.ndarray  # [3] U(0.97, 1.01)
    skin_t: float  # position on the skin-tone ramp, U(0, 1)
    skin_tint: np.ndarray  # [3] U(0.96, 1.03)
    hair_gain: float  # U(0.9, 1.1)
    hair_tint: np.ndarray  # [3] U(0.96, 1.04)
    lipstick: int  # index into the lipstick colours (4)
    iris: int  # index into the iris colours (4)
    cloth: np.ndarray  # [3] U(30, 230)
    hat: np.ndarray  # [3] U(20, 220)
    metal: int  # jewellery colour index (3)
    tie: np.ndarray  # [3] U(20, 200)
    makeup: int  # eye-shadow colour index (3)
    frame: int  # glasses frame colour index (4)
    striped_cloth: bool
    stripe_freq: float  # U(0.4, 0.9)
    # texture
    white: np.ndarray  # float32 [H, W] standard normal: every texture and the sensor noise
    # background
    bg_base: np.ndarray  # [3] U(30, 235)
    bg_mix: float  # U(0.35, 0.7) towards grey
    bg_grid: np.ndarray  # [3, 3, 3] N(0, 22)
    bg_pattern: int  # 0 plain, 1 stripes, 2 blobs
    bg_stripes: tuple  # (angle U(0, pi), frequency U(0.08, 0.3), amplitude U(6, 16))
    bg_blobs: np.ndarray  # [6, 3]: x, y in U(0, 1) of the size, radius U(8, 30) canonical px
    bg_blob_rgb: np.ndarray  # [3] N(0, 40)
    # camera
    light_phi: float  # U(0, 2 pi)
    light_grad: float  # U(0, 0.16)
    gain: float  # U(0.92, 1.06)
    balance: np.ndarray  # [3] U(0.97, 1.03)
    noise_amp: float  # U(1.5, 4.5)
    # fields computed from the draws above, shared by every render of this face (see ``cached``)
    cache: dict = field(default_factory=dict, compare=False, repr=False)

    def cached(self, key: str, make):
        """``make()`` computed once per face (a pure function of these draws, e.g. the background)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]


def _stream(seed: int, index: int, concern: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(index), STREAMS[concern]])


def draw_nuisance(seed: int, index: int, width: int, height: int) -> Nuisance:
    """The nuisances of face ``index`` of the dataset with ``seed``, rendered at ``width x height``."""
    r = _stream(seed, index, "geometry")
    jitter = {k: float(r.normal(0.0, sd)) for k, sd in JITTER_SD.items()}
    r = _stream(seed, index, "layout")
    layout = dict(
        shoulder=r.uniform(-3, 3), v_neck=bool(r.random() >= 0.5), hair_end=r.uniform(188, 222),
        wave_phase=(r.uniform(0, 6.28), r.uniform(0, 6.28)), big_earrings=bool(r.random() < 0.5),
        lip_gap=r.uniform(-1, 2), bangs_base=r.uniform(-1.5, 1.5), bald_fringe=bool(r.random() < 0.85),
        hat_y=r.uniform(0, 5), hat_brim=bool(r.random() < 0.6), round_glasses=bool(r.random() < 0.4),
        frame_t=r.uniform(2.2, 3.4), nose_side=1 if r.random() < 0.5 else -1, gaze=r.uniform(-2, 2),
        beard_style="full" if r.random() < 0.7 else "goatee", sunglasses=bool(r.random() < 0.15),
    )  # fmt: skip
    r = _stream(seed, index, "pose")
    pose = dict(
        angle=r.uniform(-6, 6), scale=r.uniform(0.95, 1.05), shift=(r.uniform(-4, 4), r.uniform(-3, 3))
    )
    r = _stream(seed, index, "colour")
    colour = dict(
        pale_tint=r.uniform(0.97, 1.01, 3), skin_t=r.uniform(0, 1), skin_tint=r.uniform(0.96, 1.03, 3),
        hair_gain=r.uniform(0.9, 1.1), hair_tint=r.uniform(0.96, 1.04, 3), lipstick=int(r.integers(4)),
        iris=int(r.integers(4)), cloth=r.uniform(30, 230, 3).astype(np.float32),
        hat=r.uniform(20, 220, 3).astype(np.float32), metal=int(r.integers(3)), tie=r.uniform(20, 200, 3),
        makeup=int(r.integers(3)), frame=int(r.integers(4)), striped_cloth=bool(r.random() < 0.35),
        stripe_freq=r.uniform(0.4, 0.9),
    )  # fmt: skip
    white = _stream(seed, index, "texture").standard_normal((height, width), dtype=np.float32)
    r = _stream(seed, index, "background")
    background = dict(
        bg_base=r.uniform(30, 235, 3), bg_mix=r.uniform(0.35, 0.7), bg_grid=r.normal(0, 22, (3, 3, 3)),
        bg_pattern=int(r.integers(3)), bg_stripes=(r.uniform(0, np.pi), r.uniform(0.08, 0.3), r.uniform(6, 16)),
        bg_blobs=np.stack([r.uniform(0, 1, 6), r.uniform(0, 1, 6), r.uniform(8, 30, 6)], 1),
        bg_blob_rgb=r.normal(0, 40, 3),
    )  # fmt: skip
    r = _stream(seed, index, "camera")
    camera = dict(
        light_phi=r.uniform(0, 2 * np.pi), light_grad=r.uniform(0, 0.16), gain=r.uniform(0.92, 1.06),
        balance=r.uniform(0.97, 1.03, 3), noise_amp=r.uniform(1.5, 4.5),
    )  # fmt: skip
    return Nuisance(jitter=jitter, white=white, **layout, **pose, **colour, **background, **camera)
