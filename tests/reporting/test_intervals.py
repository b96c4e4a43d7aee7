"""The paired bootstrap interval on cases with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from secgan.reporting.intervals import paired_bootstrap, paired_statistic


def test_constant_paired_difference_gives_a_degenerate_interval_at_that_value() -> None:
    rng = np.random.default_rng(0)
    control = rng.random((3, 40, 4))  # [seeds, images, attributes]
    iv = paired_bootstrap(control + 0.25, control, n_resamples=999)
    assert iv.method == "degenerate"
    assert iv.estimate == pytest.approx(0.25) and iv.low == pytest.approx(0.25)
    assert iv.high == pytest.approx(0.25)
    assert iv.direction() == "higher"
    assert iv.resampled == "seeds and test images" and (iv.n_seeds, iv.n_images) == (3, 40)


def test_one_seed_large_n_matches_the_normal_theory_interval() -> None:
    # images only: the bootstrap of a mean difference of n = 4000 paired normals is the t interval
    rng = np.random.default_rng(1)
    n = 4000
    control = rng.normal(0.0, 1.0, (1, n))
    treated = control + rng.normal(0.1, 0.5, (1, n))
    iv = paired_bootstrap(treated, control, n_resamples=4999)
    d = (treated - control)[0]
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n)
    assert iv.resampled == "test images only"
    assert iv.estimate == pytest.approx(d.mean())
    assert iv.low == pytest.approx(d.mean() - half, abs=0.08 * half)
    assert iv.high == pytest.approx(d.mean() + half, abs=0.08 * half)


def test_seed_axis_alone_gives_the_percentiles_of_the_seed_resamples() -> None:
    # one image, two seeds whose differences are 1 and 3: the replicates are 1, 2, 2, 3 w.p. 1/4, 1/2,
    # 1/4, so a 95 % interval must reach both ends
    control = np.zeros((2, 1, 1))
    treated = np.array([1.0, 3.0]).reshape(2, 1, 1)
    iv = paired_bootstrap(treated, control, n_resamples=1999)
    assert iv.resampled == "seeds only" and iv.estimate == pytest.approx(2.0)
    assert iv.method == "percentile"
    assert iv.low == pytest.approx(1.0) and iv.high == pytest.approx(3.0)


def test_noise_around_zero_is_inconclusive_and_a_clear_gap_is_not() -> None:
    rng = np.random.default_rng(2)
    control = rng.random((3, 200, 5)) < 0.6  # correct / wrong per seed, image, attribute
    same = rng.random((3, 200, 5)) < 0.6
    assert paired_bootstrap(same, control, n_resamples=999).direction() == "inconclusive"
    better = rng.random((3, 200, 5)) < 0.9
    iv = paired_bootstrap(better, control, n_resamples=999)
    assert iv.direction() == "higher" and iv.low > 0.2
    worse = paired_bootstrap(control, better, n_resamples=999)
    assert worse.direction() == "lower" and worse.high < -0.2


def test_undefined_cells_are_left_out_per_attribute() -> None:
    # attribute 0 defined everywhere (difference 1); attribute 1 defined on the even images only, with
    # difference 3 there and a huge one where undefined (must be ignored): the mean of 1 and 3 = 2
    rng = np.random.default_rng(3)
    control = rng.random((2, 60, 2))
    treated = control + np.array([1.0, 3.0])
    treated[:, 1::2, 1] = np.nan
    control[:, 1::2, 1] = np.nan
    assert paired_statistic(treated, control) == pytest.approx(2.0)
    iv = paired_bootstrap(treated, control, n_resamples=499)
    assert iv.method == "degenerate"  # every replicate is 2
    assert iv.low == pytest.approx(2.0) and iv.high == pytest.approx(2.0)
    # the undefined cells are not counted as zeros: the per-attribute means are unweighted by coverage
    lopsided = treated.copy()
    lopsided[:, :, 0] = control[:, :, 0] + 5.0
    assert paired_statistic(lopsided, control) == pytest.approx(4.0)


def test_shapes_must_agree() -> None:
    with pytest.raises(ValueError, match="n_seeds, n_images, n_attr"):
        paired_bootstrap(np.zeros((2, 3, 4)), np.zeros((2, 3, 5)))
    iv = paired_bootstrap(np.ones((1, 1, 2)), np.zeros((1, 1, 2)))
    assert iv.method == "none" and iv.resampled == "nothing" and math.isnan(iv.low)
    assert iv.estimate == 1.0
