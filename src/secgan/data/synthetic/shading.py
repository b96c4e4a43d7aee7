"""The image of one face: colours drawn per face, each part's flat colour and texture, the background,
then the details that do not change a label (moustache, beard, wrinkles, eye bags, make-up: drawn only on
skin pixels), eyes, lips, earrings and glasses."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .canvas import PARTS, Canvas, between, blend, ellipse, mix, noise_field
from .geometry import Geometry
from .layout import Layout
from .nuisance import Nuisance
from .spec import HAIR_RGB, FaceSpec

SKIN_STOPS = np.array(
    [(232, 192, 160), (214, 168, 132), (188, 138, 102), (150, 104, 72), (112, 74, 52), (90, 60, 44)],
    dtype=np.float32,
)
PALE_SKIN = np.array((250, 234, 226), dtype=np.float32)


@dataclass
class Colours:
    """The RGB colours (float32 triples) of one face."""

    skin: np.ndarray
    hair: np.ndarray
    brow: np.ndarray
    facial_hair: np.ndarray
    lip: np.ndarray
    iris: np.ndarray
    cloth: np.ndarray
    hat: np.ndarray


def draw_colours(spec: FaceSpec, nz: Nuisance) -> Colours:
    """The colours of ``spec`` with the per-face tints of ``nz``."""
    if spec.pale:
        skin = PALE_SKIN * nz.pale_tint
    else:
        t = nz.skin_t**1.2 * (len(SKIN_STOPS) - 1)
        i = min(int(t), len(SKIN_STOPS) - 2)
        skin = mix(SKIN_STOPS[i], SKIN_STOPS[i + 1], t - i) * nz.skin_tint
    skin = np.clip(skin, 0, 255).astype(np.float32)
    hair = np.asarray(HAIR_RGB[spec.hair_colour], np.float32) * nz.hair_gain
    hair = np.clip(hair * nz.hair_tint, 0, 255)
    brow_rgb = mix(hair, (28, 22, 18), 0.45 if spec.hair_colour in ("blond", "gray") else 0.25)
    facial_hair = mix(hair, (35, 28, 22), 0.35)
    if spec.hair_colour == "gray":
        facial_hair = mix(hair, (70, 70, 72), 0.35)
    natural_lip = mix(skin, (175, 70, 75), 0.5)
    lip_rgb = (
        np.asarray([(196, 24, 48), (168, 18, 70), (214, 70, 110), (150, 30, 40)][nz.lipstick], np.float32)
        if spec.lipstick
        else natural_lip
    )
    iris = np.asarray([(92, 58, 30), (60, 40, 25), (70, 110, 150), (80, 120, 80)][nz.iris], np.float32)
    cloth_rgb = nz.cloth
    hat_rgb = nz.hat
    return Colours(skin, hair, brow_rgb, facial_hair, lip_rgb, iris, cloth_rgb, hat_rgb)


def _background(nz: Nuisance, c: Canvas) -> np.ndarray:
    """A muted smooth colour field ``[H, W, 3]`` float32, sometimes with stripes or blobs."""
    H, W = c.h, c.w
    base = mix(nz.bg_base, (128, 128, 128), nz.bg_mix)
    grid = np.clip(base + nz.bg_grid, 0, 255).astype(np.float32)
    bg = cv2.resize(grid, (W, H), interpolation=cv2.INTER_CUBIC)
    pattern = nz.bg_pattern
    if pattern == 1:
        yy = np.arange(H, dtype=np.float32)[:, None]
        xx = np.arange(W, dtype=np.float32)[None, :]
        ang, freq, amp = nz.bg_stripes
        bg += (np.sin((xx * np.cos(ang) + yy * np.sin(ang)) * freq) * amp)[..., None]
    elif pattern == 2:
        blobs = np.zeros((H, W), np.uint8)
        for bx, by, br in nz.bg_blobs:
            cv2.circle(
                blobs,
                (int(bx * W), int(by * H)),
                int(br * c.s),
                255,
                -1,
            )
        blend(bg, cv2.GaussianBlur(blobs, (0, 0), 4), np.clip(base + nz.bg_blob_rgb, 0, 255), 0.5)
    return bg


def _metal(nz: Nuisance) -> np.ndarray:
    """The jewellery colour (necklace, earrings), an RGB float32 triple."""
    return np.asarray([(212, 175, 55), (200, 200, 205), (240, 235, 225)][nz.metal], np.float32)


def _region(L_under: np.ndarray, *names: str) -> np.ndarray:
    """bool ``[H, W]``: the pixels of ``L_under`` labelled with any of ``names``."""
    sel = L_under == PARTS[names[0]]
    for n in names[1:]:
        sel |= L_under == PARTS[n]
    return sel


def _part_table(col: Colours, nz: Nuisance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-part flat colours ``[19, 3]`` and the amplitudes ``[19]`` of the grain and strand textures."""
    skin = col.skin
    lut = np.zeros((len(PARTS), 3), np.float32)
    amp_iso = np.zeros(len(PARTS), np.float32)
    amp_str = np.zeros(len(PARTS), np.float32)
    for name in ("skin", "l_ear", "r_ear"):
        lut[PARTS[name]] = skin
    lut[PARTS["nose"]] = skin * 0.9
    lut[PARTS["neck"]] = skin * 0.84  # in shadow under the chin
    amp_iso[[PARTS[n] for n in ("skin", "l_ear", "r_ear", "nose", "neck")]] = 0.035
    lut[PARTS["l_eye"]] = lut[PARTS["r_eye"]] = (236, 234, 228)
    lut[PARTS["l_brow"]] = lut[PARTS["r_brow"]] = col.brow
    amp_iso[[PARTS["l_brow"], PARTS["r_brow"]]] = 0.12
    lut[PARTS["u_lip"]] = col.lip * 0.9
    lut[PARTS["l_lip"]] = col.lip
    amp_iso[[PARTS["u_lip"], PARTS["l_lip"]]] = 0.04
    lut[PARTS["mouth"]] = (72, 22, 28)
    lut[PARTS["hair"]] = col.hair
    amp_str[PARTS["hair"]] = 0.17
    lut[PARTS["hat"]] = col.hat
    amp_iso[PARTS["hat"]] = 0.05
    lut[PARTS["cloth"]] = col.cloth
    amp_iso[PARTS["cloth"]] = 0.04
    lut[PARTS["neck_l"]] = lut[PARTS["ear_r"]] = _metal(nz)
    return lut, amp_iso, amp_str


