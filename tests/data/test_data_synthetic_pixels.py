"""Pin the synthetic renderer's output bit for bit: refactors of ``render_face`` (and the label and
shading passes under it) must keep every pixel and every label.

The digests were recorded from the renderer as it stood before ``paint_image`` / ``paint_labels`` were
split into helpers. A change here means the rendered dataset changed: if that is intended (a new look),
record the new digests and bump the writer's format version; a new OpenCV or NumPy build can also move
anti-aliased edges by one grey level.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np

from secgan.data.synthetic import sample_spec
from secgan.data.synthetic.nuisance import draw_nuisance
from secgan.data.synthetic.renderer import CANON_H, CANON_W, render_face

SEED = 1
N_FACES = 7
# Two overrides that between them take every branch of the label and shading passes (hat, glasses,
# sunglasses, earrings, necklace, necktie, both beards, moustache, wrinkles, make-up, rosy cheeks,
# bald head, pale skin, open smiling mouth, ...); the per-face nuisances vary the rest (background
# pattern 0/1/2, striped cloth, V neck, round or square glasses, hat brim, bald fringe or none).
EVERYTHING = dict(
    young=False, bald=False, hat=True, bangs=True, long_hair=True, wavy=True, receding=True,
    eyeglasses=True, sunglasses=False, mouth_open=True, smiling=True, bushy=True, arched=True,
    mustache=True, beard="full", pale=False, lipstick=True, makeup=True, rosy=True, earrings=True,
    necklace=True, necktie=True, narrow_eyes=True, big_lips=True, big_nose=True, pointy_nose=True,
    hair_colour="brown",
)  # fmt: skip
BALD = dict(
    young=True, bald=True, hat=False, bangs=False, long_hair=False, wavy=False, eyeglasses=True,
    sunglasses=True, mouth_open=False, smiling=False, mustache=False, beard="goatee", pale=True,
    lipstick=False, makeup=False, rosy=False, earrings=False, necklace=False, necktie=False,
    hair_colour="gray",
)  # fmt: skip
IMAGE_SHA256 = "09cec76b5691c09f2a4ae4fce8c34b5289b72ab8a19f046d629130ad8c6f1749"
LABELS_SHA256 = "9612653cd6773217810ccac893b419158c442edbd1b69600e7ac8bf51b5c7d28"


def _digests() -> tuple[str, str, int]:
    """sha256 of every rendered image ``uint8 [H, W, 3]`` and label map ``uint8 [H, W]``, in order."""
    h_img, h_lab, n = hashlib.sha256(), hashlib.sha256(), 0
    for i in range(N_FACES):
        spec = sample_spec(np.random.default_rng([SEED, i]))
        nz = draw_nuisance(SEED, i, CANON_W, CANON_H)
        for s in (spec, replace(spec, **EVERYTHING), replace(spec, **BALD)):
            img, lab = render_face(s, nz, CANON_W, CANON_H)
            assert img.shape == (CANON_H, CANON_W, 3) and lab.shape == (CANON_H, CANON_W)
            h_img.update(np.ascontiguousarray(img).tobytes())
            h_lab.update(np.ascontiguousarray(lab).tobytes())
            n += 1
    return h_img.hexdigest(), h_lab.hexdigest(), n


def test_rendering_is_pinned():
    img_sha, lab_sha, n = _digests()
    assert n == 3 * N_FACES
    assert lab_sha == LABELS_SHA256, f"label maps changed: {lab_sha}"
    assert img_sha == IMAGE_SHA256, f"images changed: {img_sha}"
