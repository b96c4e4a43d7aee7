"""Draw one synthetic face and its 19-class part label map with OpenCV polygons.

Geometry is laid out in *canonical* coordinates of a 178x218 CelebA aligned image (eye centres near
(69, 111) and (109, 111), mouth near y = 154), then moved by a small random pose (rotation, scale,
shift) and scaled to the requested size. The label map is painted first (hard polygons, painter's
order: background, cloth, back hair, neck, necklace, ears, earrings, face, eyes, brows, nose, lips,
mouth, hair, hat, glasses); the image takes each region's colour and texture, then the details that do
not change a label (moustache, beard, wrinkles, eye bags, make-up: drawn only on skin pixels), lighting,
blur, noise. ``l_*`` parts are the person's left (the image's right), as in CelebAMask-HQ.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .spec import HAIR_RGB, FaceSpec

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

SKIN_STOPS = np.array(
    [(232, 192, 160), (214, 168, 132), (188, 138, 102), (150, 104, 72), (112, 74, 52), (90, 60, 44)],
    dtype=np.float32,
)
PALE_SKIN = np.array((250, 234, 226), dtype=np.float32)


def _ellipse(
    cx: float, cy: float, ax: float, ay: float, a0: float = 0.0, a1: float = 360.0, n: int = 40
) -> np.ndarray:
    """Points ``[n, 2]`` on an axis-aligned ellipse from angle a0 to a1 (degrees, y down)."""
    t = np.deg2rad(np.linspace(a0, a1, n, endpoint=(a1 - a0) < 360))
    return np.stack([cx + ax * np.cos(t), cy + ay * np.sin(t)], axis=1)


def _mix(a, b, t: float) -> np.ndarray:
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


class _Geometry:
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


def _hair_outer_arc(
    g: _Geometry, vol: float, y_end: float, wavy: bool, rng: np.random.Generator
) -> np.ndarray:
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


def _lip_curves(g: _Geometry, spec: FaceSpec, rng: np.random.Generator):
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


def _poly(xa, ya, xb, yb) -> np.ndarray:
    """Closed region between curve a (left->right) and curve b (traversed back)."""
    return np.concatenate([np.stack([xa, ya], 1), np.stack([xb, yb], 1)[::-1]])


def _noise(base: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Blurred copy of the white noise ``base [h, w]`` float32, rescaled to about unit variance
    (anisotropic: strands when sy > sx)."""
    n = cv2.GaussianBlur(base, (0, 0), sigmaX=sx, sigmaY=sy)
    # std of white noise blurred by a Gaussian of (sx, sy) is about 1 / (2 sqrt(pi sx sy)) for sigmas >~ 0.7
    return n * (2.0 * math.sqrt(math.pi * max(sx, 0.5) * max(sy, 0.5)))


def _blend(
    img: np.ndarray, alpha: np.ndarray, colour, strength: float = 1.0, where: np.ndarray | None = None
):
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


