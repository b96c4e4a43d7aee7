"""Seed-level inference for "method A − method B": the training seed is the unit that varies.

A method's claim is about what training it does, so the unit of replication is the training run: a new run
draws a new seed. Each seed gives each method **one value**, computed over the test images the paper's way
(:func:`seed_values`: per attribute the mean over the images where the value is defined, then the unweighted
mean over the attributes). The runs of both methods with the same seed are paired, and the paired
differences ``d_1 .. d_n`` (one per seed) are what the verdict is computed from. Test images give each seed
its value and its within-seed uncertainty (:func:`secgan.reporting.intervals.paired_bootstrap` over the
images of that one seed, "how sure we are for this pair of trained models"); they add no replicates to
the comparison of the *methods*, since 300 more images do not make a fourth training run.

Two tests are computed on the ``n`` paired seed differences, both from :mod:`scipy.stats`:

- **The paired t-interval and t-test** (:func:`scipy.stats.ttest_1samp` on ``d``, its
  ``confidence_interval``): ``mean(d) ± t_{0.975, n-1} · sd(d) / sqrt(n)``. It is exact when the seed
  differences are normal, whatever their spread, and it works from 2 seeds on (wide: t_{0.975, 1} = 12.7).
  **It drives the verdict**: *better* / *worse* when the whole 95 % interval is on one side of 0, otherwise
  *inconclusive*. The calibration test (``tests/reporting/test_seed_calibration.py``) simulates thousands of
  experiments with no true difference, seed spreads of 3-6 accuracy points and binary outcomes on 300 images
  × 13 attributes, and checks that the interval excludes 0 in at most 7 % of them at 2, 3, 5 and 8 seeds
  (5 % nominal); ``benchmarks/verdict_power.py`` measures how often it finds a true difference.
- **The exact sign-flip permutation test** (:func:`scipy.stats.permutation_test`,
  ``permutation_type="samples"`` on one sample, which flips the signs of the ``d_s``; all ``2^n`` sign
  patterns are enumerated). It needs no normality, but its two-sided p-value cannot go below ``2^(1-n)``:
  0.5 with 2 seeds, 0.25 with 3, 0.0625 with 5, 0.0078 with 8. Below 6 seeds it can never reach 5 %, so it
  is reported beside the t-test (with its floor) as a robustness check, not used for the verdict.

With one seed there is no seed-level interval and no verdict (:attr:`SeedTest.direction` is ``"none"``):
the report shows what the two trained models did, with the image-level interval labelled as such.

Per-attribute and per-group tests are many tests on one set of runs: their p-values are adjusted with
Holm's step-down method (:func:`holm`, :func:`statsmodels.stats.multitest.multipletests`) and reported as
exploratory.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95


def seed_values(values: np.ndarray) -> np.ndarray:
    """Each seed's value of one method: ``values`` ``[..., n_seeds, n_images, n_attr]`` (float or bool; NaN
    where undefined) -> ``[..., n_seeds]``: per attribute the mean over the defined images, then the mean
    over the attributes that have any defined image (an attribute with none is left out, not counted 0)."""
    v = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices -> NaN, left out below
        per_attr = np.nanmean(v, axis=-2)  # [..., S, A]
        return np.nanmean(per_attr, axis=-1)


def t_intervals(d: np.ndarray, level: float = LEVEL) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Paired t-intervals of the mean of ``d`` ``[..., n]`` (the last axis: seeds), vectorised over the
    leading axes: ``(mean, low, high, p)`` each ``[...]``. ``n < 2``: NaN interval and p. A zero spread
    gives the degenerate interval ``[d, d]`` with p = 0 (d ≠ 0) or 1 (d = 0)."""
    d = np.asarray(d, dtype=np.float64)
    n = d.shape[-1]
    mean = d.mean(axis=-1) if n else np.full(d.shape[:-1], np.nan)
    if n < 2:
        nan = np.full(mean.shape, np.nan)
        return mean, nan, nan.copy(), nan.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero spread: handled below
        res = stats.ttest_1samp(d, 0.0, axis=-1)
        ci = res.confidence_interval(level)
    low, high, p = (np.array(x, dtype=np.float64) for x in (ci.low, ci.high, res.pvalue))
    flat = np.ptp(d, axis=-1) <= 1e-12 * np.maximum(1.0, np.abs(mean))
    low, high = np.where(flat, mean, low), np.where(flat, mean, high)
    p = np.where(flat, np.where(mean == 0, 1.0, 0.0), p)
    return mean, low, high, p