def _base_image(
    spec: FaceSpec, c: Canvas, lay: Layout, col: Colours, nz: Nuisance
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each part's flat colour times its texture, grey strands, the background.

    Returns ``(image float32 [H, W, 3], grain [H, W], strands [H, W])``; the two texture fields (about
    unit variance) are reused by the beard and the moustache.
    """
    H = c.h
    white = nz.white  # float32 [H, W]
    L_under = lay.under
    # Regions take a flat colour from a per-part table, modulated by two shared texture fields
    # (isotropic grain and vertical strands), then the details are blended on top.
    n_iso = nz.cached("n_iso", lambda: noise_field(white, 1.6, 1.6))  # isotropic grain [H, W]
    n_str = nz.cached("n_str", lambda: noise_field(white, 0.7, 3.0))  # vertical strands [H, W]
    lut, amp_iso, amp_str = _part_table(col, nz)
    tex = 1 + np.take(amp_iso, L_under) * n_iso + np.take(amp_str, L_under) * n_str  # np.take: 4x faster
    if nz.striped_cloth:
        stripes = np.sign(np.sin(np.arange(H, dtype=np.float32) * nz.stripe_freq))[:, None]
        tex = np.where(L_under == PARTS["cloth"], tex * (1 + 0.18 * stripes), tex)
    img = np.take(lut, L_under, axis=0) * tex[..., None]
    if not spec.young and spec.hair_colour != "gray":  # salt-and-pepper greying
        grey = (L_under == PARTS["hair"]) & (n_str > 1.0)
        img[grey] = mix(col.hair, (195, 195, 197), 0.6)

    bg = nz.cached("background", lambda: _background(nz, c))
    is_bg = L_under == PARTS["background"]
    img[is_bg] = bg[is_bg]
    return img, n_iso, n_str


def _paint_tie_ears_nose(
    img: np.ndarray, spec: FaceSpec, g: Geometry, c: Canvas, lay: Layout, skin: np.ndarray, nz: Nuisance
) -> None:
    """The necktie's colour; ears: a darker rim; nose: a shadow along one side and nostrils."""
    if spec.necktie:
        a = c.alpha()
        c.fill(a, lay.tie, 255)
        blend(img, a, nz.tie)

    a = c.alpha()
    for _ex, poly in lay.ears.values():
        c.stroke(a, poly, 255, 2.0, aa=True, closed=True)
    blend(img, a, skin * 0.7, 0.6, where=_region(lay.under, "l_ear", "r_ear"))
    nb, nwid = lay.nb, lay.nwid
    a = c.alpha()
    side = nz.nose_side
    c.stroke(
        a,
        np.array(
            [
                (g.cx + side * 4.5, g.eye_y + 4),
                (g.cx + side * 6.5, nb - 8),
                (g.cx + side * (nwid - 1), nb - 2),
            ]
        ),
        255,
        2.0,
        aa=True,
    )
    blend(img, a, skin * 0.62, 0.7)
    a = c.alpha()
    c.fill(a, [ellipse(g.cx + s_ * 4.5, nb - 0.5, 2.6, 1.5, n=12) for s_ in (1, -1)], 255, aa=True)
    blend(img, a, skin * 0.35, 0.9)


def _paint_ageing(
    img: np.ndarray, g: Geometry, c: Canvas, lay: Layout, skin: np.ndarray, skin_sel: np.ndarray
) -> None:
    """Forehead wrinkles, nasolabial folds, crow's feet, marionette lines, then eye bags (on skin only)."""
    nb, ew, eh = lay.nb, lay.ew, lay.eh
    a = c.alpha()
    for k in range(3):
        y0 = g.hairline + 8 + k * 6.5
        xs = np.linspace(g.cx - 22, g.cx + 22, 10)
        c.stroke(a, np.stack([xs, y0 + 1.2 * np.sin(xs * 0.25 + k)], 1), 255, 2.4, aa=True)
    for sgn in (1, -1):
        fold = np.array([(g.cx + sgn * 11, nb - 4), (g.cx + sgn * (g.mouth_hw + 3), g.mouth_y - 4),
                         (g.cx + sgn * (g.mouth_hw + 5), g.mouth_y + 8)])  # fmt: skip
        c.stroke(a, fold, 255, 3.2, aa=True)
        c.stroke(
            a,
            np.array(
                [
                    (g.cx + sgn * (g.mouth_hw + 1), g.mouth_y + 4),
                    (g.cx + sgn * (g.mouth_hw - 1), g.mouth_y + 15),
                ]
            ),
            255,
            2.2,
            aa=True,
        )
        ox = g.cx + sgn * (g.eye_dx + ew + 2)
        for d in (-4, 0, 4):
            c.stroke(a, np.array([(ox, g.eye_y + d * 0.3), (ox + sgn * 7, g.eye_y + d)]), 255, 1.8, aa=True)
    blend(img, a, skin * 0.55, 0.8, where=skin_sel)
    a = c.alpha()
    for sgn in (1, -1):
        ex = g.cx + sgn * g.eye_dx
        c.fill(a, np.concatenate([ellipse(ex, g.eye_y + eh * 0.7, ew * 0.95, 5.5, 10, 170, 16),
                                  ellipse(ex, g.eye_y + eh * 0.7 + 2.0, ew * 0.8, 3.0, 170, 10, 16)]), 255, aa=True)  # fmt: skip
    blend(img, a, mix(skin * 0.58, (90, 60, 90), 0.3), 0.85, where=skin_sel)


def _beard_alpha(spec: FaceSpec, g: Geometry, c: Canvas, lay: Layout) -> np.ndarray:
    """uint8 ``[H, W]``: the beard's region (full or goatee), blurred."""
    nb, face = lay.nb, lay.face
    a = c.alpha()
    if spec.beard == "full":
        yb = g.eye_y + 15
        lower = face[face[:, 1] > yb]
        hw = g.half_width(yb)
        boundary = np.array([(g.cx + hw + 2, yb), (g.cx + g.mouth_hw + 6, nb + 3), (g.cx + g.mouth_hw + 5, g.mouth_y + 5),
                             (g.cx, g.mouth_y + 7), (g.cx - g.mouth_hw - 5, g.mouth_y + 5),
                             (g.cx - g.mouth_hw - 6, nb + 3), (g.cx - hw - 2, yb)])  # fmt: skip
        lower = lower[np.argsort(np.arctan2(lower[:, 1] - g.cheek_y, lower[:, 0] - g.cx))]
        c.fill(a, np.concatenate([boundary, lower[::-1]]), 255)
    else:
        c.fill(a, np.array([(g.cx - g.mouth_hw + 1, g.mouth_y + 3), (g.cx + g.mouth_hw - 1, g.mouth_y + 3),
                            (g.cx + g.mouth_hw - 5, g.chin - 3), (g.cx, g.chin + 1),
                            (g.cx - g.mouth_hw + 5, g.chin - 3)]), 255)  # fmt: skip
    return cv2.GaussianBlur(a, (0, 0), 1.2 * c.s)


def _paint_skin_details(
    img: np.ndarray,
    spec: FaceSpec,
    g: Geometry,
    c: Canvas,
    lay: Layout,
    col: Colours,
    nz: Nuisance,
    n_iso: np.ndarray,
    n_str: np.ndarray,
) -> None:
    """The details that keep the label "skin": ageing, rosy cheeks, eye shadow, beard, moustache, the
    highlight on a bald skull."""
    skin, facial_hair, nb, ew = col.skin, col.facial_hair, lay.nb, lay.ew
    skin_sel = _region(lay.under, "skin")
    if not spec.young:
        _paint_ageing(img, g, c, lay, skin, skin_sel)
    if spec.rosy:
        a = c.alpha()
        c.fill(a, [ellipse(g.cx + s_ * 30, g.eye_y + 22, 10, 7) for s_ in (1, -1)], 255)
        blend(img, cv2.GaussianBlur(a, (0, 0), 3), (225, 90, 100), 0.35, where=skin_sel)
    if spec.makeup:
        a = c.alpha()
        for sgn in (1, -1):
            c.fill(a, ellipse(g.cx + sgn * g.eye_dx, g.eye_y - 4, ew, 5.5, 180, 360, 16), 255, aa=True)
        blend(img, a, [(120, 60, 140), (60, 80, 150), (140, 90, 60)][nz.makeup], 0.45, where=skin_sel)
    if spec.beard != "none":
        a = _beard_alpha(spec, g, c, lay)
        beard_a = (a * np.clip(0.8 + 0.25 * n_iso, 0, 1)).astype(np.uint8)
        blend(img, beard_a, facial_hair, 0.95, where=skin_sel)
    if spec.mustache:
        a = c.alpha()
        mw = g.mouth_hw
        c.fill(a, np.array([(g.cx - mw - 4, g.mouth_y + 4), (g.cx - mw + 1, g.mouth_y - 8), (g.cx - 12, nb + 1.5),
                            (g.cx, nb + 3), (g.cx + 12, nb + 1.5), (g.cx + mw - 1, g.mouth_y - 8),
                            (g.cx + mw + 4, g.mouth_y + 4), (g.cx, g.mouth_y)]), 255, aa=True)  # fmt: skip
        must_a = (a * np.clip(0.85 + 0.2 * n_str, 0, 1)).astype(np.uint8)
        blend(img, must_a, facial_hair * 0.85, 1.0, where=skin_sel)
    if spec.bald:  # a highlight on the skull
        a = c.alpha()
        c.fill(a, ellipse(g.cx - 8, g.top + 14, 16, 8), 255)
        blend(img, cv2.GaussianBlur(a, (0, 0), 5), (255, 255, 255), 0.25, where=skin_sel)


def _paint_eyes(img: np.ndarray, g: Geometry, c: Canvas, lay: Layout, col: Colours, nz: Nuisance) -> None:
    """Iris and pupil (inside the eye whites only), then the upper lid."""
    eye_sel = _region(lay.under, "l_eye", "r_eye")
    a_iris, a_pupil, a_lid = c.alpha(), c.alpha(), c.alpha()
    gaze = nz.gaze
    for ex, _eye_poly, top in lay.eyes.values():
        c.fill(a_iris, ellipse(ex + gaze, g.eye_y, 5.0, 5.0, n=20), 255, aa=True)
        c.fill(a_pupil, ellipse(ex + gaze, g.eye_y, 2.2, 2.2, n=12), 255, aa=True)
        c.stroke(a_lid, top, 255, 1.8, aa=True)
    blend(img, a_iris, col.iris, 1.0, where=eye_sel)
    blend(img, a_pupil, (15, 12, 12), 1.0, where=eye_sel)
    blend(img, a_lid, (30, 22, 20), 0.9)


def _paint_mouth(img: np.ndarray, spec: FaceSpec, c: Canvas, lay: Layout, col: Colours) -> None:
    """The line between the lips; teeth in an open smiling mouth."""
    lx, line, _up_top, up_low, _lo_up, _lo_bot = lay.lips
    a = c.alpha()
    c.stroke(a, np.stack([lx, line], 1), 255, 1.4, aa=True)
    blend(img, a, col.lip * 0.45, 0.8)
    if lay.mouth is not None and spec.smiling:
        a = c.alpha()
        c.fill(a, between(lx[2:-2], up_low[2:-2], lx[2:-2], up_low[2:-2] + 4.0), 255)
        blend(img, a, (236, 232, 222), 1.0, where=_region(lay.under, "mouth"))


def _paint_earrings_and_glasses(
    img: np.ndarray, spec: FaceSpec, c: Canvas, lay: Layout, nz: Nuisance
) -> None:
    """Earrings: a darker rim; glasses: tinted lenses over what is behind them, then the frame."""
    if lay.earrings:
        a = c.alpha()
        for er in lay.earrings:
            c.stroke(a, er, 255, 1.2, aa=True, closed=True)
        blend(img, a, _metal(nz) * 0.6, 0.8)

    if lay.glasses is not None:
        lenses, bridge, temples, frame_t = lay.glasses
        a = c.alpha()
        c.fill(a, lenses, 255, aa=True)
        if spec.sunglasses:
            blend(img, a, (25, 25, 30), 0.85)
        else:
            blend(img, a, (200, 220, 235), 0.18)
        a = c.alpha()
        c.stroke(a, lenses, 255, frame_t, aa=True, closed=True)
        c.stroke(a, [bridge] + temples, 255, frame_t, aa=True)
        blend(img, a, [(20, 20, 20), (90, 50, 25), (200, 170, 60), (170, 170, 175)][nz.frame], 1.0)


def paint_image(
    spec: FaceSpec,
    g: Geometry,
    c: Canvas,
    lay: Layout,
    col: Colours,
    nz: Nuisance,
) -> np.ndarray:
    """The float32 image ``[H, W, 3]`` (0..255, before lighting, blur and noise).

    Painter's order: flat colours, textures and background; necktie, ears, nose; skin details; eyes;
    mouth; earrings; glasses (each pass blends onto the image in place).
    """
    img, n_iso, n_str = _base_image(spec, c, lay, col, nz)
    _paint_tie_ears_nose(img, spec, g, c, lay, col.skin, nz)
    _paint_skin_details(img, spec, g, c, lay, col, nz, n_iso, n_str)
    _paint_eyes(img, g, c, lay, col, nz)
    _paint_mouth(img, spec, c, lay, col)
    _paint_earrings_and_glasses(img, spec, c, lay, nz)
    return img
