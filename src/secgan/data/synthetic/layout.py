"""The part label map of one face, painted in painter's order (background, cloth, back hair, neck,
necklace, ears, earrings, face, eyes, brows, nose, lips, mouth, hair, hat, glasses), and the polygons the
shading pass reuses (``Layout``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .canvas import CANON_H, CANON_W, Canvas, between, ellipse
from .geometry import Geometry, hair_outer_arc, lip_curves
from .nuisance import Nuisance
from .spec import FaceSpec


@dataclass
class Layout:
    """Polygons (canonical coordinates) of the parts the image pass draws details on, and the label maps."""

    sh_y: float
    tie: np.ndarray | None
    ears: dict
    earrings: list
    face: np.ndarray
    ew: float
    eh: float
    eyes: dict
    nb: float
    nwid: float
    lips: tuple
    mouth: np.ndarray | None
    glasses: tuple | None
    under: np.ndarray  # uint8 [H, W]: the labels under the (transparent) lenses, used for colouring
    labels: np.ndarray  # uint8 [H, W]: the final 19-class label map


def _label_body(spec: FaceSpec, g: Geometry, c: Canvas, nz: Nuisance) -> tuple[float, np.ndarray | None]:
    """Cloth, back hair, neck (and a V neck's triangle), necklace, necktie. Returns ``(sh_y, tie)``:
    the shoulder line and the necktie's polygon (None without one)."""
    sh_y = 201.0 + nz.shoulder
    nw = g.neck_hw
    collar = sh_y + (17.0 if nz.v_neck else 4.0)
    cloth_poly = np.array(
        [(-10, sh_y + 6), (g.cx - nw - 10, sh_y - 4), (g.cx, collar), (g.cx + nw + 10, sh_y - 4),
         (CANON_W + 10, sh_y + 6), (CANON_W + 10, CANON_H + 10), (-10, CANON_H + 10)]
    )  # fmt: skip
    c.label(cloth_poly, "cloth")

    _label_back_hair(spec, g, c, nz)

    neck_top = g.chin - 34
    neck = np.array([(g.cx - nw, neck_top), (g.cx + nw, neck_top), (g.cx + nw + 3, CANON_H + 10),
                     (g.cx - nw - 3, CANON_H + 10)])  # fmt: skip
    c.label(neck, "neck")
    if collar > sh_y + 10:  # V neck: the cloth's collar leaves a triangle of neck/chest visible
        c.label(np.array([(g.cx - nw - 9, sh_y - 4), (g.cx + nw + 9, sh_y - 4), (g.cx, collar)]), "neck")
    if spec.necklace:
        c.label_stroke(ellipse(g.cx, g.chin + 6, nw + 1, 16, 20, 160, 24), "neck_l", 3.5)
    tie = None
    if spec.necktie:
        tie = np.array(
            [(g.cx - 4, sh_y + 2), (g.cx + 4, sh_y + 2), (g.cx + 7, CANON_H + 10), (g.cx - 7, CANON_H + 10)]
        )
        c.label(tie, "cloth")
    return sh_y, tie


def _label_back_hair(spec: FaceSpec, g: Geometry, c: Canvas, nz: Nuisance) -> None:
    """Long hair falling behind the shoulders, or short hair a little behind the ears / nape."""
    if spec.long_hair:
        end = nz.hair_end
        arc = hair_outer_arc(g, g.hair_vol, g.cheek_y, nz.wave_phase[0] if spec.wavy else None)
        side = g.fw + g.hair_vol + 3
        back = np.concatenate([[(g.cx + side + 4, end)], arc, [(g.cx - side - 4, end)]])
        if spec.wavy:
            xs = np.linspace(g.cx - side - 4, g.cx + side + 4, 12)
            bottom = np.stack([xs, end + 4 * np.sin(np.arange(12) * 2.1)], 1)
            back = np.concatenate([back, bottom])
        c.label(back, "hair")
    elif not spec.bald:  # short hair: a little behind the ears / nape
        nape = np.array([(g.cx - g.fw - 2, g.eye_y), (g.cx + g.fw + 2, g.eye_y), (g.cx + g.fw - 4, g.eye_y + 32),
                         (g.cx - g.fw + 4, g.eye_y + 32)])  # fmt: skip
        c.label(nape, "hair")


def _label_ears(spec: FaceSpec, g: Geometry, c: Canvas, nz: Nuisance) -> tuple[dict, list]:
    """Ears and earrings. Returns ``({ear name: (x, polygon)}, [earring polygons])``."""
    ears = {}
    for name, sgn in (("l_ear", 1), ("r_ear", -1)):
        ex = g.cx + sgn * (g.half_width(g.ear_y) - 1.0)
        ears[name] = (ex, ellipse(ex + sgn * 2.0, g.ear_y, 8.0, 15.5, n=28))
        c.label(ears[name][1], name)
    earrings = []
    if spec.earrings:
        big = nz.big_earrings
        for ex, _ear_poly in ears.values():
            sgn = 1 if ex > g.cx else -1
            # big enough to stay a few pixels wide at 64x64 (a drop or a ball under the lobe)
            er = ellipse(
                ex + sgn * 2.5,
                g.ear_y + (21.5 if big else 19.0),
                6.0 if big else 5.5,
                8.5 if big else 5.5,
                n=20,
            )
            earrings.append(er)
            c.label(er, "ear_r")
    return ears, earrings


def _label_eyes_and_brows(spec: FaceSpec, g: Geometry, c: Canvas) -> tuple[float, float, dict]:
    """Eyes, then brows. Returns ``(half width, height, {eye name: (x, polygon, upper lid curve)})``."""
    ew = 11.5
    eh = 3.6 if spec.narrow_eyes else 5.5
    eyes = {}
    for name, sgn in (("l_eye", 1), ("r_eye", -1)):
        ex = g.cx + sgn * g.eye_dx
        u = np.linspace(0, 1, 16)
        xs = ex - sgn * ew + sgn * 2 * ew * u  # inner corner -> outer corner
        tilt = -1.2 * u
        top = g.eye_y + tilt - eh * np.sin(np.pi * u) ** 0.8
        bot = g.eye_y + tilt + eh * 0.75 * np.sin(np.pi * u) ** 0.9
        poly = np.concatenate([np.stack([xs, top], 1), np.stack([xs, bot], 1)[::-1]])
        eyes[name] = (ex, poly, np.stack([xs, top], 1))
        c.label(poly, name)

    brow_t = (9.5 if spec.male else 8.5) if spec.bushy else (5.0 if spec.male else 4.2)
    brow_len = 15.5 if spec.bushy else 13.5
    arch = 5.0 if spec.arched else 3.0
    brows = {}
    for name, sgn in (("l_brow", 1), ("r_brow", -1)):
        ex = g.cx + sgn * g.eye_dx
        u = np.linspace(0, 1, 14)
        xs = ex - sgn * (brow_len - 3) + sgn * 2 * brow_len * u * 0.95
        ys = g.eye_y - 12.0 - arch * np.sin(np.pi * u**0.8) + 1.5 * (1 - u) - 0.5 * u
        brows[name] = np.stack([xs, ys], 1)
        c.label_stroke(brows[name], name, brow_t)
    return ew, eh, eyes


def _label_nose(spec: FaceSpec, g: Geometry, c: Canvas) -> tuple[float, float]:
    """The nose. Returns ``(nb, nwid)``: the y of its base and its half width at the nostrils."""
    nb = g.nose_y
    nwid = 12.5 if spec.big_nose else 10.0
    nlen = 3.0 if spec.big_nose else 0.0
    nose = np.array([
        (g.cx - 3.5, g.eye_y + 1 - nlen), (g.cx + 3.5, g.eye_y + 1 - nlen), (g.cx + 5.5, nb - 10),
        (g.cx + nwid, nb - 3), (g.cx + nwid - 2.5, nb + 0.5), (g.cx + 3, nb + 1), (g.cx, nb + (3.5 if spec.pointy_nose else 1.8)),
        (g.cx - 3, nb + 1), (g.cx - nwid + 2.5, nb + 0.5), (g.cx - nwid, nb - 3), (g.cx - 5.5, nb - 10),
    ])  # fmt: skip
    c.label(nose, "nose")
    return nb, nwid


def _label_lips_and_mouth(
    spec: FaceSpec, g: Geometry, c: Canvas, nz: Nuisance
) -> tuple[tuple, np.ndarray | None]:
    """Lips and an open mouth. Returns ``(lip curves (x, line, upper top, upper low, lower up, lower
    bottom), mouth polygon or None)``."""
    lx, line, up_top, up_low, lo_up, lo_bot = lip_curves(g, spec, nz)
    u_lip = between(lx, up_top, lx, up_low)
    l_lip = between(lx, lo_up, lx, lo_bot)
    c.label(u_lip, "u_lip")
    c.label(l_lip, "l_lip")
    mouth = None
    if spec.mouth_open:
        mouth = between(lx[1:-1], up_low[1:-1], lx[1:-1], lo_up[1:-1])
        c.label(mouth, "mouth")
    return (lx, line, up_top, up_low, lo_up, lo_bot), mouth


def _label_top_hair(spec: FaceSpec, g: Geometry, c: Canvas, nz: Nuisance) -> None:
    """Hair on top of the head (receding hairline, bangs), or a bald head's fringe."""
    if not spec.bald:
        y_end = g.eye_y + 1
        outer = hair_outer_arc(g, g.hair_vol, y_end, nz.wave_phase[1] if spec.wavy else None)
        xs = np.linspace(g.cx - g.fw + 1.5, g.cx + g.fw - 1.5, 30)
        uu = (xs - g.cx) / g.fw
        temple = g.eye_y - 4.0
        inner_y = g.hairline + (temple - g.hairline) * np.abs(uu) ** (2.2 if spec.receding else 3.2)
        if spec.receding:  # M-shaped hairline
            inner_y -= 7 * np.exp(-(((np.abs(uu) - 0.45) / 0.15) ** 2))
        inner = np.stack([xs, inner_y], 1)  # left -> right
        c.label(np.concatenate([outer, inner]), "hair")
        if spec.bangs:
            n = 15
            xs = np.linspace(g.cx + g.fw - 1, g.cx - g.fw + 1, n)
            uu = (xs - g.cx) / g.fw
            base = g.eye_y - 21.0 + nz.bangs_base
            ys = base + 9 * uu**4 + np.where(np.arange(n) % 2 == 0, 2.5, -2.5)
            ys[0] = ys[-1] = g.eye_y - 6
            skull = hair_outer_arc(g, 0.0, g.eye_y - 6)
            c.label(np.concatenate([skull, np.stack([xs, ys], 1)[::-1]]), "hair")
    elif nz.bald_fringe:  # the fringe of hair a bald head keeps above and behind the ears
        ys = np.linspace(g.eye_y - 18, g.ear_y + 8, 10)
        hw = np.array([g.half_width(y) for y in ys])
        thick = 3.0 + 2.0 * np.sin(np.linspace(0, np.pi, 10))  # thickest in the middle
        for sgn in (1, -1):
            outer = np.stack([g.cx + sgn * (hw + thick), ys], 1)
            inner = np.stack([g.cx + sgn * (hw - thick - 1), ys], 1)
            c.label(np.concatenate([outer, inner[::-1]]), "hair")


def _label_glasses(g: Geometry, c: Canvas, nz: Nuisance) -> tuple:
    """Eyeglasses (round or squircle lenses, bridge, temples). Returns ``(lenses, bridge, temples,
    frame thickness)``."""
    lw, lh = 15.0, 10.5
    round_ = nz.round_glasses
    lenses = []
    for sgn in (1, -1):
        ex = g.cx + sgn * g.eye_dx
        if round_:
            lenses.append(ellipse(ex, g.eye_y + 0.5, lw, lh, n=32))
        else:
            pts = ellipse(0, 0, 1, 1, n=32)
            sq = np.sign(pts) * np.abs(pts) ** 0.5  # squircle
            lenses.append(np.stack([ex + lw * sq[:, 0], g.eye_y + 0.5 + lh * sq[:, 1]], 1))
    bridge = np.array(
        [
            (g.cx - g.eye_dx + lw - 1, g.eye_y - 3),
            (g.cx, g.eye_y - 5),
            (g.cx + g.eye_dx - lw + 1, g.eye_y - 3),
        ]
    )
    temples = [
        np.array(
            [
                (g.cx + sgn * (g.eye_dx + lw - 1), g.eye_y - 3),
                (g.cx + sgn * (g.half_width(g.eye_y) + 1), g.eye_y - 1),
            ]
        )
        for sgn in (1, -1)
    ]
    frame_t = nz.frame_t
    c.label(lenses, "eye_g")
    c.label_stroke(lenses, "eye_g", frame_t, closed=True)
    c.label_stroke([bridge] + temples, "eye_g", frame_t)
    return lenses, bridge, temples, frame_t


def paint_labels(spec: FaceSpec, g: Geometry, c: Canvas, nz: Nuisance) -> Layout:
    """Paint ``c.labels`` for ``spec`` (in painter's order) and return the layout."""
    sh_y, tie = _label_body(spec, g, c, nz)
    ears, earrings = _label_ears(spec, g, c, nz)
    face = g.face_outline()
    c.label(face, "skin")
    ew, eh, eyes = _label_eyes_and_brows(spec, g, c)
    nb, nwid = _label_nose(spec, g, c)
    lips, mouth = _label_lips_and_mouth(spec, g, c, nz)
    _label_top_hair(spec, g, c, nz)
    if spec.hat:
        hat_y = g.hairline + nz.hat_y
        crown = hair_outer_arc(g, g.hair_vol + 4, hat_y)
        brim = ellipse(g.cx, hat_y, g.fw + g.hair_vol + 9, 5.5, n=30) if nz.hat_brim else None
        c.label([crown] + ([brim] if brim is not None else []), "hat")

    L_under = c.labels.copy()  # what the lenses cover (they are transparent): used for colouring
    glasses = _label_glasses(g, c, nz) if spec.eyeglasses else None
    L = c.labels
    return Layout(
        sh_y=sh_y, tie=tie, ears=ears, earrings=earrings, face=face, ew=ew, eh=eh, eyes=eyes, nb=nb,
        nwid=nwid, lips=lips, mouth=mouth, glasses=glasses, under=L_under, labels=L,
    )  # fmt: skip
