"""Attribute and expression names, in the orders the original files and the paper use, and the edit
rules on them: which attributes an edit turns off (the conflict rules) and the edit targets of the
evaluation protocol and the training sample grids (paper-notes §7)."""

from __future__ import annotations

from collections.abc import Sequence

import torch

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

# The paper's 13 attributes, in the AttGAN order (paper §4.1, paper-notes §6).
PAPER_ATTRIBUTES: tuple[str, ...] = (
    "Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Bushy_Eyebrows", "Eyeglasses", "Male",
    "Mouth_Slightly_Open", "Mustache", "No_Beard", "Pale_Skin", "Young",
)  # fmt: skip

# The official StarGAN's public CelebA model uses these 5, in this order.
STARGAN_PUBLIC_ATTRIBUTES: tuple[str, ...] = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young")

HAIR_COLOURS: tuple[str, ...] = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")

HAIR_SHAPES: tuple[str, ...] = ("Straight_Hair", "Wavy_Hair")

# Mutually exclusive facial-hair labels of AttGAN-PyTorch's check_attribute_conflict: adding a mustache
# turns No_Beard off, adding No_Beard removes the mustache.
FACIAL_HAIR: tuple[str, ...] = ("Mustache", "No_Beard")

# RaFD's 8 expressions, alphabetical as in the file names (paper-notes §6).
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
    """The attributes of ``attributes`` that turning ``name`` *on* turns off (paper-notes §7, as AttGAN/STGAN's
    ``check_attribute_conflict``): another hair colour for a hair colour, Bangs for Bald (and
    Receding_Hairline), Bald (and Receding_Hairline) for Bangs, the other hair shape for Straight/Wavy hair,
    No_Beard for Mustache and Mustache for No_Beard. As in the reference, turning an attribute *off*
    changes nothing else.

    The one definition used by the evaluation protocol, the training sample grids, the editor and the
    synthetic counterfactual renderer.
    """
    if name in HAIR_COLOURS:
        offs = [h for h in HAIR_COLOURS if h != name]
    elif name in ("Bald", "Receding_Hairline"):
        offs = ["Bangs"]
    elif name == "Bangs":
        offs = ["Bald", "Receding_Hairline"]
    elif name in HAIR_SHAPES:
        offs = [h for h in HAIR_SHAPES if h != name]
    elif name in FACIAL_HAIR:
        offs = [h for h in FACIAL_HAIR if h != name]
    else:
        offs = []
    return [a for a in offs if a in attributes]


def celeba_edit_targets(y_src: torch.Tensor, attr_index: int, attributes: Sequence[str]) -> torch.Tensor:
    """Targets ``[N, n_a]`` in {0, 1} for the edit "invert attribute ``attr_index``".

    Conflict rules (paper-notes §7, as in AttGAN/STGAN's ``check_attribute_conflict``), applied to the images where
    the edited attribute is turned *on*: a hair colour turns the other hair colours off; ``Bald`` (and
    ``Receding_Hairline``) turns ``Bangs`` off; ``Bangs`` turns ``Bald`` (and ``Receding_Hairline``) off;
    ``Straight_Hair`` / ``Wavy_Hair`` turn each other off; ``Mustache`` / ``No_Beard`` turn each other off.
    Attributes not in ``attributes`` are ignored.

    Args:
        y_src: source labels ``[N, n_a]`` in {0, 1}, columns in the order of ``attributes``.
        attr_index: the edited attribute.
        attributes: the ``n_a`` attribute names.
    """
    attributes = list(attributes)
    if y_src.dim() != 2 or y_src.shape[1] != len(attributes):
        raise ValueError(f"y_src must be [N, {len(attributes)}], got {tuple(y_src.shape)}")
    name = attributes[attr_index]
    y = y_src.clone()
    y[:, attr_index] = 1 - y[:, attr_index]
    turned_on = y[:, attr_index] > 0.5
    off = [attributes.index(a) for a in conflicting_attributes(name, attributes)]
    for j in off:
        y[turned_on, j] = 0
    return y


def rafd_edit_targets(n: int, expression_index: int, n_expressions: int = 8, device=None) -> torch.Tensor:
    """One-hot targets ``[n, n_expressions]`` for the edit "to expression ``expression_index``"."""
    y = torch.zeros(n, n_expressions, device=device)
    y[:, expression_index] = 1
    return y


def protocol_edit_targets(
    y_src: torch.Tensor, index: int, attributes: Sequence[str], onehot: bool = False
) -> torch.Tensor:
    """The evaluation protocol's targets ``[N, n_a]`` for edit ``index`` of ``y_src [N, n_a]``: one-hot
    class ``index`` (:func:`rafd_edit_targets`, ``onehot``) or attribute ``index`` inverted with the
    conflict rules (:func:`celeba_edit_targets`). A dataset's entry in ``secgan.data.registry`` says which."""
    if onehot:
        return rafd_edit_targets(y_src.shape[0], index, len(attributes), device=y_src.device)
    return celeba_edit_targets(y_src, index, attributes)


def attribute_edit_targets(
    y: torch.Tensor, attributes: Sequence[str], onehot: bool = False
) -> list[torch.Tensor]:
    """One target label set per attribute: ``[n_a]`` tensors ``[N, n_a]``.

    Multi-label (CelebA): invert attribute ``i``, then apply the conflict rules of the evaluation protocol
    (paper-notes §7): turning a hair colour on turns the other hair colours off; Bald on turns Bangs off; Bangs on
    turns Bald off; Mustache and No_Beard turn each other off (:func:`celeba_edit_targets`). One-hot (RaFD): target ``i`` is expression ``i``.
    """
    y = y.float()
    n_a = y.shape[1]
    names = list(attributes)
    targets = []
    for i in range(n_a):
        if onehot:
            t = torch.zeros_like(y)
            t[:, i] = 1
            targets.append(t)
            continue
        targets.append(celeba_edit_targets(y, i, names))
    return targets
