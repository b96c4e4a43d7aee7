"""The editing-accuracy ceiling of a dataset with counterfactuals: the evaluation classifier's accuracy on
the ground-truth edits themselves.

Editing accuracy (:mod:`secgan.metrics.accuracy`) asks the classifier whether an edit shows its target
labels. A perfect editor outputs exactly the counterfactual rendering, so the classifier's verdict on the
counterfactuals is the most any editor can score under the protocol: the classifier's own errors on edited
faces (a face turned bald that it still calls "hair", a faint moustache) cap the score below 100 %. The
targets are the protocol's (:func:`secgan.data.attributes.celeba_edit_targets`: invert the attribute, then
the conflict rules), the ones the counterfactuals were rendered with.

**In and off the training distribution.** A counterfactual is *off-distribution* when its labels (the
evaluated attributes, in {0, 1}) hold a pair of values that no training face shows: some attributes
``a != b`` with ``(y_a, y_b)`` never seen together among the training split's labels (a woman with a beard:
``Male = 0, No_Beard = 0``; a bald woman: ``Bald = 1, Male = 0``). Otherwise it is *in-distribution*
(every pair of its values occurs in some training face; the full combination need not). A classifier that
reads an attribute from a correlate (a beard for ``Male``) fails exactly the off-distribution ones, so the
ceiling is reported for both kinds (:class:`DistributionCeiling`), and every attribute whose ceiling is
below :data:`CEILING_TARGET` is listed.

Usage::

    cnet, cmeta = load_classifier("DEMO/classifier")
    ceiling = counterfactual_accuracy("DEMO/data", cnet, cmeta, image_size=64, split="val")
    ceiling["mean"], ceiling["per_attribute"]["Bald"]        # fractions in [0, 1]
    ceiling["ceiling_off_distribution"]["Bald"]               # None when no Bald edit is off-distribution
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from secgan.auxiliary.classifier import classifier_columns
from secgan.data.attributes import celeba_edit_targets
from secgan.data.counterfactuals import counterfactual_attributes, load_counterfactual
from secgan.data.registry import build_dataset
from secgan.errors import DataError
from secgan.metrics.accuracy import AccuracyCounter, edit_correct
from secgan.metrics.features import ClassifierFeatures

CEILING_TARGET = 0.95  # a ruler whose ceiling on an attribute is lower is flagged for that attribute
OFF_DISTRIBUTION_DEFINITION = (
    "a counterfactual is off-distribution when two of its evaluated labels take a pair of values that no "
    "training face shows (e.g. Male 0 with No_Beard 0); otherwise in-distribution"
)


def seen_pairs(train_labels: np.ndarray) -> np.ndarray:
    """Which label pairs the training faces show: ``train_labels`` ``[N, A]`` in {0, 1} -> bool
    ``[A, A, 2, 2]``, ``[a, b, u, v]`` true when some face has ``y_a = u`` and ``y_b = v``."""
    y = np.asarray(train_labels) > 0.5  # [N, A]
    onehot = np.stack([~y, y], axis=2).astype(np.int64)  # [N, A, 2]
    return np.einsum("nau,nbv->abuv", onehot, onehot) > 0


def off_distribution(labels: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """bool ``[M]``: whether each label row ``labels`` ``[M, A]`` in {0, 1} holds a pair of values that
    ``seen`` (:func:`seen_pairs`) never saw."""
    y = (np.asarray(labels) > 0.5).astype(np.int64)  # [M, A]
    a = np.arange(y.shape[1])
    ok = seen[a[None, :, None], a[None, None, :], y[:, :, None], y[:, None, :]]  # [M, A, A]
    return ~ok.all(axis=(1, 2))


class DistributionCeiling:
    """Counts the ceiling's verdicts separately for in- and off-distribution counterfactuals.

    Args:
        attributes: the evaluated attributes (the order of the targets' columns).
        train_labels: the training faces' labels ``[N, A]`` in {0, 1}, same columns.
    """

    def __init__(self, attributes: Sequence[str], train_labels: np.ndarray) -> None:
        self.attributes = list(attributes)
        if np.asarray(train_labels).shape[1:] != (len(self.attributes),):
            raise ValueError(
                f"train labels {np.shape(train_labels)} do not have {len(self.attributes)} columns"
            )
        self.seen = seen_pairs(train_labels)
        self.counters = {"in": AccuracyCounter(self.attributes), "off": AccuracyCounter(self.attributes)}

    @classmethod
    def of_dataset(cls, root: str | os.PathLike, attributes: Sequence[str]) -> DistributionCeiling:
        """The counter for a CelebA-format ``root``: its training split's labels define the distribution."""
        train = build_dataset("celeba", root, split="train", attrs=list(attributes))
        return cls(attributes, train.labels.numpy())  # [N, A] in {0, 1}

    def update(self, group: int, targets: torch.Tensor, correct: torch.Tensor) -> None:
        """Add the verdicts ``correct`` bool ``[B]`` on the counterfactuals of edit ``group`` whose labels
        are ``targets`` ``[B, A]`` in {0, 1}."""
        off = torch.from_numpy(off_distribution(targets.detach().cpu().numpy(), self.seen))
        correct = correct.detach().cpu().bool()
        self.counters["in"].update(group, correct[~off])
        self.counters["off"].update(group, correct[off])

    def summary(self) -> dict[str, Any]:
        """``{"ceiling_in_distribution": {a: fraction or None}, "ceiling_off_distribution": {...},
        "ceiling_below_target": [a, ...] (ceiling over both kinds < CEILING_TARGET),
        "ceiling_distribution_counts": {a: {"in": n, "off": n}}, "ceiling_distribution_definition": str}``."""
        c_in, c_off = self.counters["in"], self.counters["off"]
        below = []
        for k, a in enumerate(self.attributes):
            n = c_in.total[k] + c_off.total[k]
            if n and (c_in.correct[k] + c_off.correct[k]) / n < CEILING_TARGET:
                below.append(a)
        return {
            "ceiling_in_distribution": c_in.per_group(),
            "ceiling_off_distribution": c_off.per_group(),
            "ceiling_below_target": below,
            "ceiling_distribution_counts": {
                a: {"in": c_in.total[k], "off": c_off.total[k]} for k, a in enumerate(self.attributes)
            },
            "ceiling_distribution_definition": OFF_DISTRIBUTION_DEFINITION,
            "ceiling_target": CEILING_TARGET,
        }


def ceiling_keys(dist: DistributionCeiling | None) -> dict[str, Any]:
    """The ``metrics.json["accuracy"]`` keys of :meth:`DistributionCeiling.summary`, all ``None`` without
    counterfactuals (so a reader always finds them)."""
    if dist is None or not any(t for c in dist.counters.values() for t in c.total):
        return {
            "ceiling_in_distribution": None,
            "ceiling_off_distribution": None,
            "ceiling_below_target": None,
        }
    return dist.summary()


@torch.no_grad()
def counterfactual_accuracy(
    root: str | os.PathLike,
    cnet: torch.nn.Module,
    cmeta: dict[str, Any],
    image_size: int,
    split: str = "test",
    max_images: int | None = None,
    batch: int = 64,
    device: str | torch.device = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """The classifier's editing accuracy on the counterfactuals of ``root``'s ``split``.

    Args:
        root: a CelebA-format dataset folder with ``counterfactuals/`` (``secgan synth``).
        cnet, cmeta: the evaluation classifier and its meta (:func:`secgan.auxiliary.classifier.load_classifier`).
        image_size: the evaluation resolution ``S`` (the counterfactuals are cropped and resized as the data).
        max_images: the first N images of the split (None: all).

    Returns ``{"per_attribute": {a: fraction}, "mean": fraction, "images": N, "attributes": [...], "split"}``
    over the attributes that have counterfactuals, in the dataset's order, plus the keys of
    :meth:`DistributionCeiling.summary` (in- and off-distribution ceilings, the attributes below target).
    """
    have = set(counterfactual_attributes(root))
    if not have:
        raise DataError(f"{root}: no counterfactuals (write the data with `secgan synth`)")
    ds = build_dataset("celeba", root, split=split, image_size=image_size, flip=False, max_items=max_images)
    attributes = list(ds.attributes)
    scored = [a for a in attributes if a in have]
    cols = classifier_columns(attributes, cmeta, "the classifier")
    feats = ClassifierFeatures(cnet, int(cmeta.get("image_size", image_size)), True)
    counter = AccuracyCounter(scored)
    dist = DistributionCeiling.of_dataset(root, attributes)
    y_all = ds.labels  # [N, n_a] in {0, 1}, no image decoded
    names = list(ds.names)
    for start in tqdm(range(0, len(ds), batch), desc="ceiling", unit="batch", disable=not progress):
        y_src = y_all[start : start + batch]
        for k, a in enumerate(scored):
            gi = attributes.index(a)
            y_trg = celeba_edit_targets(y_src, gi, attributes)
            loaded = [load_counterfactual(root, n, a, image_size) for n in names[start : start + batch]]
            missing = [n for n, v in zip(names[start : start + batch], loaded, strict=True) if v is None]
            if missing:
                raise DataError(f"{root}: no {a} counterfactual for test image {missing[0]}")
            x = torch.stack([v[0] for v in loaded]).to(device)  # [B, 3, S, S] in [-1, 1]
            logits = feats.logits_and_features(x)[0][:, cols].cpu()
            ok = edit_correct((logits > 0).float(), y_trg, gi)
            counter.update(k, ok)
            dist.update(gi, y_trg, ok)
    summary = dist.summary()
    return {
        "per_attribute": counter.per_group(),
        "mean": counter.mean(),
        "images": len(ds),
        "attributes": scored,
        "split": split,
        **{k: v if not isinstance(v, dict) else {a: v.get(a) for a in scored} for k, v in summary.items()},
    }
