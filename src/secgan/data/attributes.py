"""Attribute and expression names, in the orders the original files and the paper use."""

from __future__ import annotations

from collections.abc import Sequence

from secgan.errors import ConfigError

# The 40 CelebA attributes in the column order of list_attr_celeba.txt.
CELEBA_ATTRIBUTES: tuple[str, ...] = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby",
    "Double_Chin", "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male",
    "Mouth_Slightly_Open", "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose",
    "Receding_Hairline", "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair",
    "Wearing_Earrings", "Wearing_Hat", "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young",
)  # fmt: skip

# The paper's 13 attributes, in the AttGAN order (paper §4.1, SPEC §6).
PAPER_ATTRIBUTES: tuple[str, ...] = (
    "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Bushy_Eyebrows", "Eyeglasses", "Male",
    "Mouth_Slightly_Open", "Mustache", "No_Beard", "Pale_Skin", "Young",
)  # fmt: skip

# The official StarGAN's public CelebA model uses these 5, in this order.
STARGAN_PUBLIC_ATTRIBUTES: tuple[str, ...] = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")

HAIR_COLOURS: tuple[str, ...] = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")

HAIR_SHAPES: tuple[str, ...] = ("Straight_Hair", "Wavy_Hair")

# RaFD's 8 expressions, alphabetical as in the file names (SPEC §6).
RAFD_EXPRESSIONS: tuple[str, ...] = (
    "angry", "contemptuous", "disgusted", "fearful", "happy", "neutral", "sad", "surprised",
)  # fmt: skip


def resolve_attributes(
    names: Sequence[str] | str | None, valid: Sequence[str] = CELEBA_ATTRIBUTES
) -> list[str]:
    """Validate attribute names (a list or a comma-separated string); ``None`` gives the paper's 13.

    Raises a :class:`ConfigError` naming the unknown attribute and listing the valid ones.
    """
    if names is None:
        return list(PAPER_ATTRIBUTES)
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: list[str] = []
    for name in names:
        if name not in valid:
            raise ConfigError(f"unknown attribute {name!r}; valid attributes: {', '.join(valid)}")
        if name in out:
            raise ConfigError(f"attribute {name!r} is listed twice")
        out.append(name)
    if not out:
        raise ConfigError("no attributes given")
    return out


def conflicting_attributes(name: str, attributes: Sequence[str]) -> list[str]:
    """The attributes of ``attributes`` that turning ``name`` *on* turns off (SPEC §7, as AttGAN/STGAN's
    ``check_attribute_conflict``): another hair colour for a hair colour, Bangs for Bald (and
    Receding_Hairline), Bald (and Receding_Hairline) for Bangs, the other hair shape for Straight/Wavy hair.

    The one definition used by the evaluation protocol, the training sample grids and the editor.
    """
    if name in HAIR_COLOURS:
        offs = [h for h in HAIR_COLOURS if h != name]
    elif name in ("Bald", "Receding_Hairline"):
        offs = ["Bangs"]
    elif name == "Bangs":
        offs = ["Bald", "Receding_Hairline"]
    elif name in HAIR_SHAPES:
        offs = [h for h in HAIR_SHAPES if h != name]
    else:
        offs = []
    return [a for a in offs if a in attributes]
