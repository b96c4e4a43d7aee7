"""The evaluation's Fréchet distances and Inception Scores, one object for all feature extractors.

Which extractors run depends on the weights found (see :mod:`secgan.metrics.evaluate`): the evaluation
classifier's penultimate features always (``fid_cls``, ``is_cls``: in-domain substitutes), SwAV
(``ssfid``) and Inception-v3 (``fid``, ``is``) when their weights are given or found. The real images'
statistics are cached (:class:`~secgan.metrics.stats_cache.RealStatsCache`); the translations are
accumulated per edit group, and their distance to the real images is taken per group, then averaged, as
the paper does.

Usage inside the evaluation loop::

    fd = FeatureDistances(cfeat, opts, device, data_id, n_groups, n_pool)
    fd.update_real(x, feats_real)                  # per batch: real images (only while not cached)
    fd.update(gi, x_out, feats, logits)            # per batch and edit group
    distances, scores = fd.summary(groups)         # after the loop
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from secgan.metrics.features import (
    SWAV_FILE,
    ClassifierFeatures,
    FeatureExtractor,
    SwAVResNet50,
    default_weights_dir,
    find_default_weights,
)
from secgan.metrics.frechet import FrechetReference, GaussianAccumulator
from secgan.metrics.inception import INCEPTION_FILES, InceptionV3
from secgan.metrics.stats_cache import RealStatsCache

log = logging.getLogger(__name__)

# extractor key -> (distance key, inception-score key); the names say the protocol.
METRIC_KEYS = {"swav": ("ssfid", None), "inception": ("fid", "is"), "classifier": ("fid_cls", "is_cls")}


class FeatureDistances:
    """Fréchet distances per edit group and Inception Scores over the pool of translations.

    Args:
        cfeat: the evaluation classifier's features (always an extractor).
        swav, inception: weight files, or ``None`` to look in the default weights folder.
        device: where the extractors run.
        cache_dir: the real-statistics cache (``None``: the default).
        data_id: what identifies the real images (dataset, split, names hash, ...) in the cache key.
        n_groups: edit groups; ``n_pool``: translations in all; ``is_splits``, ``seed``: the IS subsets.
    """

    def __init__(
        self,
        cfeat: ClassifierFeatures,
        swav: Path | None,
        inception: Path | None,
        device: torch.device,
        cache_dir: Path | None,
        data_id: dict[str, Any],
        n_groups: int,
        n_pool: int,
        is_splits: int,
        seed: int,
    ) -> None:
        self.cfeat = cfeat
        self.notes: list[str] = []
        self.extractors: dict[str, FeatureExtractor] = {"classifier": cfeat}
        swav_path = swav or find_default_weights((SWAV_FILE,))
        if swav_path:
            self.extractors["swav"] = SwAVResNet50(swav_path).to(device)
        else:
            self.notes.append(
                f"ssfid not computed: SwAV weights {SWAV_FILE} not given (pass --swav FILE or put it in "
                f"{default_weights_dir()}); fid_cls is the in-domain substitute, not ssFID"
            )
        inc_path = inception or find_default_weights(INCEPTION_FILES)
        if inc_path:
            self.extractors["inception"] = InceptionV3(inc_path).to(device)
        else:
            self.notes.append(
                f"fid/is not computed: Inception-v3 weights ({' or '.join(INCEPTION_FILES)}) not given (pass "
                f"--inception FILE or put it in {default_weights_dir()}); is_cls is the in-domain substitute"
            )
        for note in self.notes:
            log.warning(note)
        self.cache = RealStatsCache(cache_dir)
        self.data_id = data_id
        self.real_stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.real_acc: dict[str, GaussianAccumulator] = {}
        for key, ext in self.extractors.items():
            hit = self.cache.get({"extractor": ext.cache_id(), **data_id})
            if hit is not None:
                self.real_stats[key] = hit
            else:
                self.real_acc[key] = GaussianAccumulator()
        self.fake_acc = {key: [GaussianAccumulator() for _ in range(n_groups)] for key in self.extractors}
        self.is_acc = {
            key: ext.is_accumulator(n_pool, is_splits, seed)
            for key, ext in self.extractors.items()
            if ext.has_probs
        }

    def update_real(self, x: torch.Tensor, feats_real: torch.Tensor) -> None:
        """Real images ``x`` ``[B, 3, S, S]`` in [-1, 1]; ``feats_real``: the classifier's features of them."""
        for key, acc in self.real_acc.items():
            acc.update(feats_real if key == "classifier" else self.extractors[key](x)["features"])

    def update(self, group: int, x_out: torch.Tensor, feats: torch.Tensor, logits: torch.Tensor) -> None:
        """Translations of edit ``group``: ``x_out`` ``[B, 3, S, S]``, the classifier's ``feats`` and the
        ``logits`` of the evaluated columns."""
        for key, ext in self.extractors.items():
            o = (
                {"features": feats, "probs": self.cfeat.probs_from_logits(logits)}
                if key == "classifier"
                else ext(x_out)
            )
            self.fake_acc[key][group].update(o["features"])
            if key in self.is_acc:
                self.is_acc[key].update(o["probs"])

    def summary(self, groups: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(distances, scores)``: ``{dkey: {"per_attribute", "mean"}}`` and ``{is_key: IS summary}``;
        the real statistics computed here are written to the cache."""
        for key, acc in self.real_acc.items():
            mu, sigma = acc.compute()
            self.real_stats[key] = (mu, sigma)
            self.cache.put({"extractor": self.extractors[key].cache_id(), **self.data_id}, mu, sigma)
        distances: dict[str, Any] = {}
        for key in self.extractors:
            ref = FrechetReference(*self.real_stats[key])  # real images, factorised once for all groups
            per = {name: ref.distance(*self.fake_acc[key][gi].compute()) for gi, name in enumerate(groups)}
            distances[METRIC_KEYS[key][0]] = {
                "per_attribute": per,
                "mean": float(np.mean(list(per.values()))),
            }
        scores = {METRIC_KEYS[key][1]: acc.compute() for key, acc in self.is_acc.items()}
        return distances, scores

    def protocol(self) -> dict[str, Any]:
        """The extractors' part of ``metrics.json["protocol"]``."""
        return {
            "is_split_seed": {METRIC_KEYS[k][1]: acc.seed for k, acc in self.is_acc.items()},
            "is_split_rule": {METRIC_KEYS[k][1]: acc.rule for k, acc in self.is_acc.items()},
            "feature_extractors": {METRIC_KEYS[k][0]: ext.protocol() for k, ext in self.extractors.items()},
        }
