"""What a user asks of the editor: edits (``+Bangs``, ``Young=-0.5``) validated against a model's attributes,
the global strength, and the target labels the edits mean (the conflict rules of
:func:`secgan.data.attributes.conflicting_attributes` applied)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import torch

from secgan.data.attributes import conflicting_attributes
from secgan.errors import ConfigError

# Largest accepted |value| of one edit and largest global strength (the trained strength is 1; the paper
# shows intensities up to 2; beyond that generators leave the range they were trained on).
MAX_EDIT_VALUE = 2.0
MAX_STRENGTH = 2.0


def canonical_attribute(name: str, attributes: Sequence[str], what: str = "edit") -> str:
    """The model's spelling of an attribute name given in any case (``bangs`` -> ``Bangs``); a
    :class:`ConfigError` listing the valid names when it is unknown."""
    if name in attributes:
        return name
    folded = {a.casefold(): a for a in attributes}
    hit = folded.get(name.strip().casefold())
    if hit is None:
        close = difflib.get_close_matches(name.strip().casefold(), list(folded), n=1, cutoff=0.6)
        hint = f"did you mean {folded[close[0]]}? " if close else ""
        raise ConfigError(
            f"{what}: unknown attribute {name!r} for this model; {hint}valid attributes: "
            f"{', '.join(attributes)}"
        )
    return hit


def check_strength(strength: float) -> float:
    """The global strength, validated: a finite number in ``[0, MAX_STRENGTH]`` (0 edits nothing)."""
    s = float(strength)
    if not (0.0 <= s <= MAX_STRENGTH):
        raise ConfigError(
            f"--strength must be between 0 and {MAX_STRENGTH:g} (1 = trained strength), got {strength}; "
            "reverse an edit with -Attribute instead of a negative strength"
        )
    return s


def parse_edits(edits: Mapping[str, float] | Sequence[str], attributes: Sequence[str]) -> dict[str, float]:
    """Validate edits: a mapping ``{name: value}`` or strings ``"+Bangs"``, ``"-Young"``, ``"Bangs=0.5"``.

    The sign of a value gives the direction (+ turns the attribute on, - off), its magnitude the strength
    of that edit (1 = trained strength, at most ``MAX_EDIT_VALUE``); 0 keeps the attribute. Names are
    matched case-insensitively and returned in the model's spelling; one string may hold several edits
    separated by commas (``"+Bangs,-Young"``). Unknown names (with the closest valid name), values out of
    range and an attribute given twice raise a :class:`ConfigError`.
    """
    out: dict[str, float] = {}
    items: list[tuple[str, float]] = []
    if isinstance(edits, Mapping):
        items = [(str(k), float(v)) for k, v in edits.items()]
    else:
        parts = [p for raw in edits for p in str(raw).split(",") if p.strip()]
        for raw in parts:
            s = str(raw).strip()
            if "=" in s:
                name, _, val = s.partition("=")
                try:
                    items.append((name.strip(), float(val)))
                except ValueError as err:
                    raise ConfigError(f"bad edit {raw!r}: the value after '=' must be a number") from err
            elif s[:1] in "+-" and len(s) > 1:
                items.append((s[1:].strip(), 1.0 if s[0] == "+" else -1.0))
            else:
                raise ConfigError(f"bad edit {raw!r}: write +Attribute, -Attribute or Attribute=VALUE")
    for name, value in items:
        name = canonical_attribute(name, attributes)
        if value != value or abs(value) == float("inf"):
            raise ConfigError(f"edit of {name!r}: value must be a finite number, got {value}")
        if abs(value) > MAX_EDIT_VALUE:
            raise ConfigError(
                f"edit of {name!r}: value {value:g} is out of range; use -{MAX_EDIT_VALUE:g} .. "
                f"+{MAX_EDIT_VALUE:g} (sign = direction, 1 = trained strength)"
            )
        if name in out and out[name] != value:
            raise ConfigError(
                f"attribute {name!r} is edited twice ({out[name]:g} and {value:g}); give it once"
            )
        out[name] = value
    return out


def redundant_edits(
    edits: Mapping[str, float],
    attributes: Sequence[str],
    source: Sequence[float],
    probs: Sequence[float] | None = None,
) -> list[str]:
    """Why an edit leaves a face as it is: each non-zero edit that asks for what the face already has
    (``+Black_Hair`` on a face with black hair: ``"already Black_Hair (p = 0.87)"``; ``-Young`` on a face
    that is not young: ``"already not Young (p = 0.12)"``). ``source``: the face's ``[n_a]`` labels in
    {0, 1}; ``probs``: the classifier's probabilities (``None`` when the labels were given)."""
    reasons = []
    for name, value in edits.items():
        if value == 0 or name not in attributes:
            continue
        j = list(attributes).index(name)
        has = float(source[j]) > 0.5
        if has != (value > 0):
            continue
        p = f" (p = {float(probs[j]):.2f})" if probs is not None else " (given by --source)"
        reasons.append(f"already {'' if has else 'not '}{name}{p}")
    return reasons


def effective_edits(edits: Mapping[str, float], strength: float = 1.0) -> dict[str, float]:
    """The per-attribute values actually applied: each edit's value times the global strength (0 = kept)."""
    return {k: round(float(v) * float(strength), 6) for k, v in edits.items()}


def edit_targets(
    y_src: torch.Tensor, edits: Mapping[str, float], attributes: Sequence[str], onehot: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Target labels for the edits.

    Args:
        y_src: ``[N, n_a]`` source labels in {0, 1}.
        edits: validated ``{name: value}`` (see :func:`parse_edits`); 0 = keep.
        attributes: the ``n_a`` attribute names (column order).
        onehot: the labels are one-hot classes (RaFD expressions): ``+name`` moves the face to that class
            (every other class off); only one class can be the target.

    Returns:
        ``(y_trg [N, n_a] in {0, 1}, weight [N, n_a] >= 0, edited [N, n_a] bool)``: the target with every
        edited attribute set (+ -> 1, - -> 0) and the conflict rules applied (an explicit edit wins over
        an implied one); the strength of each change (an implied change takes the strength of the edit
        that caused it); the explicitly edited attributes.
    """
    n_a = len(attributes)
    if y_src.dim() != 2 or y_src.shape[1] != n_a:
        raise ValueError(f"y_src must be [N, {n_a}], got {tuple(y_src.shape)}")
    y = y_src.clone().float()
    weight = torch.zeros_like(y)
    edited = torch.zeros_like(y, dtype=torch.bool)
    active = {k: v for k, v in edits.items() if v != 0}
    if (
        onehot
        and active
        and (sum(v > 0 for v in active.values()) != 1 or any(v < 0 for v in active.values()))
    ):
        raise ConfigError(
            f"this model's classes are exclusive ({', '.join(attributes)}): give exactly one +class edit, "
            "e.g. --edit +happy"
        )
    for name, value in active.items():  # implied changes first ...
        if value > 0:
            offs = (
                [a for a in attributes if a != name] if onehot else conflicting_attributes(name, attributes)
            )
            for off in offs:
                j = attributes.index(off)
                y[:, j] = 0
                weight[:, j] = torch.maximum(weight[:, j], torch.full_like(weight[:, j], abs(value)))
    for name, value in active.items():  # ... then the explicit edits, which win
        j = attributes.index(name)
        y[:, j] = 1.0 if value > 0 else 0.0
        weight[:, j] = abs(value)
        edited[:, j] = True
    return y, weight, edited
