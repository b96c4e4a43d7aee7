"""Ground-truth scoring inside an evaluation: for each batch of edits of one attribute, load the
counterfactuals of the batch's images (``secgan.data.counterfactuals``), parse the edits, and return the
per-image metrics of :mod:`secgan.metrics.ground_truth` (for ``per_image.npz``) while keeping the means
(for ``metrics.json["ground_truth"]``).

Usage in the evaluation loop::

    gt = GroundTruthScorer.maybe(data_root, split, groups, image_size, ds.names)   # None: no counterfactuals
    ...
    gt.parse_inputs(batch["name"], x, {"training_parser": parser, "judge": judge_parser})  # once a batch
    values = gt.update(attribute, batch["name"], x, x_out, parser, judge, judge_parser)  # {metric: float [B]}
    gt.add_examples(attribute, names[:k])                          # the figures' ground-truth columns
    ...
    metrics["ground_truth"] = gt.summary()
    metrics["accuracy"]["ceiling"] = gt.ceiling_summary()     # the accuracy protocol on the counterfactuals
    gt.inputs_miou()  # {"training_parser": mIoU, "judge": mIoU} of each parser on the real inputs

``parser`` is the training parser (SeCGAN's consistency loss trains through it): ``shape_iou`` and ``miou``.
``judge_parser`` is an independent evaluation parser: ``judge_shape_iou`` and ``judge_miou``, the same
definitions with its parse of the edit. :meth:`GroundTruthScorer.parse_inputs` measures each parser's own
per-image mIoU on the real test faces against their ground-truth masks (the definition of ``miou``): what a
perfect editor's ``miou`` would be, up to the parser's errors on edited faces.

``judge(images, rows) -> bool [K]`` is the evaluation's accuracy test applied to the counterfactuals of the
batch's rows ``rows``: a perfect editor would output exactly them, so their accuracy is the most any editor
can score under the protocol (the classifier's own errors on edited faces cap it below 100 %;
:mod:`secgan.metrics.accuracy_ceiling` computes it without a model).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from secgan.data.counterfactuals import cf_files, counterfactual_attributes, load_counterfactual
from secgan.data.transforms import tensor_to_image
from secgan.errors import DataError

from .accuracy import AccuracyCounter
from .ground_truth import (
    DIRECTIONS,
    JUDGE_METRICS,
    METRICS,
    UNITS,
    GroundTruthCounter,
    ground_truth_metrics,
    mean_iou,
    nanmean,
    shape_iou,
)

SHAPE_METRICS = ("shape_iou", "miou")  # need a parser

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
        self.ceiling = AccuracyCounter(self.attributes)  # the accuracy protocol on the counterfactuals
        self.total = 0  # edits scored (with or without a counterfactual)
        self.missing = 0
        self.examples: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {a: [] for a in self.attributes}
        self.examples_complete = True
        self._inputs_miou: dict[str, list[np.ndarray]] = {}  # parser role -> per-image mIoU on the inputs

    @classmethod
    def maybe(
        cls,
        root: str | os.PathLike,
        split: str,
        attributes: Sequence[str],
        image_size: int,
        names: Sequence[str] | None = None,
    ) -> GroundTruthScorer | None:
        """A scorer when ``root`` has counterfactuals for any of ``attributes`` (and, when ``names`` are given,
        for at least one of those images), else ``None``."""
        have = [a for a in counterfactual_attributes(root) if a in set(attributes)]
        if not have:
            return None
        if names is not None and not any(cf_files(root, have[0], n)[0].is_file() for n in names):
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
        judge: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        judge_parser=None,
    ) -> dict[str, np.ndarray]:
        """Score one batch: ``source`` and ``edited`` ``[B, 3, S, S]`` in [-1, 1]; ``parser`` (a frozen parser
        with ``labels12(x) -> [B, S, S]``) or ``None`` (then shape IoU and mIoU are not computed); ``judge``
        (see the module docstring) or ``None`` (then the accuracy ceiling is not counted); ``judge_parser``
        (an independent parser) or ``None`` (then ``judge_shape_iou`` and ``judge_miou`` are not computed).
        Images without a counterfactual get NaN (counted in :attr:`missing`). Returns
        ``{metric: float64 [B]}`` with the same metrics for every batch of an evaluation."""
        if attribute not in self.counter.values:
            raise KeyError(f"unknown attribute {attribute!r}; scored: {', '.join(self.attributes)}")
        b = len(names)
        self.total += b
        keys = METRICS if parser is not None else tuple(m for m in METRICS if m not in SHAPE_METRICS)
        keys += JUDGE_METRICS if judge_parser is not None else ()
        nan = {m: np.full(b, np.nan) for m in keys}
        if attribute not in self.available:
            self.counter.update(attribute, nan)
            self.missing += b
            return nan
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
            if judge_parser is not None:
                judged = judge_parser.labels12(x_out)  # [K, S, S]
                got["judge_shape_iou"] = shape_iou(judged, target_mask, source_mask).cpu().numpy()
                got["judge_miou"] = mean_iou(judged, target_mask).cpu().numpy()
            for m in keys:
                nan[m][have] = got[m]
            if judge is not None:
                self.ceiling.update(self.attributes.index(attribute), judge(target, idx).cpu())
        self.counter.update(attribute, nan)
        return nan

    @torch.no_grad()
    def parse_inputs(self, names: Sequence[str], source: torch.Tensor, parsers: dict) -> None:
        """Per-image mIoU of each parser (``{role: parser or None}``) on the real inputs ``source``
        ``[B, 3, S, S]`` against their ground-truth masks; call once per batch."""
        truth = torch.stack([self._source_mask(n) for n in names]).to(source.device)  # [B, S, S]
        for role, p in parsers.items():
            if p is not None:
                got = mean_iou(p.labels12(source.float()), truth).cpu().numpy()
                self._inputs_miou.setdefault(role, []).append(got)

    def inputs_miou(self) -> dict[str, float | None]:
        """``{role: mean over the inputs of the per-image mIoU}`` of the parsers given to :meth:`parse_inputs`."""
        return {role: nanmean(np.concatenate(v)) for role, v in self._inputs_miou.items()}

    def add_examples(self, attribute: str, names: Sequence[str]) -> None:
        """Keep the counterfactual images (uint8 [K, S, S, 3]) and 12-segment masks (uint8 [K, S, S]) of
        ``names`` for the figures; one missing counterfactual drops the examples of every attribute."""
        got = [load_counterfactual(self.root, n, attribute, self.image_size) for n in names]
        if any(v is None for v in got):
            self.examples_complete = False
            return
        images = np.stack([tensor_to_image(v[0]) for v in got])
        masks = np.stack([v[1].numpy().astype(np.uint8) for v in got])
        self.examples[attribute].append((images, masks))

    def example_arrays(self) -> dict[str, np.ndarray]:
        """``{"counterfactuals": uint8 [A, K, S, S, 3], "counterfactual_masks": uint8 [A, K, S, S]}`` (the
        layout of ``examples.npz``'s translations), or ``{}`` when some example has no counterfactual."""
        if not self.examples_complete or not all(self.examples[a] for a in self.attributes):
            return {}
        return {
            "counterfactuals": np.stack(
                [np.concatenate([e[0] for e in self.examples[a]]) for a in self.attributes]
            ),
            "counterfactual_masks": np.stack(
                [np.concatenate([e[1] for e in self.examples[a]]) for a in self.attributes]
            ),
        }

    def ceiling_summary(self) -> dict | None:
        """The accuracy ceiling (``judge`` on the counterfactuals): ``{"per_attribute": {a: fraction or None},
        "mean", "counts", "definition"}``; ``None`` when no batch was judged."""
        if not any(self.ceiling.total):
            return None
        s = self.ceiling.summary()
        s.pop("conflict_rule_targets")
        s["definition"] = (
            "the evaluation classifier's editing accuracy on the ground-truth counterfactual edits: what a "
            "perfect editor would score under this protocol"
        )
        return s

    def summary(self) -> dict | None:
        """``{metric: {"per_attribute": {a: mean or None}, "mean": ..., "higher_is_better": bool, "unit": str}}``
        plus ``"images"`` (edits scored per attribute) and ``"missing"`` (edits without a counterfactual);
        metrics that no image defines (shape metrics without a parser) are left out; ``None`` when no edit
        had a counterfactual."""
        if self.missing >= self.total:
            return None
        out: dict = {}
        for m, d in self.counter.summary().items():
            if d["mean"] is not None:
                out[m] = {**d, "higher_is_better": DIRECTIONS[m], "unit": UNITS[m]}
        out["images"] = self.total // max(1, len(self.attributes))
        out["missing"] = self.missing
        return out
