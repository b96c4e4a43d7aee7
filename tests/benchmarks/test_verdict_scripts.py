"""benchmarks/verdict_power.py and benchmarks/reanalyse_committed.py on small, checkable inputs."""

from __future__ import annotations

import json

import pytest


def test_power_script_reports_calibrated_false_verdicts_and_growing_power(load_benchmark) -> None:
    mod = load_benchmark("verdict_power")
    out = mod.measure([3, 8], experiments=1500, rng_seed=1)
    three, eight = out["by_seeds"]["3"], out["by_seeds"]["8"]
    for row in (three, eight):
        assert all(0.02 <= v <= 0.08 for v in row["false_verdicts"].values())
    p3, p8 = three["power"], eight["power"]
    assert p3["delta_one_sd_of_the_paired_difference"] < p8["delta_one_sd_of_the_paired_difference"]
    assert p8["delta_one_sd_of_the_paired_difference"] == pytest.approx(
        p8["noncentral_t_at_effect_1"], abs=0.07
    )
    assert p8["delta_one_sd_of_one_method"] < p8["delta_one_sd_of_the_paired_difference"]


def test_the_committed_reanalysis_matches_its_script(load_benchmark) -> None:
    mod = load_benchmark("reanalyse_committed")
    std = mod.standard()
    acc = std["secgan_vs_baseline"]["accuracy"]
    assert (round(acc["estimate"], 1), round(acc["low"], 1), round(acc["high"], 1)) == (4.5, -7.9, 16.9)
    concat = std["secgan_vs_concat"]["accuracy"]
    assert (round(concat["estimate"], 1), round(concat["low"], 1), round(concat["high"], 1)) == (
        0.7,
        -6.3,
        7.7,
    )
    six = mod.budget_6k()["secgan_vs_baseline"]["accuracy"]
    assert six["per_seed"]["0"] == pytest.approx(-2.897, abs=1e-3) and six["estimate"] == pytest.approx(
        -1.295, abs=1e-3
    )


def test_the_budget_question_pairs_the_seeds_both_budgets_have(load_benchmark, tmp_path) -> None:
    mod = load_benchmark("reanalyse_committed")

    def results(per_seed: dict[str, float]) -> str:
        path = tmp_path / f"r{len(list(tmp_path.iterdir()))}.json"
        path.write_text(
            json.dumps({"comparisons": {"secgan_vs_baseline": {"accuracy": {"per_seed": per_seed}}}})
        )
        return path

    short = results({"0": 4.0, "1": 2.0, "2": 3.0, "7": 9.0})  # seed 7: not in the long budget
    long = results({"0": 1.0, "1": 0.0, "2": -1.0})
    out = mod.budget_effect(short, long)
    assert out["seeds"] == [0, 1, 2]
    assert out["short_budget"]["estimate"] == pytest.approx(3.0)
    assert out["long_minus_short"]["per_seed"] == {"0": -3.0, "1": -2.0, "2": -4.0}
    assert out["long_minus_short"]["high"] < 0  # the effect shrinks with the budget, at every seed
