"""The external evaluation classifier (paper-notes §7): loading and prediction.

A classifier directory is an exported model folder (:mod:`secgan.models.export`) with
``classifier.safetensors`` and a ``config.json`` carrying ``{"kind": "classifier", "attributes": [...],
"multilabel": bool, "image_size": S, "dataset": name}``. Multi-label classifiers (CelebA attributes)
threshold each sigmoid at 0.5; multi-class ones (RaFD expressions) predict the one-hot argmax.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from secgan.errors import WeightsError
from secgan.models.export import ModelCard

CLASSIFIER_NAME = "classifier"


def load_classifier(
    directory: str | os.PathLike, device: str | torch.device = "cpu"
) -> tuple[nn.Module, dict[str, Any]]:
    """Load a classifier directory: ``(net in eval mode on device, meta)``."""
    from secgan.models.export import load_pretrained

    nets, meta = load_pretrained(directory, names=[CLASSIFIER_NAME], device=device)
    if meta.get("kind") != "classifier":
        raise WeightsError(
            f"{Path(directory) / 'config.json'}: not a classifier directory (kind={meta.get('kind')!r})"
        )
    return nets[CLASSIFIER_NAME], meta


def bundled_classifier_meta(net: nn.Module, card: ModelCard) -> dict[str, Any]:
    """The prediction meta of a classifier stored inside a model folder: the card's ``classifier`` when
    the exporter wrote one, else the model's attributes and the network's own input size."""
    cmeta: dict[str, Any] = dict(card.classifier or {})
    cmeta.setdefault("attributes", list(card.attributes))
    cmeta.setdefault("image_size", int(getattr(net, "image_size", card.image_size)))
    cmeta.setdefault("multilabel", bool(getattr(net, "multilabel", True)))
    n_out = getattr(getattr(net, "head", None), "out_features", None)
    if n_out is not None and n_out != len(cmeta["attributes"]):
        raise WeightsError(
            f"bundled classifier has {n_out} outputs but {len(cmeta['attributes'])} attribute names; "
            "the model folder's meta should carry classifier.attributes"
        )
    return cmeta


def classifier_columns(
    attributes: list[str] | tuple[str, ...],
    cmeta: dict[str, Any],
    source: str | os.PathLike = "the classifier",
) -> list[int]:
    """The classifier's output column of each model attribute, in the model's order; raises
    :class:`WeightsError` naming ``source`` when the classifier does not predict one of them."""
    names = list(cmeta.get("attributes") or [])
    missing = [a for a in attributes if a not in names]
    if missing:
        raise WeightsError(f"{source} does not predict {', '.join(missing)}; it predicts: {', '.join(names)}")
    return [names.index(a) for a in attributes]


def _fit(images: torch.Tensor, size: int) -> torch.Tensor:
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"classifier expects images [N, 3, H, W] in [-1, 1], got {tuple(images.shape)}")
    if tuple(images.shape[2:]) == (size, size):
        return images
    down = images.shape[2] > size
    return F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False, antialias=down)


@torch.no_grad()
def predict_probs(net: nn.Module, meta: dict[str, Any], images: torch.Tensor) -> torch.Tensor:
    """Images ``[N, 3, H, W]`` in ``[-1, 1]`` (resized to the classifier's size when needed) ->
    probabilities ``[N, n]``: per-attribute sigmoids (multi-label) or a softmax over classes."""
    net.eval()
    logits = net(_fit(images, int(meta["image_size"])))
    return torch.sigmoid(logits) if meta.get("multilabel", True) else torch.softmax(logits, dim=1)


@torch.no_grad()
def predict_labels(net: nn.Module, meta: dict[str, Any], images: torch.Tensor) -> torch.Tensor:
    """Images ``[N, 3, H, W]`` in ``[-1, 1]`` -> labels ``[N, n]`` float in ``{0, 1}`` (logit > 0, i.e.
    sigmoid > 0.5 as ``secgan evaluate`` decides it, without the float32 sigmoid rounding logits within
    ~6e-8 of 0 to exactly 0.5; or the one-hot argmax for a multi-class classifier)."""
    net.eval()
    logits = net(_fit(images, int(meta["image_size"])))
    if meta.get("multilabel", True):
        return (logits > 0).float()
    return F.one_hot(logits.argmax(dim=1), logits.shape[1]).float()


__all__ = [
    "CLASSIFIER_NAME",
    "bundled_classifier_meta",
    "classifier_columns",
    "load_classifier",
    "predict_labels",
    "predict_probs",
]
