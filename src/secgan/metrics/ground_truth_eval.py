"""Ground-truth scoring inside an evaluation: for each batch of edits of one attribute, load the
counterfactuals of the batch's images (``secgan.data.counterfactuals``), parse the edits, and collect the
per-image metrics of :mod:`secgan.metrics.ground_truth`.

Usage in the evaluation loop::

    gt = GroundTruthScorer.maybe(data_root, split, attributes, image_size)   # None: no counterfactuals
    ...
    if gt is not None:
        gt.update(attribute, batch["name"], x, x_out, parser)                 # x, x_out [B, 3, S, S]
    ...
    metrics["ground_truth"] = gt.summary()
    arrays = gt.per_image()   # {"names": [N], "attributes": [A], "gt_<metric>": float64 [N, A]}
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from secgan.data.counterfactuals import counterfactual_attributes, load_counterfactual
from secgan.errors import DataError

from .ground_truth import METRICS, GroundTruthCounter, ground_truth_metrics

log = logging.getLogger(__name__)


class GroundTruthScorer:
    """Scores edits against the counterfactuals stored under a CelebA-format ``root``.

    Args:
        root: dataset folder (with ``counterfactuals/``).
        split: the evaluated split (``test``; the counterfactuals cover the test split).
        attributes: the evaluated attributes, in the evaluation's order.
        image_size: the evaluation resolution ``S``.
    """

    def __init__(
        self, root: str | os.PathLike, split: str, attributes: Sequence[str], image_size: int
    ) -> None:
        from secgan.data.registry import build_dataset

        self.root = Path(root)
        self.attributes = list(attributes)
        self.image_size = int(image_size)
        self.available = set(counterfactual_attributes(root))
        ds = build_dataset("celeba", root, split=split, image_size=image_size, masks="gt")
        if not ds.has_masks:
            raise DataError(f"{root}: counterfactuals need the part masks of the source images (none found)")
        self._ds = ds
        self._index = {n: i for i, n in enumerate(ds.names)}
        self._source_masks: dict[str, torch.Tensor] = {}
        self.counter = GroundTruthCounter(self.attributes)
        self.names: dict[str, list[str]] = {a: [] for a in self.attributes}
        self.missing = 0

    @classmethod
    def maybe(
        cls, root: str | os.PathLike, split: str, attributes: Sequence[str], image_size: int
    ) -> GroundTruthScorer | None:
        """A scorer when ``root`` has counterfactuals for any of ``attributes``, else ``None``."""
        if not set(counterfactual_attributes(root)) & set(attributes):
            return None
        return cls(root, split, attributes, image_size)

    def _source_mask(self, name: str) -> torch.Tensor:
        if name not in self._source_masks:
            if name not in self._index:
                raise DataError(f"{self.root}: image {name} is not in the evaluated split")
            self._source_masks[name] = self._ds.load(self._index[name])["mask"].to(torch.uint8)
        return self._source_masks[name].long()

    @torch.no_grad()
    def update(
        self,
        attribute: str,
        names: Sequence[str],
        source: torch.Tensor,
        edited: torch.Tensor,
        parser=None,
    ) -> None:
        """Score one batch: ``source`` and ``edited`` ``[B, 3, S, S]`` in [-1, 1]; ``parser`` (a frozen parser
        with ``labels12(x) -> [B, S, S]``) or ``None`` (then shape IoU and mIoU are NaN). Images without a
        counterfactual get NaN everywhere (counted in :attr:`missing`)."""
        if attribute not in self.counter.values:
            raise KeyError(f"unknown attribute {attribute!r}; scored: {', '.join(self.attributes)}")
        b = len(names)
        nan = {m: np.full(b, np.nan) for m in METRICS}
        if attribute not in self.available:
            self.counter.update(attribute, nan)
            self.names[attribute] += list(names)
            self.missing += b
            return
        loaded = [load_counterfactual(self.root, n, attribute, self.image_size) for n in names]
        have = [k for k, v in enumerate(loaded) if v is not None]
        self.missing += b - len(have)
        if have:
            dev = edited.device
            target = torch.stack([loaded[k][0] for k in have]).to(dev)
            target_mask = torch.stack([loaded[k][1] for k in have]).to(dev)
            changed = torch.stack([loaded[k][2] for k in have]).to(dev)
            source_mask = torch.stack([self._source_mask(names[k]) for k in have]).to(dev)
            idx = torch.tensor(have, device=dev)
            x_out, x = edited.float()[idx], source.float()[idx]
            parsed = parser.labels12(x_out) if parser is not None else target_mask
            got = ground_truth_metrics(x_out, x, target, parsed, source_mask, target_mask, changed)
            if parser is None:
                got["shape_iou"][:] = np.nan
                got["miou"][:] = np.nan
            for m in METRICS:
                nan[m][have] = got[m]
        self.counter.update(attribute, nan)
        self.names[attribute] += list(names)

    def summary(self) -> dict:
        """``{metric: {"per_attribute": {a: mean}, "mean": ...}, "images": n, "missing": n}``."""
        out = self.counter.summary()
        out["images"] = len(self.names[self.attributes[0]]) if self.attributes else 0
        out["missing"] = self.missing
        return out

    def per_image(self) -> dict[str, np.ndarray]:
        """``{"names": str [N], "attributes": str [A], "gt_<metric>": float64 [N, A]}`` (images in the order
        they were scored; every attribute must have seen the same images)."""
        ref = self.names[self.attributes[0]]
        for a in self.attributes[1:]:
            if self.names[a] != ref:
                raise ValueError(f"attribute {a} was scored on other images than {self.attributes[0]}")
        out = {"names": np.asarray(ref), "attributes": np.asarray(self.attributes)}
        for m in METRICS:
            out[f"gt_{m}"] = self.counter.per_image(m)
        return out
