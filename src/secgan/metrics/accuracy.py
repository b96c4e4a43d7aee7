"""Editing accuracy (paper §4.4, paper-notes §7).

Every test image is edited once per attribute (CelebA: invert attribute ``i``, then apply the conflict
rules) or once per expression (RaFD: to each of the 8), and the translation is classified by the external
classifier. An edit is correct when the classifier's decision for the edited attribute equals the target
(the edited attribute is always inverted, so the target always differs from the source there). The mean is
the unweighted mean over attributes/expressions. Per attribute, the counter also reports how many targets
the conflict rules changed beyond the edited attribute (``conflict_rule_targets``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

# the edit targets live with the conflict rules; re-exported under their earlier home
from secgan.data.attributes import celeba_edit_targets, rafd_edit_targets  # noqa: F401


def edit_correct(pred: torch.Tensor, y_trg: torch.Tensor, attr_index: int) -> torch.Tensor:
    """Per-image correctness ``[N]`` (bool) of a CelebA-style edit of attribute ``attr_index``.

    ``pred`` are the classifier's thresholded decisions ``[N, n_a]`` in {0, 1} on the translations and
    ``y_trg`` the targets. Correct when ``pred[:, i] == y_trg[:, i]``; where the target leaves ``i`` unchanged
    (``y_trg[:, i] == y_src[:, i]``, e.g. a hair colour that is already set) that is the source label.
    """
    return (pred[:, attr_index] > 0.5) == (y_trg[:, attr_index] > 0.5)


def implied_changes(y_src: torch.Tensor, y_trg: torch.Tensor, attr_index: int) -> torch.Tensor:
    """Per image ``[N]`` (bool): the target also switches an attribute other than ``attr_index`` (a conflict
    rule fired, e.g. "to blond" on black hair turns Black_Hair off)."""
    other = (y_trg > 0.5) != (y_src > 0.5)
    other[:, attr_index] = False
    return other.any(dim=1)


def edit_accuracy(
    pred: torch.Tensor, y_src: torch.Tensor, y_trg: torch.Tensor, attr_index: int
) -> dict[str, float | int]:
    """Accuracy of one attribute's edit: ``{"accuracy", "n", "n_implied"}``.

    Args:
        pred: classifier decisions on the translations ``[N, n_a]`` in {0, 1}.
        y_src, y_trg: source and target labels ``[N, n_a]`` in {0, 1}.
        attr_index: the edited attribute.

    ``n_implied`` counts the images whose target also switches another attribute by the conflict rules
    (:func:`implied_changes`).
    """
    correct = edit_correct(pred, y_trg, attr_index)
    return {
        "accuracy": float(correct.float().mean()),
        "n": int(correct.numel()),
        "n_implied": int(implied_changes(y_src, y_trg, attr_index).sum()),
    }


def expression_correct(logits_or_probs: torch.Tensor, expression_index: int) -> torch.Tensor:
    """Per-image correctness ``[N]`` of a RaFD edit to ``expression_index``: argmax equals the target."""
    return logits_or_probs.argmax(dim=1) == expression_index


class AccuracyCounter:
    """Counts correct edits per group (attribute or expression) over batches; reports the unweighted mean."""

    def __init__(self, groups: Sequence[str]) -> None:
        self.groups = list(groups)
        self.correct = [0] * len(groups)
        self.total = [0] * len(groups)
        self.implied = [0] * len(groups)

    def update(self, group: int, correct: torch.Tensor, implied: torch.Tensor | None = None) -> None:
        """Add a batch: ``correct`` bool ``[B]``; ``implied`` bool ``[B]``: the target also switched another
        attribute by the conflict rules (:func:`implied_changes`)."""
        self.correct[group] += int(correct.sum())
        self.total[group] += int(correct.numel())
        if implied is not None:
            self.implied[group] += int(implied.sum())

    def per_group(self) -> dict[str, float | None]:
        """Accuracy per group; ``None`` for a group that saw no image (kept JSON-valid, unlike NaN)."""
        return {g: (c / t if t else None) for g, c, t in zip(self.groups, self.correct, self.total)}

    def mean(self) -> float | None:
        """Unweighted mean over the groups that saw images."""
        values = [v for v in self.per_group().values() if v is not None]
        return sum(values) / len(values) if values else None

    def summary(self) -> dict:
        """``{"per_attribute": {name: acc}, "mean": acc, "counts": {name: n}, "conflict_rule_targets": {name:
        images whose target the conflict rules also changed}}``."""
        return {
            "per_attribute": self.per_group(),
            "mean": self.mean(),
            "counts": dict(zip(self.groups, self.total)),
            "conflict_rule_targets": dict(zip(self.groups, self.implied)),
        }
