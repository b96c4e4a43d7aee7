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
from .shading import draw_colours, paint_image
from .spec import FaceSpec

__all__ = ["CANON_H", "CANON_W", "PARTS", "render_face"]


def render_face(spec: FaceSpec, rng: np.random.Generator, width: int = CANON_W, height: int = CANON_H):
    """Render ``spec``. Returns ``(image uint8 [H, W, 3] RGB, labels uint8 [H, W] in PARTS_19 ids)``.

    ``rng`` drives every nuisance (pose, colours, textures, noise), so equal seeds give equal faces.
    """
    g = Geometry(spec, rng)
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
    col = draw_colours(spec, rng)
    lay = paint_labels(spec, g, c, rng)
    img = paint_image(spec, g, c, lay, col, white, rng)
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
    return img.astype(np.uint8), lay.labels
