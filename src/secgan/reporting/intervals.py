"""Paired bootstrap intervals for "method A − method B" over test images: the within-seed uncertainty.

**What it is used for now.** The report calls :func:`paired_bootstrap` on one seed at a time
(``[1, n_images, n_attr]``): "how sure we are, over test images, for this one pair of trained models". It
decides no verdict. Verdicts about the *methods* come from the seed-level paired t-interval of
:mod:`secgan.reporting.seed_inference`: fed simulated experiments with no true difference and a seed spread
like ours (3-6 points), the crossed seeds × images scheme below excluded 0 in 19-26 % of them with 3 seeds,
27-36 % with 2 and 58-76 % with 1 (nominal 5 %), because test images are not replicates of training runs
and a 2-3 seed bootstrap cannot see the seed spread. The crossed scheme is kept for its tests and for
reading old reports, not for new verdicts.

The data of one comparison are two arrays ``[n_seeds, n_images, n_attr]`` (float; NaN where a value is
undefined, e.g. a shape IoU for an edit that changes no segment), one per method, paired on both axes:
row ``s`` of each method was trained with the same seed, column ``i`` is the same test image, and the last
axis is the edited attribute. The statistic of one method is the paper's way of averaging: per attribute,
the mean over the (seed, image) cells where the value is defined; then the unweighted mean over the
attributes. The difference of the two methods' statistics is what the interval is for.

**Resampling (a two-way, crossed, paired bootstrap).** Seeds and test images are two independent sources
of variation: a new training run draws a new seed, a new test set draws new images. Each bootstrap
replicate therefore draws ``n_seeds`` seed indices with replacement *and*, independently, ``n_images``
image indices with replacement; both methods get the *same* indices (paired: the seed-``s`` runs of both
methods and the same images), and the replicate's statistic averages over the crossed cells
(seed, image). This is :func:`scipy.stats.bootstrap` with two samples -- the seed indices and the image
indices -- and ``paired=False``, which resamples each sample independently; the statistic looks the
cells up. Notes on what it estimates:

- With one seed there is nothing to resample on that axis: the interval is over test images only, so it
  says how sure we are *for this trained model*, not for the method (``resampled`` says which).
- With few seeds (3) the seed component is under-estimated by about ``(n - 1) / n``, as any bootstrap of
  ``n`` values is; the crossed scheme counts the seed × image interaction twice, which errs the other way
  (McCullagh 2000, "Resampling and exchangeable arrays"). Read a 3-seed interval as a careful guide.
- The interval is the percentile interval, not scipy's default BCa: with 2-3 seeds the replicates take
  few distinct values on the seed axis, and BCa's bias correction (the share of replicates below the
  estimate) is thrown off by those ties -- three seeds with differences 1, 3, 2.5 give BCa [1, 2.83],
  though 3 is a replicate with probability 1/27 > 2.5 %; the percentile interval is [1, 3]. For a mean over hundreds of images the two agree. When every replicate
  equals the estimate (a constant paired difference) the interval is the degenerate ``[d, d]``.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

log = logging.getLogger(__name__)

LEVEL = 0.95
N_RESAMPLES = 9999
_BATCH = 500  # replicates per vectorised statistic call: bounds memory to ~_BATCH * n_images floats


@dataclass(frozen=True)
class Interval:
    """A bootstrap interval for ``treated − control`` (in the data's own units)."""

    estimate: float  # the difference on the data as observed
    low: float
    high: float
    level: float  # e.g. 0.95
    n_seeds: int
    n_images: int
    resampled: str  # "seeds and test images" | "test images only" | "seeds only" | "nothing"
    method: str  # "percentile" | "degenerate" | "none"

    @property
    def spans_zero(self) -> bool:
        return not (self.low > 0 or self.high < 0)

    def direction(self) -> str:
        """``"higher"`` / ``"lower"`` (the whole interval on one side of 0) or ``"inconclusive"``."""
        if math.isnan(self.low) or math.isnan(self.high) or self.spans_zero:
            return "inconclusive"
        return "higher" if self.low > 0 else "lower"

    def to_dict(self, scale: float = 1.0) -> dict:
        d = asdict(self)
        for k in ("estimate", "low", "high"):
            d[k] = _json_float(d[k] * scale)
        d["direction"] = self.direction()
        return d


def _json_float(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    """Index arrays ``[..., k]`` (drawn from ``range(n)``) -> multiplicities ``[prod(...), n]``."""
    flat = np.asarray(idx).astype(np.int64).reshape(-1, np.shape(idx)[-1])
    rows = flat.shape[0]
    offset = (np.arange(rows, dtype=np.int64) * n)[:, None]
    return np.bincount((flat + offset).ravel(), minlength=rows * n).reshape(rows, n).astype(np.float64)


def _method_stat(
    values: np.ndarray, defined: np.ndarray, w_seed: np.ndarray, w_img: np.ndarray
) -> np.ndarray:
    """Per replicate: per attribute the weighted mean over defined cells, then the mean over attributes.

    values, defined: ``[S, I, A]`` (values with NaN set to 0; defined as 0/1); w_seed ``[B, S]`` and
    w_img ``[B, I]`` resample multiplicities. Returns ``[B]``.
    """
    num = np.einsum("bs,sia,bi->ba", w_seed, values * defined, w_img, optimize=True)
    den = np.einsum("bs,sia,bi->ba", w_seed, defined, w_img, optimize=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_attr = num / den  # [B, A]; NaN where an attribute has no defined cell in the replicate
        return np.nanmean(per_attr, axis=1) if per_attr.shape[1] > 1 else per_attr[:, 0]


def paired_statistic(treated: np.ndarray, control: np.ndarray) -> float:
    """The observed difference (treated − control) of the two methods' statistics."""
    t, c = _prepare(treated, control)
    ws, wi = np.ones((1, t[0].shape[0])), np.ones((1, t[0].shape[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN attribute -> NaN, said by the result
        return float(_method_stat(*t, ws, wi)[0] - _method_stat(*c, ws, wi)[0])


def _prepare(treated: np.ndarray, control: np.ndarray) -> tuple[tuple, tuple]:
    t = np.asarray(treated, dtype=np.float64)
    c = np.asarray(control, dtype=np.float64)
    if t.ndim == 2:  # [S, I] -> one attribute
        t, c = t[..., None], c[..., None]
    if t.ndim != 3 or t.shape != c.shape:
        raise ValueError(
            f"treated and control must be [n_seeds, n_images, n_attr] of one shape; got {t.shape}, {c.shape}"
        )
    return (np.nan_to_num(t), np.isfinite(t).astype(np.float64)), (
        np.nan_to_num(c),
        np.isfinite(c).astype(np.float64),
    )


def paired_bootstrap(
    treated: np.ndarray,
    control: np.ndarray,
    level: float = LEVEL,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Interval:
    """A ``level`` interval for ``treated − control``; both ``[n_seeds, n_images, n_attr]`` (or
    ``[n_seeds, n_images]`` for one attribute), paired on every axis, NaN where undefined.

    Seeds and images are resampled independently of each other and identically for both methods (see
    the module docstring). An axis of length 1 is not resampled (``Interval.resampled`` says what was).
    """
    t, c = _prepare(treated, control)
    n_s, n_i = t[0].shape[:2]
    estimate = paired_statistic(treated, control)
    axes = [name for name, n in (("seeds", n_s), ("test images", n_i)) if n >= 2]
    resampled = " and ".join(axes) + (" only" if len(axes) == 1 else "") if axes else "nothing"
    if not axes or not math.isfinite(estimate):
        return Interval(estimate, math.nan, math.nan, level, n_s, n_i, resampled, "none")

    def statistic(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        # samples: index arrays [..., k] for the resampled axes; a fixed axis keeps all its indices
        it = iter(samples)
        s_idx = next(it) if n_s >= 2 else None
        i_idx = next(it) if n_i >= 2 else None
        batch = np.broadcast_shapes(*(np.shape(x)[:-1] for x in samples))
        b = int(np.prod(batch))
        ws = _counts(s_idx, n_s) if s_idx is not None else np.ones((1, n_s))
        wi = _counts(i_idx, n_i) if i_idx is not None else np.ones((1, n_i))
        ws = np.broadcast_to(ws, (b, n_s)) if ws.shape[0] != b else ws
        wi = np.broadcast_to(wi, (b, n_i)) if wi.shape[0] != b else wi
        diff = _method_stat(*t, ws, wi) - _method_stat(*c, ws, wi)
        return diff.reshape(batch)

    data = tuple(np.arange(n) for n in (n_s, n_i) if n >= 2)
    kwargs = dict(
        paired=False,
        vectorized=True,
        confidence_level=level,
        n_resamples=n_resamples,
        batch=_BATCH,
        random_state=np.random.default_rng(seed),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on a degenerate distribution: handled below
        res = stats.bootstrap(data, statistic, method="percentile", **kwargs)
    dist = res.bootstrap_distribution
    if np.ptp(dist) <= 1e-9 * max(1.0, abs(estimate)):  # every replicate equal (up to rounding)
        return Interval(estimate, estimate, estimate, level, n_s, n_i, resampled, "degenerate")
    ci = res.confidence_interval
    return Interval(estimate, float(ci.low), float(ci.high), level, n_s, n_i, resampled, "percentile")
