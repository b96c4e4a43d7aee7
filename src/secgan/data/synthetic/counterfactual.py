"""Counterfactual faces: the same synthetic face with one of the paper's 13 attributes edited.

The edit is the evaluation protocol's: invert the attribute, then apply the shared conflict rules
(``secgan.data.attributes.celeba_edit_targets`` over ``conflicting_attributes``,
the one definition the accuracy protocol and the editor use). The target labels are then turned back into
a ``FaceSpec`` (``spec_for_targets``) and rendered with the face's own nuisances (``nuisance.py``), so the
counterfactual differs from the face only in what the edited attributes draw.

How a target becomes a spec (the only choices made here, besides following the rules):

- ``Bald`` on removes all hair but the fringe over the ears (short hair: long hair goes too) and takes a
  hat off: under a hat the skull, the one place baldness shows, stays hidden, and no bald training face
  wears one (``spec.sample_spec``). Off gives short hair. ``Bangs`` on also clears a receding hairline (the full rule list turns Receding_Hairline off).
- A hair colour turned off with no other listed colour on becomes ``"red"`` (auburn, "no listed colour").
- ``No_Beard`` off grows the face's own ``nuisance.beard_style``; ``Eyeglasses`` on puts on glasses whose
  kind (sunglasses or not) is the face's ``nuisance.sunglasses``; off takes glasses and sunglasses off.
- Everything the 13 attributes do not name (hat, earrings, make-up, smile ...) stays as it was.

The *changed region* of a counterfactual is where it differs from the face before JPEG compression: a
pixel whose rendered value or 19-class part id differs. Outside it both renders are bit-identical.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np
import torch

from secgan.data.attributes import (
    CELEBA_ATTRIBUTES,
    PAPER_ATTRIBUTES,
    celeba_edit_targets,
    conflicting_attributes,
)

from .renderer import draw_nuisance, render_face
from .spec import FaceSpec, sample_spec, spec_to_labels

_PAPER_COLS = [CELEBA_ATTRIBUTES.index(a) for a in PAPER_ATTRIBUTES]
_LISTED_HAIR = {"Black_Hair": "black", "Blond_Hair": "blond", "Brown_Hair": "brown"}
OTHER_HAIR = "red"  # the colour a face gets when its listed hair colour is turned off


@dataclass(frozen=True)
class Counterfactual:
    """One rendered counterfactual: its spec, target labels (paper's 13, {0, 1}), image uint8 [H, W, 3],
    19-class part ids uint8 [H, W] and changed region bool [H, W]."""

    attribute: str
    spec: FaceSpec
    targets: np.ndarray
    image: np.ndarray
    labels: np.ndarray
    changed: np.ndarray


def paper_labels(spec: FaceSpec) -> np.ndarray:
    """The paper's 13 labels of ``spec`` as float32 ``[13]`` in {0, 1} (PAPER_ATTRIBUTES order)."""
    return (spec_to_labels(spec)[_PAPER_COLS] > 0).astype(np.float32)


def edit_targets(spec: FaceSpec, attribute: str) -> np.ndarray:
    """The protocol's targets ``[13]`` {0, 1} for the edit "invert ``attribute``" of ``spec``."""
    y = torch.from_numpy(paper_labels(spec))[None]
    return celeba_edit_targets(y, PAPER_ATTRIBUTES.index(attribute), PAPER_ATTRIBUTES)[0].numpy()


def spec_for_targets(spec: FaceSpec, targets: np.ndarray, beard_style: str, sunglasses: bool) -> FaceSpec:
    """``spec`` changed so that its paper labels equal ``targets`` ``[13]`` (see the module docstring)."""
    t = {a: bool(v > 0.5) for a, v in zip(PAPER_ATTRIBUTES, targets)}
    s = spec
    if t["Bald"] != s.bald:
        s = replace(s, bald=True, long_hair=False, hat=False) if t["Bald"] else replace(s, bald=False)
    if t["Bangs"] != s.bangs:
        s = replace(s, bangs=t["Bangs"])
    listed = [c for a, c in _LISTED_HAIR.items() if t[a]]
    if len(listed) > 1:
        raise ValueError(f"targets turn on several hair colours: {listed}")
    if listed:
        s = replace(s, hair_colour=listed[0])
    elif s.hair_colour in _LISTED_HAIR.values():
        s = replace(s, hair_colour=OTHER_HAIR)
    if t["Eyeglasses"] != s.eyeglasses:
        s = replace(s, eyeglasses=t["Eyeglasses"], sunglasses=t["Eyeglasses"] and sunglasses)
    if t["No_Beard"] != (s.beard == "none"):
        s = replace(s, beard="none" if t["No_Beard"] else beard_style)
    s = replace(
        s,
        bushy=t["Bushy_Eyebrows"],
        male=t["Male"],
        mouth_open=t["Mouth_Slightly_Open"],
        mustache=t["Mustache"],
        pale=t["Pale_Skin"],
        young=t["Young"],
    )
    got = paper_labels(s)
    if not np.array_equal(got, np.asarray(targets, np.float32)):
        bad = [a for a, g, w in zip(PAPER_ATTRIBUTES, got, targets) if g != w]
        raise AssertionError(f"counterfactual spec does not show its targets for {bad}")
    return s


def counterfactual_spec(spec: FaceSpec, attribute: str, beard_style: str, sunglasses: bool) -> tuple:
    """``(spec', targets [13])`` of the edit "invert ``attribute``" with the shared conflict rules."""
    if attribute not in PAPER_ATTRIBUTES:
        raise ValueError(f"unknown attribute {attribute!r}; valid: {', '.join(PAPER_ATTRIBUTES)}")
    targets = edit_targets(spec, attribute)
    new = spec_for_targets(spec, targets, beard_style, sunglasses)
    on = targets[PAPER_ATTRIBUTES.index(attribute)] > 0.5
    if on and new.receding and "Receding_Hairline" in conflicting_attributes(attribute, CELEBA_ATTRIBUTES):
        new = replace(new, receding=False)
    return new, targets


def render_counterfactuals(
    seed: int,
    index: int,
    width: int,
    height: int,
    attributes=PAPER_ATTRIBUTES,
    face: tuple | None = None,
) -> list[Counterfactual]:
    """Every counterfactual of face ``index`` (one per attribute). ``face`` = ``(spec, image, labels)``
    of the face when already rendered (``writer.make_face``), else it is rendered here."""
    nz = draw_nuisance(seed, index, width, height)
    if face is None:
        spec = sample_spec(np.random.default_rng([int(seed), int(index)]))
        img, lab = render_face(spec, nz, width, height)
    else:
        spec, img, lab = face
    out = []
    for a in attributes:
        cf_spec, targets = counterfactual_spec(spec, a, nz.beard_style, nz.sunglasses)
        cf_img, cf_lab = render_face(cf_spec, nz, width, height)
        d = cv2.absdiff(cf_img, img)  # [H, W, 3]; OR over channels is 10x faster than .any(axis=2)
        changed = ((d[..., 0] | d[..., 1] | d[..., 2]) > 0) | (cf_lab != lab)
        out.append(Counterfactual(a, cf_spec, targets, cf_img, cf_lab, changed))
    return out
