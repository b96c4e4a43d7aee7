"""Every metric an evaluation reports, described once: its key, title, direction, unit and the meter that
computes it.

The key is the metric's name in the tables (:mod:`secgan.reporting.table`) and in ``metrics.json``:
``accuracy`` is ``metrics.json["accuracy"]``, ``ssfid``/``fid``/``fid_cls`` are under ``"distances"``,
``is``/``is_cls`` under ``"inception_scores"``, and ``gt_<name>`` is ``metrics.json["ground_truth"][<name>]``
(and ``per_image.npz``'s ``gt_<name>``). The reporting takes titles and directions from here; a ground-truth
metric unknown here is titled by its name and directed by what its ``metrics.json`` entry says, never by
guessing from the name.

Each meter is one object with ``update`` (per batch) and ``summary`` (the ``metrics.json`` entries), named
by :attr:`Metric.meter`: :class:`~secgan.metrics.accuracy.AccuracyCounter` (editing accuracy),
:class:`~secgan.metrics.distances.FeatureDistances` (Fréchet distances, Inception Scores),
:class:`~secgan.metrics.ground_truth.GroundTruthCounter` (metrics against the counterfactuals). To add a
metric: compute it in a meter, write it under its key in ``metrics.json``, and add a :class:`Metric` here.
"""

from __future__ import annotations

from dataclasses import dataclass

GT_PREFIX = "gt_"  # ground-truth (counterfactual) metrics: gt_<name> = metrics.json["ground_truth"][<name>]


@dataclass(frozen=True)
class Metric:
    """One reported metric."""

    key: str  # table column / metrics.json key ("gt_<name>" for the ground-truth metrics)
    title: str  # column title, without the direction arrow
    higher_is_better: bool
    meter: str  # the class that computes it
    unit: str = ""
    digits: int = 3  # decimals in the tables

    @property
    def heading(self) -> str:
        """The title with its direction: ``"Accuracy (%) ↑"``."""
        return f"{self.title} {'↑' if self.higher_is_better else '↓'}"

    @property
    def gt_name(self) -> str | None:
        """The name under ``metrics.json["ground_truth"]`` (``None`` for the other metrics)."""
        return self.key[len(GT_PREFIX) :] if self.key.startswith(GT_PREFIX) else None


_GT = "GroundTruthCounter"
METRICS: tuple[Metric, ...] = (
    Metric("accuracy", "Accuracy (%)", True, "AccuracyCounter", "%", 2),
    # The substitutes say so in their titles.
    Metric("ssfid", "ssFID", False, "FeatureDistances", digits=2),
    Metric("fid", "FID (Inception)", False, "FeatureDistances", digits=2),
    Metric("fid_cls", "clsFID (substitute)", False, "FeatureDistances"),
    Metric("is", "IS", True, "FeatureDistances", digits=2),
    Metric("is_cls", "clsIS (substitute)", True, "FeatureDistances"),
    # The shape metrics name their parser: the training parser is the one SeCGAN's consistency loss trains
    # through; the judge is an independent parser (secgan evaluate --judge-parser).
    Metric("gt_shape_iou", "GT shape_iou (training parser)", True, _GT),
    Metric("gt_miou", "GT miou (training parser)", True, _GT),
    Metric("gt_judge_shape_iou", "GT shape_iou (independent judge)", True, _GT),
    Metric("gt_judge_miou", "GT miou (independent judge)", True, _GT),
    Metric("gt_edit_l1", "GT edit_l1", False, _GT, "[-1, 1]"),
    Metric("gt_edit_psnr", "GT edit_psnr", True, _GT, "dB"),
    Metric("gt_preserve_l1", "GT preserve_l1", False, _GT, "[-1, 1]"),
    Metric("gt_preserve_psnr", "GT preserve_psnr", True, _GT, "dB"),
)
BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}
# the metrics that are not ground-truth metrics, in table order
HEADLINE: tuple[Metric, ...] = tuple(m for m in METRICS if m.gt_name is None)
# ground-truth metrics by their name under metrics.json["ground_truth"]
GROUND_TRUTH: dict[str, Metric] = {m.gt_name: m for m in METRICS if m.gt_name is not None}


def lookup(key: str) -> Metric | None:
    """The metric of a table key (``"fid_cls"``, ``"gt_miou"``) or of a ground-truth name (``"miou"``)."""
    return BY_KEY.get(key) or GROUND_TRUTH.get(key)
