"""Which edits change the *shape* of face parts and which only their colour or texture.

The paper's claim is about shape: the semantic branch (G_seg and the consistency losses on the
12-segment part map) can only help where an edit changes the part map. The grouping follows what the
synthetic renderer (``secgan.data.synthetic.renderer``) draws for each attribute:

- **shape** -- the attribute moves part boundaries in the label map: ``Bald`` (no hair polygon on the
  skull), ``Bangs`` (a hair fringe over the forehead), ``Eyeglasses`` (the ``eye_g`` part),
  ``Mouth_Slightly_Open`` (the ``mouth`` part between the lips), ``Bushy_Eyebrows`` (thicker, longer brow
  strokes), ``Male`` (face width, chin, jaw, neck, hair volume).
- **facial hair** -- ``Mustache`` and the beard (``No_Beard``, ``Goatee``, ``Sideburns``) are shapes to the
  eye, but the renderer draws them *on skin pixels* and the label map keeps ``skin`` there (as
  CelebAMask-HQ has no beard class): the part map cannot show them, so G_seg cannot either.
- **colour / texture** -- hair colours and ``Pale_Skin`` change colours only; ``Young`` adds or removes
  wrinkles, eye bags and greying strands, all drawn on unchanged parts.

On real photos the lines blur (a man's face shape, a beard's outline); the grouping is the synthetic
renderer's ground truth and is used for every dataset only as a reading aid.
"""

from __future__ import annotations

from collections.abc import Sequence

SHAPE = ("Bald", "Bangs", "Eyeglasses", "Mouth_Slightly_Open", "Bushy_Eyebrows", "Male", "Receding_Hairline")
FACIAL_HAIR = ("Mustache", "No_Beard", "Goatee", "Sideburns")
COLOUR_TEXTURE = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair", "Pale_Skin", "Young")

GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "shape": ("shape (the part map changes)", SHAPE),
    "facial_hair": ("facial hair (drawn on skin; the part map keeps 'skin')", FACIAL_HAIR),
    "colour_texture": ("colour / texture", COLOUR_TEXTURE),
}


def group_attributes(attributes: Sequence[str]) -> dict[str, list[str]]:
    """``{group key: [attributes of that group, in the given order]}`` for the groups that are present;
    attributes of no group (e.g. RaFD's expressions) are left out."""
    out: dict[str, list[str]] = {}
    for key, (_, members) in GROUPS.items():
        sel = [a for a in attributes if a in members]
        if sel:
            out[key] = sel
    return out


def group_of(attribute: str) -> str | None:
    for key, (_, members) in GROUPS.items():
        if attribute in members:
            return key
    return None
