"""What one synthetic face shows: its attributes (sampled with CelebA-like correlations) and the 40
CelebA labels that describe it.

Only attributes the renderer draws are ever +1; the ones it cannot show (Attractive, Blurry, Chubby,
Double_Chin, High_Cheekbones, Oval_Face, 5_o_Clock_Shadow) are always -1 so no label is noise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from secgan.data.attributes import CELEBA_ATTRIBUTES

# Hair colours the renderer knows; "red" (auburn) is the "no listed colour" case (all four labels -1).
HAIR_COLOURS = ("black", "blond", "brown", "gray", "red")
HAIR_RGB = {
    "black": (24, 20, 20),
    "blond": (226, 196, 128),
    "brown": (104, 64, 36),
    "gray": (178, 178, 182),
    "red": (168, 58, 28),
}
_HAIR_LABEL = {"black": "Black_Hair", "blond": "Blond_Hair", "brown": "Brown_Hair", "gray": "Gray_Hair"}


@dataclass(frozen=True)
class FaceSpec:
    """The visible attributes of one synthetic face."""

    male: bool
    young: bool
    bald: bool
    bangs: bool
    hat: bool
    hair_colour: str  # one of HAIR_COLOURS
    long_hair: bool
    wavy: bool
    receding: bool
    eyeglasses: bool
    sunglasses: bool
    mouth_open: bool
    smiling: bool
    bushy: bool
    arched: bool
    mustache: bool
    beard: str  # "none" | "full" | "goatee"
    pale: bool
    lipstick: bool
    makeup: bool
    rosy: bool
    earrings: bool
    necklace: bool
    necktie: bool
    narrow_eyes: bool
    big_lips: bool
    big_nose: bool
    pointy_nose: bool

    def to_dict(self) -> dict:
        return asdict(self)


def sample_spec(rng: np.random.Generator) -> FaceSpec:
    """Draw one face's attributes. Frequencies (approx.): Male 45%, Young 75%, Bald 5% (male, mostly
    old), Bangs 16%, Eyeglasses 14%, Mouth_Slightly_Open 45%, Bushy_Eyebrows 15%, Mustache 11% (male),
    beard 17% (male), Pale_Skin 10%, hair black/blond/brown/gray/other about 23/19/23/12/23%."""
    r = rng.random
    male = r() < 0.45
    young = r() < 0.75
    bald = male and r() < (0.03 if young else 0.32)
    hat = (not bald) and r() < 0.07
    bangs = (not bald) and r() < (0.12 if male else 0.20)
    if young:
        p = {"black": 0.27, "blond": 0.14 if male else 0.28, "brown": 0.27, "gray": 0.015, "red": 0.0}
    else:
        p = {"black": 0.15, "blond": 0.07, "brown": 0.15, "gray": 0.50, "red": 0.13}
    rest = max(0.0, 1.0 - sum(p.values()))
    p["red"] += rest
    probs = np.array([p[c] for c in HAIR_COLOURS])
    hair_colour = HAIR_COLOURS[int(rng.choice(len(HAIR_COLOURS), p=probs / probs.sum()))]
    long_hair = (not bald) and r() < (0.08 if male else 0.88)
    wavy = r() < 0.35
    receding = male and (not bald) and (not young) and r() < 0.4
    eyeglasses = r() < (0.11 if young else 0.24)
    sunglasses = eyeglasses and r() < 0.15
    mouth_open = r() < 0.45
    smiling = r() < (0.7 if mouth_open else 0.25)
    bushy = r() < (0.26 if male else 0.07)
    arched = (not male) and (not bushy) and r() < 0.5
    mustache = male and r() < 0.25
    if male and r() < (0.7 if mustache else 0.22):
        beard = "full" if r() < 0.7 else "goatee"
    else:
        beard = "none"
    pale = r() < 0.10
    lipstick = (not male) and r() < 0.55
    makeup = lipstick and r() < 0.6
    rosy = (not male) and r() < 0.12
    earrings = r() < (0.04 if male else 0.50)
    necklace = r() < (0.02 if male else 0.18)
    necktie = male and r() < 0.15
    narrow_eyes = r() < 0.10
    big_lips = r() < 0.2
    big_nose = r() < 0.2
    pointy_nose = (not big_nose) and r() < 0.25
    return FaceSpec(
        male=male, young=young, bald=bald, bangs=bangs, hat=hat, hair_colour=hair_colour,
        long_hair=long_hair, wavy=wavy, receding=receding, eyeglasses=eyeglasses, sunglasses=sunglasses,
        mouth_open=mouth_open, smiling=smiling, bushy=bushy, arched=arched, mustache=mustache, beard=beard,
        pale=pale, lipstick=lipstick, makeup=makeup, rosy=rosy, earrings=earrings, necklace=necklace,
        necktie=necktie, narrow_eyes=narrow_eyes, big_lips=big_lips, big_nose=big_nose,
        pointy_nose=pointy_nose,
    )  # fmt: skip


def spec_to_labels(spec: FaceSpec) -> np.ndarray:
    """The 40 CelebA labels (file order, int8 in {-1, 1}) of a face."""
    on: set[str] = set()
    if spec.hair_colour in _HAIR_LABEL:
        on.add(_HAIR_LABEL[spec.hair_colour])
    flags = {
        "Bald": spec.bald,
        "Bangs": spec.bangs,
        "Bags_Under_Eyes": not spec.young,
        "Big_Lips": spec.big_lips,
        "Big_Nose": spec.big_nose,
        "Bushy_Eyebrows": spec.bushy,
        "Arched_Eyebrows": spec.arched,
        "Eyeglasses": spec.eyeglasses,
        "Goatee": spec.beard == "goatee",
        "Heavy_Makeup": spec.makeup,
        "Male": spec.male,
        "Mouth_Slightly_Open": spec.mouth_open,
        "Mustache": spec.mustache,
        "Narrow_Eyes": spec.narrow_eyes,
        "No_Beard": spec.beard == "none",
        "Pale_Skin": spec.pale,
        "Pointy_Nose": spec.pointy_nose,
        "Receding_Hairline": spec.receding,
        "Rosy_Cheeks": spec.rosy,
        "Sideburns": spec.beard == "full",
        "Smiling": spec.smiling,
        "Straight_Hair": (not spec.bald) and not spec.wavy,
        "Wavy_Hair": (not spec.bald) and spec.wavy,
        "Wearing_Earrings": spec.earrings,
        "Wearing_Hat": spec.hat,
        "Wearing_Lipstick": spec.lipstick,
        "Wearing_Necklace": spec.necklace,
        "Wearing_Necktie": spec.necktie,
        "Young": spec.young,
    }
    on.update(k for k, v in flags.items() if v)
    return np.array([1 if a in on else -1 for a in CELEBA_ATTRIBUTES], dtype=np.int8)
