"""The seed-level verdict (secgan.reporting.seed_inference): closed-form values, and its calibration on
simulated experiments with no true difference, through the functions the report uses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from secgan.reporting.seed_inference import holm, seed_test, seed_values, signflip_p, t_intervals
from secgan.reporting.seed_simulation import simulate_cells, verdict_rates

N_EXPERIMENTS = 2000


def test_the_t_interval_of_three_known_differences_is_the_closed_form() -> None:
    d = np.array([10.03, 3.23, 0.26])  # the committed standard preset's SeCGAN − Baseline per seed
    t = seed_test(dict(enumerate(d)))
    half = stats.t.ppf(0.975, 2) * d.std(ddof=1) / math.sqrt(3)
    assert t.estimate == pytest.approx(4.5067, abs=1e-4)
    assert (t.low, t.high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert (round(t.low, 1), round(t.high, 1)) == (-7.9, 16.9)
    assert t.p_t == pytest.approx(0.2594, abs=1e-4)
    assert t.p_signflip == pytest.approx(0.25) == t.p_signflip_floor  # the smallest 3 pairs can give
    assert t.direction() == "inconclusive" and t.seeds == (0, 1, 2)


def test_sign_flip_p_values_are_exact_and_floored_at_two_to_the_one_minus_n() -> None:
    assert signflip_p([1.0, 2.0, 3.0, 4.0, 5.0]) == pytest.approx(2 / 32)
    assert signflip_p(np.arange(1.0, 9.0)) == pytest.approx(2 / 256)
    # -1, 3, 4: the 8 sign patterns sum to ±8, ±6, ±2, 0, 0; |sum| >= 6 (observed) in 4 of them
    assert signflip_p([-1.0, 3.0, 4.0]) == pytest.approx(0.5)
    assert signflip_p([1.0, 2.0, -3.0]) == pytest.approx(1.0)  # observed mean 0: every pattern as extreme
    assert math.isnan(signflip_p([2.0]))


def test_one_seed_gives_no_direction_and_a_constant_difference_a_point_interval() -> None:
    one = seed_test({0: 5.0})
    assert one.direction() == "none" and math.isnan(one.low) and one.to_dict()["low"] is None
    flat = seed_test({0: 2.0, 1: 2.0, 2: 2.0})
    assert (flat.low, flat.high, flat.p_t) == (2.0, 2.0, 0.0) and flat.direction() == "higher"


def test_seed_values_average_per_attribute_then_over_attributes() -> None:
    v = np.full((2, 4, 2), np.nan)  # [seeds, images, attributes]
    v[:, :, 0] = [[1, 1, 0, 0], [1, 1, 1, 1]]  # attribute 0: 0.5 and 1.0
    v[0, :1, 1] = 0.0  # attribute 1: one defined image in seed 0 (0.0), none in seed 1 (left out)
    assert seed_values(v).tolist() == [0.25, 1.0]


def test_holm_adjusts_a_family_as_by_hand() -> None:
    adj = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": None})
    assert adj["a"] == pytest.approx(0.03) and adj["c"] == pytest.approx(0.06)
    assert adj["b"] == pytest.approx(0.06) and adj["d"] is None  # step-down keeps the order monotone


def test_the_vectorised_path_equals_the_report_path() -> None:
    rng = np.random.default_rng(5)
    treated, control = simulate_cells(rng, 25, 3, diff_sd=0.05)
    d = seed_values(treated) - seed_values(control)  # [25, 3]
    mean, low, high, p = t_intervals(d)
    for i in range(25):
        t = seed_test(dict(enumerate(d[i])))
        assert (t.estimate, t.low, t.high, t.p_t) == pytest.approx((mean[i], low[i], high[i], p[i]))


@pytest.mark.parametrize("n_seeds", [2, 3, 5, 8])
@pytest.mark.parametrize("diff_sd", [0.03, 0.06])
def test_with_no_true_difference_the_interval_excludes_zero_at_most_7_percent(
    n_seeds: int, diff_sd: float
) -> None:
    """2,000 simulated reproductions (300 images × 13 attributes, binary outcomes, seed spread 3 or 6
    points) per case: nominal 5 %; 7 % is 4 binomial standard errors above it."""
    rng = np.random.default_rng(1000 * n_seeds + int(diff_sd * 100))
    rate = verdict_rates(rng, N_EXPERIMENTS, n_seeds, diff_sd)["excludes_zero"]
    assert rate <= 0.07, f"{n_seeds} seeds, spread {diff_sd}: the interval excluded 0 in {rate:.1%}"
    assert rate >= 0.025  # not absurdly conservative either (the t-interval is exact for normal seeds)


@pytest.mark.parametrize("n_seeds", [2, 3, 5, 8])
def test_heavy_tailed_seed_effects_stay_calibrated(n_seeds: int) -> None:
    rng = np.random.default_rng(77 + n_seeds)
    rate = verdict_rates(rng, N_EXPERIMENTS, n_seeds, 0.05, heavy_tails=True)["excludes_zero"]
    assert rate <= 0.07


def test_the_calibration_check_can_fail() -> None:
    """A too-narrow interval (80 % called 95 %) is caught: the check is not vacuous."""
    rng = np.random.default_rng(3)
    treated, control = simulate_cells(rng, N_EXPERIMENTS, 3, diff_sd=0.05)
    _, low, high, _ = t_intervals(seed_values(treated) - seed_values(control), level=0.80)
    assert np.mean((low > 0) | (high < 0)) > 0.15


def test_a_true_difference_of_one_seed_sd_is_found_most_of_the_time_at_8_seeds() -> None:
    rng = np.random.default_rng(11)
    power = verdict_rates(rng, N_EXPERIMENTS, 8, 0.04, delta=0.04)
    assert 0.55 <= power["higher"] <= 0.75 and power["lower"] < 0.005  # noncentral t: 0.68
