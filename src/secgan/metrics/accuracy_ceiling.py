"""The editing-accuracy ceiling of a dataset with counterfactuals: the evaluation classifier's accuracy on
the ground-truth edits themselves.

Editing accuracy (:mod:`secgan.metrics.accuracy`) asks the classifier whether an edit shows its target
labels. A perfect editor outputs exactly the counterfactual rendering, so the classifier's verdict on the
counterfactuals is the most any editor can score under the protocol: the classifier's own errors on edited
faces (a face turned bald that it still calls "hair", a faint moustache) cap the score below 100 %. The
targets are the protocol's (:func:`secgan.data.attributes.celeba_edit_targets`: invert the attribute, then
the conflict rules), the ones the counterfactuals were rendered with.

Usage::

    cnet, cmeta = load_classifier("DEMO/classifier")
    ceiling = counterfactual_accuracy("DEMO/data", cnet, cmeta, image_size=64)
    ceiling["mean"], ceiling["per_attribute"]["Bald"]        # fractions in [0, 1]
"""

from __future__ import annotations

import os
from typing import Any

import torch
from tqdm import tqdm

from secgan.auxiliary.classifier import classifier_columns
from secgan.data.attributes import celeba_edit_targets
from secgan.data.counterfactuals import counterfactual_attributes, load_counterfactual
from secgan.data.registry import build_dataset
from secgan.errors import DataError
from secgan.metrics.accuracy import AccuracyCounter, edit_correct
from secgan.metrics.features import ClassifierFeatures


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

    Returns ``{"per_attribute": {a: fraction}, "mean": fraction, "images": N, "attributes": [...]}`` over the
    attributes that have counterfactuals, in the dataset's order.
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
            counter.update(k, edit_correct((logits > 0).float(), y_trg, gi))
    return {
        "per_attribute": counter.per_group(),
        "mean": counter.mean(),
        "images": len(ds),
        "attributes": scored,
    }
