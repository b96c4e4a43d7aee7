"""benchmarks/verdict_power.py, reanalyse_committed.py and budget_question.py on small, checkable inputs."""

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


def _results(path, per_seed: dict[str, float], its: int, base: dict[str, float], sec: dict[str, float]):
    """A minimal results.json: SeCGAN − Baseline per seed (points) and each method's per-seed accuracy."""

    def values(acc: dict[str, float]) -> dict:
        other = {s: 20.0 for s in acc}
        return {"per_seed_values": {"accuracy": acc, "reconstruction_psnr": other, "gt_edit_psnr": other,
                                    "gt_preserve_psnr": other}}  # fmt: skip

    d = {"per_seed": per_seed}
    cmp = {"n_images": 300, "accuracy": d, "reconstruction_psnr": d, "ground_truth": {"edit_psnr": d}}
    res = {
        "budget": {"iterations": its},
        "comparisons": {"secgan_vs_baseline": cmp},
        "methods": {"baseline": values(base), "secgan": values(sec)},
    }
    path.write_text(json.dumps(res))
    return path


def test_the_budget_question_pairs_the_seeds_both_budgets_have(load_benchmark, tmp_path) -> None:
    mod = load_benchmark("budget_question")
    acc = {"0": 0.40, "1": 0.30, "2": 0.35, "7": 0.5}
    # seed 7: in the short budget only
    short = _results(tmp_path / "s.json", {"0": 4.0, "1": 2.0, "2": 3.0, "7": 9.0}, 500, acc, acc)
    long_acc = {"0": 0.50, "1": 0.41, "2": 0.44}
    long = _results(tmp_path / "l.json", {"0": 1.0, "1": 0.0, "2": -1.0}, 1000, long_acc, acc)  # fmt: skip
    out = mod.budget_question(short, long)
    assert out["seeds"] == [0, 1, 2]
    assert (out["short"]["iterations"], out["long"]["iterations"]) == (500, 1000)
    eff = out["effect"]["accuracy"]
    assert eff["short"]["estimate"] == pytest.approx(3.0)  # seed 7 left out: (4 + 2 + 3) / 3
    assert eff["long_minus_short"]["per_seed"] == {"0": -3.0, "1": -2.0, "2": -4.0}
    # the effect shrinks with the budget, at every seed
    assert eff["long_minus_short"]["direction"] == "lower"
    assert set(out["effect"]) == {"accuracy", "reconstruction_psnr", "gt_edit_psnr"}
    base = out["per_method"]["baseline"]["accuracy"]["long_minus_short"]
    assert base["per_seed"] == pytest.approx({"0": 10.0, "1": 11.0, "2": 9.0})  # in points
    assert out["per_method"]["secgan"]["accuracy"]["long_minus_short"]["estimate"] == pytest.approx(0.0)
    md = mod.markdown(out)
    assert "500 and 1,000 iterations" in md and "| accuracy | +3.00 [" in md
    mod.plot(out, tmp_path / "b.png")
    assert (tmp_path / "b.png").stat().st_size > 1000


def test_the_budget_question_refuses_fewer_than_two_shared_seeds(load_benchmark, tmp_path) -> None:
    mod = load_benchmark("budget_question")
    acc = {"0": 0.4, "1": 0.3}
    short = _results(tmp_path / "s.json", {"0": 1.0, "1": 2.0}, 500, acc, acc)
    long = _results(tmp_path / "l.json", {"1": 1.0}, 1000, {"1": 0.3}, {"1": 0.3})
    with pytest.raises(SystemExit, match="share 1 seed"):
        mod.budget_question(short, long)
    with pytest.raises(SystemExit, match="no such results.json"):
        mod.budget_question(tmp_path / "missing.json", long)
