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

from .canvas import CANON_H, CANON_W, PARTS, Canvas
from .geometry import Geometry
from .layout import paint_labels
from .nuisance import Nuisance, draw_nuisance
from .shading import draw_colours, paint_image
from .spec import FaceSpec

__all__ = ["CANON_H", "CANON_W", "PARTS", "Nuisance", "draw_nuisance", "render_face"]


def _light(nz: Nuisance, W: int, H: int) -> np.ndarray:
    """The lighting ``[H, W, 3]`` float32: a linear gradient, a gain and a colour balance."""
    yy = np.arange(H, dtype=np.float32)[:, None]
    xx = np.arange(W, dtype=np.float32)[None, :]
    phi = nz.light_phi
    grad = 1 + nz.light_grad * ((xx - W / 2) * np.cos(phi) + (yy - H / 2) * np.sin(phi)) / (0.5 * W)
    return (grad * nz.gain)[..., None] * nz.balance.astype(np.float32)


def render_face(spec: FaceSpec, nz: Nuisance, width: int = CANON_W, height: int = CANON_H):
    """Render ``spec``. Returns ``(image uint8 [H, W, 3] RGB, labels uint8 [H, W] in PARTS_19 ids)``.

    ``nz`` (``draw_nuisance(seed, index, width, height)``) holds every nuisance (geometry jitter, pose,
    colours, textures, background, lighting, noise); the output is a pure function of ``(spec, nz)``.
    """
    if nz.white.shape != (height, width):
        raise ValueError(f"nuisance drawn for {nz.white.shape[::-1]} (w, h), rendering {width}x{height}")
    g = Geometry(spec, nz)
    # Pose: small rotation/scale/shift about the face centre, then canonical -> output size.
    ang, sc, (dx, dy) = nz.angle, nz.scale, nz.shift
    rot = cv2.getRotationMatrix2D((g.cx, 118.0), ang, sc)
    rot[:, 2] += (dx, dy)
    size_m = np.diag([width / CANON_W, height / CANON_H])
    m = np.concatenate([size_m @ rot[:, :2], (size_m @ rot[:, 2:]).reshape(2, 1)], 1)
    c = Canvas(width, height, m, sc * math.sqrt(width * height / (CANON_W * CANON_H)))
    H, W = height, width
    white = nz.white  # one white-noise field for every texture and the sensor noise
    col = draw_colours(spec, nz)
    lay = paint_labels(spec, g, c, nz)
    img = paint_image(spec, g, c, lay, col, nz)
    # ---------------------------------------------------------------- lighting, blur, noise
    img *= nz.cached("light", lambda: _light(nz, W, H))
    img = cv2.GaussianBlur(img, (0, 0), 0.65 * max(1.0, c.s))
    # sensor noise: the white field shifted (decorrelated from the textures), one value per pixel
    img += nz.cached(
        "sensor", lambda: (np.roll(white, (H // 2, W // 3), (0, 1)) * np.float32(nz.noise_amp))[..., None]
    )
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8), lay.labels