def signflip_p(d: Sequence[float]) -> float:
    """The exact two-sided sign-flip permutation p-value of ``mean(d) = 0`` (all ``2^n`` sign patterns);
    NaN with fewer than 2 values. Its smallest possible value is ``2^(1-n)`` (:func:`signflip_floor`)."""
    x = np.asarray(d, dtype=np.float64)
    if x.size < 2 or not np.all(np.isfinite(x)):
        return math.nan
    if np.all(x == 0):
        return 1.0
    res = stats.permutation_test(
        (x,), lambda s, axis: np.mean(s, axis=axis), permutation_type="samples", n_resamples=np.inf,
        vectorized=True, alternative="two-sided",
    )  # fmt: skip
    return float(res.pvalue)


def signflip_floor(n: int) -> float:
    """The smallest two-sided p-value an exact sign-flip test on ``n`` pairs can give: ``2^(1-n)``."""
    return 2.0 ** (1 - n) if n >= 1 else math.nan


@dataclass(frozen=True)
class SeedTest:
    """The seed-level test of one difference ``treated − control`` (in the data's own units)."""

    estimate: float  # mean over seeds of the paired differences
    low: float  # paired t-interval (NaN with one seed)
    high: float
    level: float
    seeds: tuple[int, ...]
    per_seed: tuple[float, ...]  # the paired difference of each seed, in ``seeds`` order
    sd: float  # sample std of the per-seed differences (NaN with one seed)
    p_t: float  # two-sided paired t-test p-value
    p_signflip: float  # exact sign-flip permutation p-value
    p_signflip_floor: float  # 2^(1-n): the smallest p the sign-flip test can give with these seeds

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def direction(self) -> str:
        """``"none"`` (fewer than 2 seeds: no verdict), ``"higher"`` / ``"lower"`` (the whole t-interval on
        one side of 0) or ``"inconclusive"``."""
        if self.n_seeds < 2:
            return "none"
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or (self.low <= 0 <= self.high):
            return "inconclusive"
        return "higher" if self.low > 0 else "lower"

    def to_dict(self, scale: float = 1.0) -> dict:
        return {
            "estimate": _json(self.estimate * scale),
            "low": _json(self.low * scale),
            "high": _json(self.high * scale),
            "level": self.level,
            "interval": "paired t over seeds" if self.n_seeds >= 2 else "none (fewer than 2 seeds)",
            "n_seeds": self.n_seeds,
            "seeds": list(self.seeds),
            "per_seed": {str(s): _json(v * scale) for s, v in zip(self.seeds, self.per_seed)},
            "sd": _json(self.sd * scale),
            "p_t": _json(self.p_t),
            "p_signflip": _json(self.p_signflip),
            "p_signflip_floor": _json(self.p_signflip_floor),
            "direction": self.direction(),
        }


def _json(v: float) -> float | None:
    return float(v) if v is not None and math.isfinite(v) else None


def seed_test(per_seed: Mapping[int, float], level: float = LEVEL) -> SeedTest:
    """The seed-level test of the paired differences ``{seed: treated − control}`` (seeds with a NaN
    difference, e.g. a metric undefined for every image of that run, are left out)."""
    items = sorted((int(s), float(v)) for s, v in per_seed.items() if v is not None and math.isfinite(v))
    seeds = tuple(s for s, _ in items)
    d = np.array([v for _, v in items], dtype=np.float64)
    mean, low, high, p = (float(x) for x in t_intervals(d, level))
    sd = float(d.std(ddof=1)) if d.size >= 2 else math.nan
    return SeedTest(
        mean, low, high, level, seeds, tuple(d.tolist()), sd, p, signflip_p(d), signflip_floor(d.size)
    )


def shared_seeds(seed_sets: Sequence[set]) -> frozenset | None:
    """The seeds every set holds, when they are at least two and some set holds more (else ``None``: each
    set is best read over its own seeds). Used to put every λ_sc of a sweep on the same seeds."""
    common = frozenset(set.intersection(*map(set, seed_sets))) if seed_sets else frozenset()
    return common if len(common) >= 2 and any(set(s) != common for s in seed_sets) else None


def holm(pvalues: Mapping[str, float | None]) -> dict[str, float | None]:
    """Holm-adjusted p-values of one family of tests (``None`` / NaN entries are left out and stay ``None``)."""
    from statsmodels.stats.multitest import multipletests

    keys = [k for k, p in pvalues.items() if p is not None and math.isfinite(p)]
    out: dict[str, float | None] = {k: None for k in pvalues}
    if keys:
        adjusted = multipletests([pvalues[k] for k in keys], method="holm")[1]
        out.update({k: float(a) for k, a in zip(keys, adjusted)})
    return out