def render_face(spec: FaceSpec, rng: np.random.Generator, width: int = CANON_W, height: int = CANON_H):
    """Render ``spec``. Returns ``(image uint8 [H, W, 3] RGB, labels uint8 [H, W] in PARTS_19 ids)``.

    ``rng`` drives every nuisance (pose, colours, textures, noise), so equal seeds give equal faces.
    """
    g = _Geometry(spec, rng)
    # Pose: small rotation/scale/shift about the face centre, then canonical -> output size.
    ang = rng.uniform(-6, 6)
    sc = rng.uniform(0.95, 1.05)
    dx, dy = rng.uniform(-4, 4), rng.uniform(-3, 3)
    rot = cv2.getRotationMatrix2D((g.cx, 118.0), ang, sc)
    rot[:, 2] += (dx, dy)
    size_m = np.diag([width / CANON_W, height / CANON_H])
    m = np.concatenate([size_m @ rot[:, :2], (size_m @ rot[:, 2:]).reshape(2, 1)], 1)
    c = Canvas(width, height, m, sc * math.sqrt(width * height / (CANON_W * CANON_H)))
    H, W = height, width
    white = rng.standard_normal((H, W), dtype=np.float32)  # one white-noise field for every texture

    # ---------------------------------------------------------------- colours
    if spec.pale:
        skin = PALE_SKIN * rng.uniform(0.97, 1.01, 3)
    else:
        t = rng.uniform(0, 1) ** 1.2 * (len(SKIN_STOPS) - 1)
        i = min(int(t), len(SKIN_STOPS) - 2)
        skin = _mix(SKIN_STOPS[i], SKIN_STOPS[i + 1], t - i) * rng.uniform(0.96, 1.03, 3)
    skin = np.clip(skin, 0, 255).astype(np.float32)
    hair = np.asarray(HAIR_RGB[spec.hair_colour], np.float32) * rng.uniform(0.9, 1.1)
    hair = np.clip(hair * rng.uniform(0.96, 1.04, 3), 0, 255)
    brow_rgb = _mix(hair, (28, 22, 18), 0.45 if spec.hair_colour in ("blond", "gray") else 0.25)
    facial_hair = _mix(hair, (35, 28, 22), 0.35)
    if spec.hair_colour == "gray":
        facial_hair = _mix(hair, (70, 70, 72), 0.35)
    natural_lip = _mix(skin, (175, 70, 75), 0.5)
    lip_rgb = (
        np.asarray([(196, 24, 48), (168, 18, 70), (214, 70, 110), (150, 30, 40)][rng.integers(4)], np.float32)
        if spec.lipstick
        else natural_lip
    )
    iris = np.asarray(
        [(92, 58, 30), (60, 40, 25), (70, 110, 150), (80, 120, 80)][rng.integers(4)], np.float32
    )
    cloth_rgb = rng.uniform(30, 230, 3).astype(np.float32)
    hat_rgb = rng.uniform(20, 220, 3).astype(np.float32)

    # ---------------------------------------------------------------- label map (painter's order)
    sh_y = 201.0 + rng.uniform(-3, 3)
    nw = g.neck_hw
    collar = sh_y + (4.0 if rng.random() < 0.5 else 17.0)
    cloth_poly = np.array(
        [(-10, sh_y + 6), (g.cx - nw - 10, sh_y - 4), (g.cx, collar), (g.cx + nw + 10, sh_y - 4),
         (CANON_W + 10, sh_y + 6), (CANON_W + 10, CANON_H + 10), (-10, CANON_H + 10)]
    )  # fmt: skip
    c.label(cloth_poly, "cloth")

    if spec.long_hair:
        end = rng.uniform(188, 222)
        arc = _hair_outer_arc(g, g.hair_vol, g.cheek_y, spec.wavy, rng)
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

    neck_top = g.chin - 34
    neck = np.array([(g.cx - nw, neck_top), (g.cx + nw, neck_top), (g.cx + nw + 3, CANON_H + 10),
                     (g.cx - nw - 3, CANON_H + 10)])  # fmt: skip
    c.label(neck, "neck")
    if collar > sh_y + 10:  # V neck: the cloth's collar leaves a triangle of neck/chest visible
        c.label(np.array([(g.cx - nw - 9, sh_y - 4), (g.cx + nw + 9, sh_y - 4), (g.cx, collar)]), "neck")
    if spec.necklace:
        c.label_stroke(_ellipse(g.cx, g.chin + 6, nw + 1, 16, 20, 160, 24), "neck_l", 3.5)
    tie = None
    if spec.necktie:
        tie = np.array(
            [(g.cx - 4, sh_y + 2), (g.cx + 4, sh_y + 2), (g.cx + 7, CANON_H + 10), (g.cx - 7, CANON_H + 10)]
        )
        c.label(tie, "cloth")

    ears = {}
    for name, sgn in (("l_ear", 1), ("r_ear", -1)):
        ex = g.cx + sgn * (g.half_width(g.ear_y) - 1.0)
        ears[name] = (ex, _ellipse(ex + sgn * 2.0, g.ear_y, 8.0, 15.5, n=28))
        c.label(ears[name][1], name)
    earrings = []
    if spec.earrings:
        big = rng.random() < 0.5
        for ex, _ear_poly in ears.values():
            sgn = 1 if ex > g.cx else -1
            # big enough to stay a few pixels wide at 64x64 (a drop or a ball under the lobe)
            er = _ellipse(
                ex + sgn * 2.5,
                g.ear_y + (21.5 if big else 19.0),
                6.0 if big else 5.5,
                8.5 if big else 5.5,
                n=20,
            )
            earrings.append(er)
            c.label(er, "ear_r")

    face = g.face_outline()
    c.label(face, "skin")

    # eyes
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

    # brows
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

    # nose
    nb = g.nose_y
    nwid = 12.5 if spec.big_nose else 10.0
    nlen = 3.0 if spec.big_nose else 0.0
    nose = np.array([
        (g.cx - 3.5, g.eye_y + 1 - nlen), (g.cx + 3.5, g.eye_y + 1 - nlen), (g.cx + 5.5, nb - 10),
        (g.cx + nwid, nb - 3), (g.cx + nwid - 2.5, nb + 0.5), (g.cx + 3, nb + 1), (g.cx, nb + (3.5 if spec.pointy_nose else 1.8)),
        (g.cx - 3, nb + 1), (g.cx - nwid + 2.5, nb + 0.5), (g.cx - nwid, nb - 3), (g.cx - 5.5, nb - 10),
    ])  # fmt: skip
    c.label(nose, "nose")

    # lips and mouth
    lx, line, up_top, up_low, lo_up, lo_bot = _lip_curves(g, spec, rng)
    u_lip = _poly(lx, up_top, lx, up_low)
    l_lip = _poly(lx, lo_up, lx, lo_bot)
    c.label(u_lip, "u_lip")
    c.label(l_lip, "l_lip")
    mouth = None
    if spec.mouth_open:
        mouth = _poly(lx[1:-1], up_low[1:-1], lx[1:-1], lo_up[1:-1])
        c.label(mouth, "mouth")

    # hair on top of the head
    if not spec.bald:
        y_end = g.eye_y + 1
        outer = _hair_outer_arc(g, g.hair_vol, y_end, spec.wavy, rng)
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
            base = g.eye_y - 21.0 + rng.uniform(-1.5, 1.5)
            ys = base + 9 * uu**4 + np.where(np.arange(n) % 2 == 0, 2.5, -2.5)
            ys[0] = ys[-1] = g.eye_y - 6
            skull = _hair_outer_arc(g, 0.0, g.eye_y - 6, False, rng)
            c.label(np.concatenate([skull, np.stack([xs, ys], 1)[::-1]]), "hair")
    elif rng.random() < 0.85:  # the fringe of hair a bald head keeps above and behind the ears
        ys = np.linspace(g.eye_y - 18, g.ear_y + 8, 10)
        hw = np.array([g.half_width(y) for y in ys])
        thick = 3.0 + 2.0 * np.sin(np.linspace(0, np.pi, 10))  # thickest in the middle
        for sgn in (1, -1):
            outer = np.stack([g.cx + sgn * (hw + thick), ys], 1)
            inner = np.stack([g.cx + sgn * (hw - thick - 1), ys], 1)
            c.label(np.concatenate([outer, inner[::-1]]), "hair")

    if spec.hat:
        hat_y = g.hairline + rng.uniform(0, 5)
        crown = _hair_outer_arc(g, g.hair_vol + 4, hat_y, False, rng)
        brim = _ellipse(g.cx, hat_y, g.fw + g.hair_vol + 9, 5.5, n=30) if rng.random() < 0.6 else None
        c.label([crown] + ([brim] if brim is not None else []), "hat")

    glasses = None
    L_under = c.labels.copy()  # what the lenses cover (they are transparent): used for colouring
    if spec.eyeglasses:
        lw, lh = 15.0, 10.5
        round_ = rng.random() < 0.4
        lenses = []
        for sgn in (1, -1):
            ex = g.cx + sgn * g.eye_dx
            if round_:
                lenses.append(_ellipse(ex, g.eye_y + 0.5, lw, lh, n=32))
            else:
                pts = _ellipse(0, 0, 1, 1, n=32)
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
        frame_t = rng.uniform(2.2, 3.4)
        glasses = (lenses, bridge, temples, frame_t)
        c.label(lenses, "eye_g")
        c.label_stroke(lenses, "eye_g", frame_t, closed=True)
        c.label_stroke([bridge] + temples, "eye_g", frame_t)

    L = c.labels

    # ---------------------------------------------------------------- image
    # Regions take a flat colour from a per-part table, modulated by two shared texture fields
    # (isotropic grain and vertical strands), then the details are blended on top.
    n_iso = _noise(white, 1.6, 1.6)
    n_str = _noise(white, 0.7, 3.0)
    lut = np.zeros((len(PARTS), 3), np.float32)
    amp_iso = np.zeros(len(PARTS), np.float32)
    amp_str = np.zeros(len(PARTS), np.float32)
    for name in ("skin", "l_ear", "r_ear"):
        lut[PARTS[name]] = skin
    lut[PARTS["nose"]] = skin * 0.9
    lut[PARTS["neck"]] = skin * 0.84  # in shadow under the chin
    amp_iso[[PARTS[n] for n in ("skin", "l_ear", "r_ear", "nose", "neck")]] = 0.035
    lut[PARTS["l_eye"]] = lut[PARTS["r_eye"]] = (236, 234, 228)
    lut[PARTS["l_brow"]] = lut[PARTS["r_brow"]] = brow_rgb
    amp_iso[[PARTS["l_brow"], PARTS["r_brow"]]] = 0.12
    lut[PARTS["u_lip"]] = lip_rgb * 0.9
    lut[PARTS["l_lip"]] = lip_rgb
    amp_iso[[PARTS["u_lip"], PARTS["l_lip"]]] = 0.04
    lut[PARTS["mouth"]] = (72, 22, 28)
    lut[PARTS["hair"]] = hair
    amp_str[PARTS["hair"]] = 0.17
    lut[PARTS["hat"]] = hat_rgb
    amp_iso[PARTS["hat"]] = 0.05
    lut[PARTS["cloth"]] = cloth_rgb
    amp_iso[PARTS["cloth"]] = 0.04
    metal = np.asarray([(212, 175, 55), (200, 200, 205), (240, 235, 225)][rng.integers(3)], np.float32)
    lut[PARTS["neck_l"]] = lut[PARTS["ear_r"]] = metal
    tex = 1 + amp_iso[L_under] * n_iso + amp_str[L_under] * n_str
    if rng.random() < 0.35:  # striped cloth
        stripes = np.sign(np.sin(np.arange(H, dtype=np.float32) * rng.uniform(0.4, 0.9)))[:, None]
        tex = np.where(L_under == PARTS["cloth"], tex * (1 + 0.18 * stripes), tex)
    img = lut[L_under] * tex[..., None]
    if not spec.young and spec.hair_colour != "gray":  # salt-and-pepper greying
        grey = (L_under == PARTS["hair"]) & (n_str > 1.0)
        img[grey] = _mix(hair, (195, 195, 197), 0.6)

    # background: a muted smooth colour field, sometimes with stripes or blobs
    base = _mix(rng.uniform(30, 235, 3), (128, 128, 128), rng.uniform(0.35, 0.7))
    grid = np.clip(base + rng.normal(0, 22, (3, 3, 3)), 0, 255).astype(np.float32)
    bg = cv2.resize(grid, (W, H), interpolation=cv2.INTER_CUBIC)
    pattern = rng.integers(3)
    if pattern == 1:
        yy = np.arange(H, dtype=np.float32)[:, None]
        xx = np.arange(W, dtype=np.float32)[None, :]
        ang = rng.uniform(0, np.pi)
        bg += (np.sin((xx * np.cos(ang) + yy * np.sin(ang)) * rng.uniform(0.08, 0.3)) * rng.uniform(6, 16))[
            ..., None
        ]
    elif pattern == 2:
        blobs = np.zeros((H, W), np.uint8)
        for _ in range(6):
            cv2.circle(
                blobs,
                (int(rng.uniform(0, W)), int(rng.uniform(0, H))),
                int(rng.uniform(8, 30) * c.s),
                255,
                -1,
            )
        _blend(bg, cv2.GaussianBlur(blobs, (0, 0), 4), np.clip(base + rng.normal(0, 40, 3), 0, 255), 0.5)
    is_bg = L_under == PARTS["background"]
    img[is_bg] = bg[is_bg]

    def region(*names: str) -> np.ndarray:
        sel = L_under == PARTS[names[0]]
        for n in names[1:]:
            sel |= L_under == PARTS[n]
        return sel

    if spec.necktie:
        a = c.alpha()
        c.fill(a, tie, 255)
        _blend(img, a, rng.uniform(20, 200, 3))

    # ears: a darker rim; nose: a shadow along one side and nostrils
    a = c.alpha()
    for _ex, poly in ears.values():
        c.stroke(a, poly, 255, 2.0, aa=True, closed=True)
    _blend(img, a, skin * 0.7, 0.6, where=region("l_ear", "r_ear"))
    a = c.alpha()
    side = 1 if rng.random() < 0.5 else -1
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
    _blend(img, a, skin * 0.62, 0.7)
    a = c.alpha()
    c.fill(a, [_ellipse(g.cx + s_ * 4.5, nb - 0.5, 2.6, 1.5, n=12) for s_ in (1, -1)], 255, aa=True)
    _blend(img, a, skin * 0.35, 0.9)

    # details that keep the label "skin"
    skin_sel = region("skin")
    if not spec.young:  # forehead wrinkles, nasolabial folds, crow's feet, marionette lines, eye bags
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
                c.stroke(
                    a, np.array([(ox, g.eye_y + d * 0.3), (ox + sgn * 7, g.eye_y + d)]), 255, 1.8, aa=True
                )
        _blend(img, a, skin * 0.55, 0.8, where=skin_sel)
        a = c.alpha()
        for sgn in (1, -1):
            ex = g.cx + sgn * g.eye_dx
            c.fill(a, np.concatenate([_ellipse(ex, g.eye_y + eh * 0.7, ew * 0.95, 5.5, 10, 170, 16),
                                      _ellipse(ex, g.eye_y + eh * 0.7 + 2.0, ew * 0.8, 3.0, 170, 10, 16)]), 255, aa=True)  # fmt: skip
        _blend(img, a, _mix(skin * 0.58, (90, 60, 90), 0.3), 0.85, where=skin_sel)
    if spec.rosy:
        a = c.alpha()
        c.fill(a, [_ellipse(g.cx + s_ * 30, g.eye_y + 22, 10, 7) for s_ in (1, -1)], 255)
        _blend(img, cv2.GaussianBlur(a, (0, 0), 3), (225, 90, 100), 0.35, where=skin_sel)
    if spec.makeup:
        a = c.alpha()
        for sgn in (1, -1):
            c.fill(a, _ellipse(g.cx + sgn * g.eye_dx, g.eye_y - 4, ew, 5.5, 180, 360, 16), 255, aa=True)
        _blend(img, a, rng.choice([(120, 60, 140), (60, 80, 150), (140, 90, 60)]), 0.45, where=skin_sel)
    if spec.beard != "none":
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
        a = cv2.GaussianBlur(a, (0, 0), 1.2 * c.s)
        beard_a = (a * np.clip(0.8 + 0.25 * n_iso, 0, 1)).astype(np.uint8)
        _blend(img, beard_a, facial_hair, 0.95, where=skin_sel)
    if spec.mustache:
        a = c.alpha()
        mw = g.mouth_hw
        c.fill(a, np.array([(g.cx - mw - 4, g.mouth_y + 4), (g.cx - mw + 1, g.mouth_y - 8), (g.cx - 12, nb + 1.5),
                            (g.cx, nb + 3), (g.cx + 12, nb + 1.5), (g.cx + mw - 1, g.mouth_y - 8),
                            (g.cx + mw + 4, g.mouth_y + 4), (g.cx, g.mouth_y)]), 255, aa=True)  # fmt: skip
        must_a = (a * np.clip(0.85 + 0.2 * n_str, 0, 1)).astype(np.uint8)
        _blend(img, must_a, facial_hair * 0.85, 1.0, where=skin_sel)
    if spec.bald:  # a highlight on the skull
        a = c.alpha()
        c.fill(a, _ellipse(g.cx - 8, g.top + 14, 16, 8), 255)
        _blend(img, cv2.GaussianBlur(a, (0, 0), 5), (255, 255, 255), 0.25, where=skin_sel)

    # eyes: iris, pupil, upper lid
    eye_sel = region("l_eye", "r_eye")
    a_iris, a_pupil, a_lid = c.alpha(), c.alpha(), c.alpha()
    gaze = rng.uniform(-2, 2)
    for ex, _eye_poly, top in eyes.values():
        c.fill(a_iris, _ellipse(ex + gaze, g.eye_y, 5.0, 5.0, n=20), 255, aa=True)
        c.fill(a_pupil, _ellipse(ex + gaze, g.eye_y, 2.2, 2.2, n=12), 255, aa=True)
        c.stroke(a_lid, top, 255, 1.8, aa=True)
    _blend(img, a_iris, iris, 1.0, where=eye_sel)
    _blend(img, a_pupil, (15, 12, 12), 1.0, where=eye_sel)
    _blend(img, a_lid, (30, 22, 20), 0.9)

    # the line between the lips; teeth in an open smiling mouth
    a = c.alpha()
    c.stroke(a, np.stack([lx, line], 1), 255, 1.4, aa=True)
    _blend(img, a, lip_rgb * 0.45, 0.8)
    if mouth is not None and spec.smiling:
        a = c.alpha()
        c.fill(a, _poly(lx[2:-2], up_low[2:-2], lx[2:-2], up_low[2:-2] + 4.0), 255)
        _blend(img, a, (236, 232, 222), 1.0, where=region("mouth"))

    # earrings: a darker rim
    if earrings:
        a = c.alpha()
        for er in earrings:
            c.stroke(a, er, 255, 1.2, aa=True, closed=True)
        _blend(img, a, metal * 0.6, 0.8)

    # glasses: tinted lenses over what is behind them, then the frame
    if glasses is not None:
        lenses, bridge, temples, frame_t = glasses
        a = c.alpha()
        c.fill(a, lenses, 255, aa=True)
        if spec.sunglasses:
            _blend(img, a, (25, 25, 30), 0.85)
        else:
            _blend(img, a, (200, 220, 235), 0.18)
        a = c.alpha()
        c.stroke(a, lenses, 255, frame_t, aa=True, closed=True)
        c.stroke(a, [bridge] + temples, 255, frame_t, aa=True)
        _blend(img, a, [(20, 20, 20), (90, 50, 25), (200, 170, 60), (170, 170, 175)][rng.integers(4)], 1.0)

    # ---------------------------------------------------------------- lighting, blur, noise
    yy = np.arange(H, dtype=np.float32)[:, None]
    xx = np.arange(W, dtype=np.float32)[None, :]
    phi = rng.uniform(0, 2 * np.pi)
    grad = 1 + rng.uniform(0, 0.16) * ((xx - W / 2) * np.cos(phi) + (yy - H / 2) * np.sin(phi)) / (0.5 * W)
    img *= (grad * rng.uniform(0.92, 1.06))[..., None] * rng.uniform(0.97, 1.03, 3).astype(np.float32)
    img = cv2.GaussianBlur(img, (0, 0), 0.65 * max(1.0, c.s))
    # sensor noise: the white field shifted (decorrelated from the textures), one value per pixel
    img += (np.roll(white, (H // 2, W // 3), (0, 1)) * np.float32(rng.uniform(1.5, 4.5)))[..., None]
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8), L
