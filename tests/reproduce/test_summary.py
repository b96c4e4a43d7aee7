"""The reproduction summary: aggregation over seeds, the seed-level verdicts and their wording, the presets."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from secgan.errors import ConfigError
from secgan.metrics.per_image import PerImage, write_per_image
from secgan.reporting.comparison import compare, ground_truth_sentences, verdict_sentence
from secgan.reporting.table import higher_is_better
from secgan.reporting.tradeoff import cost_sentences
from secgan.reproduce.plans import (
    DEMO_RECIPE,
    METHODS,
    PRESETS,
    STANDARD_RECIPE,
    get_preset,
    preset_iterations,
)
from secgan.reproduce.summary import _mean_std, aggregate


def _row(method: str, seed: int, acc: float, sweep: bool = False) -> dict:
    return {
        "run": f"{method}-s{seed}",
        "method": method,
        "seed": seed,
        "lambda_sc": 0.01 if method == "secgan" else None,
        "sweep": sweep,
        "accuracy": acc,
        "per_attribute": {"Bald": acc, "Bangs": acc},
        "distances": {"fid_cls": 10 * acc},
        "inception_scores": {},
        "substitutes": {},
        "num_images": 10,
        "iterations": 3000,
    }


def test_mean_std_uses_sample_std() -> None:
    ms = _mean_std([0.5, 0.7, 0.9])
    assert ms["mean"] == pytest.approx(0.7)
    assert ms["std"] == pytest.approx(0.2)  # sqrt(((-.2)^2 + 0 + .2^2) / 2)
    assert _mean_std([0.3]) == {"mean": 0.3, "std": 0.0, "n": 1}


def test_aggregate_ignores_sweep_runs() -> None:
    rows = [_row("baseline", 0, 0.6), _row("secgan", 0, 0.7), _row("secgan", 1, 0.1, sweep=True)]
    agg = aggregate(rows)
    assert agg["secgan"]["accuracy"]["mean"] == pytest.approx(0.7)
    assert agg["secgan"]["fid_cls"]["mean"] == pytest.approx(7.0)
    assert agg["baseline"]["per_attribute"]["Bangs"] == pytest.approx(0.6)


ATTRS = ["Bald", "Bangs", "Black_Hair", "Pale_Skin"]


def _runs(tmp_path, acc: dict[str, list[np.ndarray]], gt: dict[str, list[np.ndarray]] | None = None):
    """Run folders with eval/per_image.npz: acc[method][seed] is [n_images, n_attr] bool; returns the
    summary rows and {run name: evaluation folder}."""
    rows, dirs = [], {}
    for method, per_seed in acc.items():
        for seed, correct in enumerate(per_seed):
            name = f"{method}-s{seed}"
            dirs[name] = tmp_path / name / "eval"
            extra = {k: v[method][seed] for k, v in (gt or {}).items()}
            names = [f"{i:06d}.jpg" for i in range(correct.shape[0])]
            write_per_image(dirs[name] / "per_image.npz", PerImage(names, ATTRS, correct, extra))
            row = _row(method, seed, float(correct.mean()))
            row["per_attribute"] = dict(zip(ATTRS, correct.mean(0).tolist()))
            rows.append(row)
    return rows, dirs


def _t_interval(d: np.ndarray) -> tuple[float, float]:
    half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
    return d.mean() - half, d.mean() + half


def test_the_verdict_is_a_paired_t_interval_over_seeds_and_splits_shape_from_colour(tmp_path) -> None:
    rng = np.random.default_rng(0)
    n = 300
    base = [rng.random((n, 4)) < 0.6 for _ in range(3)]
    sec = []
    for b in base:
        s = b.copy()
        s[:, :2] |= rng.random((n, 2)) < 0.5  # shape edits fixed half the time; colours as they were
        sec.append(s)
    l1 = {"baseline": [np.full((n, 4), 0.3)] * 3, "secgan": [np.full((n, 4), 0.2)] * 3}
    l1["baseline"][0] = l1["baseline"][0].copy()
    l1["baseline"][0][:, 2:] = np.nan  # undefined for colour edits in one run
    rows, dirs = _runs(tmp_path, {"baseline": base, "secgan": sec}, gt={"edit_l1": l1})
    cmp = compare(rows, dirs, n_resamples=199)
    assert cmp["n_seeds"] == 3 and cmp["n_images"] == n and cmp["iterations"] == [3000]
    acc = cmp["accuracy"]
    # each seed's value: per attribute the mean over its images, then the mean over attributes
    d = np.array([100 * (s.mean(0).mean() - b.mean(0).mean()) for s, b in zip(sec, base)])
    assert [acc["per_seed"][str(i)] for i in range(3)] == pytest.approx(d.tolist())
    assert acc["estimate"] == pytest.approx(d.mean())
    assert (acc["low"], acc["high"]) == pytest.approx(_t_interval(d))
    assert acc["p_signflip"] == pytest.approx(0.25) and acc["p_signflip_floor"] == pytest.approx(0.25)
    assert acc["verdict"] == ("better" if acc["low"] > 0 else "inconclusive")
    assert set(acc["image_level"]) == {"0", "1", "2"}  # each seed's within-seed interval over its images
    iv0 = acc["image_level"]["0"]
    assert iv0["low"] < iv0["estimate"] < iv0["high"] and iv0["estimate"] == pytest.approx(d[0])
    assert cmp["values"]["accuracy"]["secgan"]["1"] == pytest.approx(100 * sec[1].mean())
    assert cmp["groups"]["shape"]["attributes"] == ["Bald", "Bangs"]
    assert cmp["groups"]["colour_texture"]["accuracy"]["estimate"] == 0.0
    assert cmp["groups"]["colour_texture"]["accuracy"]["verdict"] == "inconclusive"
    # exploratory families carry Holm-adjusted p-values (never below the raw ones)
    pa = cmp["per_attribute"]
    assert all(e["p_holm"] is None or e["p_holm"] >= e["p_t"] - 1e-12 for e in pa.values())
    assert pa["Pale_Skin"]["verdict"] == "inconclusive"
    gt = cmp["ground_truth"]["edit_l1"]  # lower is better, guessed from the name; constant -0.1 per seed
    assert gt["higher_is_better"] is False and gt["verdict"] == "better"
    assert gt["estimate"] == pytest.approx(-0.1) and gt["low"] == pytest.approx(-0.1)
    sentence = verdict_sentence(cmp)
    e = acc
    word = "better" if e["verdict"] == "better" else "inconclusive (the 95 % interval includes 0)"
    assert sentence.startswith(
        f"{word}: SeCGAN − Baseline: {e['estimate']:+.1f} points [{e['low']:.1f}, {e['high']:.1f}] mean editing "
        "accuracy, 95 % paired t-interval over seeds"
    )
    assert "3 seeds (0, 1, 2) × 300 test images, 3,000 training iterations" in sentence
    assert "cannot go below 0.25 with 3 seeds" in sentence
    assert (
        "edit_l1 ↓: SeCGAN − Baseline -0.100 [-0.100, -0.100] (paired t over 3 seeds, p = "
        in (ground_truth_sentences(cmp)[0])
    )
    assert ground_truth_sentences(cmp)[0].endswith(": SeCGAN better")


def test_the_committed_differences_give_the_closed_form_t_interval(tmp_path) -> None:
    """metrics.json only (no per_image.npz): the per-seed accuracies of the committed standard runs."""
    base, sec = (0.7313, 0.7626, 0.7762), (0.8316, 0.7949, 0.7788)  # differences +10.03, +3.23, +0.26
    rows = [_row("baseline", s, a) for s, a in enumerate(base)] + [
        _row("secgan", s, a) for s, a in enumerate(sec)
    ]
    cmp = compare(rows, {r["run"]: tmp_path / r["run"] for r in rows})
    acc = cmp["accuracy"]
    assert cmp["n_images"] is None and cmp["source"].startswith("metrics.json")
    assert acc["estimate"] == pytest.approx(4.51, abs=0.01)
    assert acc["low"] == pytest.approx(-7.9, abs=0.05) and acc["high"] == pytest.approx(16.9, abs=0.05)
    assert acc["p_t"] == pytest.approx(0.26, abs=0.005) and acc["p_signflip"] == pytest.approx(0.25)
    assert acc["verdict"] == "inconclusive" and acc["image_level"] == {}
    assert verdict_sentence(cmp).startswith(
        "inconclusive (the 95 % interval includes 0): SeCGAN − Baseline: +4.5"
    )
    assert verdict_sentence(compare(rows[:3], {})).startswith("not measured")


def test_units_of_ground_truth_intervals() -> None:
    from secgan.reporting.comparison import _fmt_iv

    e = {"estimate": -0.0004, "low": -0.006, "high": 0.008, "unit": "[-1, 1]"}
    assert _fmt_iv(e, 3) == "-0.000 [-0.006, 0.008] (images in [-1, 1])"  # a range is not a unit
    assert _fmt_iv({**e, "unit": "dB"}, 3) == "-0.000 dB [-0.006, 0.008]"
    assert _fmt_iv({**e, "low": None, "high": None, "unit": ""}, 3) == "-0.000 (no interval)"


def test_one_seed_gives_no_verdict_word_only_what_the_two_models_did(tmp_path) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.random((200, 4)) < 0.5, rng.random((200, 4)) < 0.8  # a large gap: still no verdict word
    rows, dirs = _runs(tmp_path, {"baseline": [a], "secgan": [b]}, gt={"edit_l1": {"baseline": [a * 0.3],
                                                                                   "secgan": [b * 0.1]}})  # fmt: skip
    cmp = compare(rows, dirs, n_resamples=199)
    acc = cmp["accuracy"]
    assert acc["verdict"] == "none" and acc["low"] is None and acc["p_t"] is None
    iv = acc["image_level"]["0"]
    assert 0 < iv["low"] < iv["estimate"] < iv["high"]  # what these two trained models did, over test images
    sentence = verdict_sentence(cmp)
    assert sentence.startswith("one seed, so no verdict on the methods: the two trained models of seed 0")
    assert "over test images, for this one pair of trained models" in sentence
    assert "1 seed (0) × 200 test images, 3,000 training iterations" in sentence
    assert "`--preset standard`" in sentence
    for text in [sentence, *ground_truth_sentences(cmp)]:
        assert not any(w in text.lower() for w in ("better", "worse", "yes", "beat", "inconclusive"))
    assert all(e["verdict"] == "none" for e in cmp["per_attribute"].values())


def test_directions_of_ground_truth_metrics() -> None:
    assert higher_is_better("shape_iou") and higher_is_better("edit_psnr")
    assert higher_is_better("edit_l1") is False and higher_is_better("gt_judge_miou") is True
    assert higher_is_better("mystery") is None and higher_is_better("preservation_change") is None  # no guess
    # the names metrics/ground_truth.py writes
    assert [higher_is_better(k) for k in ("shape_iou", "miou", "edit_l1", "edit_psnr", "preserve_l1",
                                           "preserve_psnr")] == [True, True, False, True, False, True]  # fmt: skip
    assert higher_is_better("mystery", {"higher_is_better": True}) is True
    assert higher_is_better("edit_l1", {"higher_is_better": True}) is False  # the registry decides


def test_presets_are_well_formed() -> None:
    demo = get_preset("demo")
    assert {r.method for r in demo.runs} == {"baseline", "secgan"}  # Concat moved to `standard`
    assert len({r.seed for r in demo.runs}) == 1  # same seed for both methods
    std = get_preset("standard")
    main = [r for r in std.runs if r.lambda_sc is None]
    assert {(r.method, r.seed) for r in main} == {(m, s) for m in METHODS for s in range(8)}
    assert [r.name for r in main[:4]] == [
        "baseline-s0",
        "concat-s0",
        "secgan-s0",
        "baseline-s1",
    ]  # seed by seed
    sweep = sorted((r.lambda_sc, r.seed) for r in std.runs if r.lambda_sc is not None)
    assert sweep == [(lam, s) for lam in (0.0, 0.001, 0.1, 1.0) for s in (0, 1, 2)]  # 3 seeds per λ_sc
    assert len({r.name for r in std.runs}) == len(std.runs)  # one folder per run
    # the budget question: the first 5 standard seeds, Baseline and SeCGAN, twice the iterations, same rest
    b6 = get_preset("budget-2x")
    assert {(r.method, r.seed) for r in b6.runs} == {(m, s) for m in ("baseline", "secgan") for s in range(5)}
    assert preset_iterations(b6) == 1000 and "train.decay_start=500" in b6.train_overrides
    assert preset_iterations(std) == preset_iterations(demo) == 500
    assert demo.backbone == "attgan" and demo.train_preset == "synthetic-attgan-64"
    same = ("synthetic_num", "synthetic_seed", "image_size", "parser_epochs", "parser_extra", "classifier_epochs",
            "classifier_extra", "train_preset", "eval_max_images", "backbone")  # fmt: skip
    assert all(getattr(b6, f) == getattr(std, f) for f in same)
    b12 = get_preset("budget-6k")  # the same question at 6,000 iterations: same runs, only the budget differs
    assert [r.name for r in b12.runs] == [r.name for r in b6.runs]
    assert preset_iterations(b12) == 6000 and "train.decay_start=3000" in b12.train_overrides
    assert all(getattr(b12, f) == getattr(std, f) for f in same)
    # one recipe, shared by every method and every synthetic preset: a change of the demo's recipe reaches all
    assert demo.train_overrides == DEMO_RECIPE.train_overrides
    assert std.train_overrides == STANDARD_RECIPE.train_overrides
    wider = dataclasses.replace(DEMO_RECIPE, extra_overrides=("model.g_conv_dim=32",))
    assert dataclasses.replace(wider, iterations=6000).train_overrides == (
        "model.g_conv_dim=32", "train.iterations=6000", "train.decay_start=3000")  # fmt: skip
    assert "full-synthetic" not in PRESETS  # one name per experiment
    synthetic = ("demo", "standard", "budget-2x", "budget-6k")
    assert all(p.needs_data for name, p in PRESETS.items() if name not in synthetic and p.synthetic_num == 0)
    with pytest.raises(ConfigError, match="valid: .*demo"):
        get_preset("dmeo")


def _results(rows: list[dict], comparisons: dict, ceiling: dict | None = None) -> dict:
    verdict = {k: verdict_sentence(c) for k, c in comparisons.items()}
    return {
        "preset": "standard", "description": "d", "data": {"synthetic": False, "dataset": "celeba", "image_size": 64},
        "verdict": verdict, "comparisons": comparisons, "methods": aggregate(rows), "runs": rows,
        "cost": {"sentences": cost_sentences(rows, comparisons)}, "accuracy_ceiling": ceiling,
        "lambda_sc_sweep": [], "substitutes": {}, "parser": None, "classifier": None,
        "peak_memory": {"largest_stage_mb": 1, "pipeline_mb": 1}, "environment": {}, "wall_seconds": 1,
        "wall_seconds_all_stages": 1, "stages": {},
    }  # fmt: skip


class _Paths:
    def __init__(self, root) -> None:
        self.report, self.edits = root / "report", root / "edits"


def test_report_markdown_has_both_verdicts_per_seed_values_costs_and_groups(tmp_path) -> None:
    from secgan.reporting.comparison import compare_all
    from secgan.reproduce.report_md import render_markdown

    rng = np.random.default_rng(4)
    n = 200
    base = [rng.random((n, 4)) < 0.6 for _ in range(3)]
    concat = [rng.random((n, 4)) < 0.6 for _ in range(3)]
    sec = [b | np.concatenate([rng.random((n, 2)) < 0.5, np.zeros((n, 2), bool)], 1) for b in base]
    pres = {"baseline": [np.full((n, 4), 19.0)] * 3, "concat": [np.full((n, 4), 19.0)] * 3,
            "secgan": [np.full((n, 4), 18.0 + 0.5 * s) for s in range(3)]}  # fmt: skip
    rows, dirs = _runs(
        tmp_path, {"baseline": base, "concat": concat, "secgan": sec}, gt={"preserve_psnr": pres}
    )
    for r in rows:
        r["ground_truth"] = {"preserve_psnr": 19.0 if r["method"] != "secgan" else 18.0 + 0.5 * r["seed"]}
        r["reconstruction"] = {"l1": 0.1, "psnr": 22.0 + r["seed"] + (r["method"] == "secgan")}
    cmps = compare_all(rows, dirs, n_resamples=99)
    assert set(cmps) == {"secgan_vs_baseline", "secgan_vs_concat"}
    ceiling = {
        "mean": 0.8,
        "per_attribute": {"Bald": 0.9, "Pale_Skin": 0.99, "Bangs": None, "Black_Hair": 0.97},
    }
    res = _results(rows, cmps, ceiling)
    md = render_markdown(res, _Paths(tmp_path))
    for c in cmps.values():
        assert f"{verdict_sentence(c)}." in md
    assert "**SeCGAN − Baseline + Concat:**" in md and "## Verdict" in md
    b0, b1, b2 = (100 * b.mean() for b in base)
    assert f"| Baseline | accuracy (%) | {b0:.2f} | {b1:.2f} | {b2:.2f} |" in md
    d = cmps["secgan_vs_baseline"]["accuracy"]
    cells = " | ".join(f"{d['per_seed'][str(s)]:+.2f}" for s in range(3))
    assert (
        f"| SeCGAN − Baseline | Δ accuracy (points) | {cells} | {d['estimate']:+.2f} [{d['low']:.2f}," in md
    )
    # accuracy beside what it costs, and the sentences computed from the runs
    assert "## Accuracy and what it costs" in md
    assert (
        "| Method | Seeds | Accuracy (%) ↑ | Rec. PSNR G(x, 0) (dB) ↑ | Preservation: GT preserve_psnr (dB) ↑ |"
        in md
    )
    corr = stats.pearsonr([r["accuracy"] for r in rows], [r["reconstruction"]["psnr"] for r in rows])
    assert f"correlate at r = {corr.statistic:+.2f} (Pearson, n = 9," in md
    assert "SeCGAN − Baseline: " in md and "preserve_psnr -0.50 [" in md
    # per comparison: exploratory tables with Holm-adjusted p; the ceiling with daggers below 95 %
    assert "## Where the semantic branch helps or hurts: SeCGAN − Baseline (exploratory)" in md
    assert "## Where the semantic branch helps or hurts: SeCGAN − Baseline + Concat (exploratory)" in md
    assert (
        "| Attribute | Group | Ceiling (%) | Baseline (%) | SeCGAN (%) | Δ accuracy | p (Holm) | Verdict |"
        in md
    )
    assert md.count("| Bald † | shape | 90.0 |") == 2 and "| Pale_Skin | colour/texture | 99.0 |" in md
    assert "| Bangs | shape | — |" in md  # no ceiling: no flag
    assert "Below the 95 % target: Bald † 90.0 %" in md
    # the evaluation's own list and the in/off-distribution ceilings, when it wrote them
    ceiling2 = {**ceiling, "below_target": ["Pale_Skin"], "in_distribution": {"Bald": 0.99},
                "off_distribution": {"Bald": 0.5}}  # fmt: skip
    md2 = render_markdown(_results(rows, cmps, ceiling2), _Paths(tmp_path))
    assert "| Bald | shape | 90.0 | 99.0 / 50.0 |" in md2 and "| Pale_Skin † |" in md2
    # no ceiling at all: no column, no flag
    md3 = render_markdown(_results(rows, cmps), _Paths(tmp_path))
    assert "Ceiling (%)" not in md3 and "†" not in md3


def test_an_old_results_json_still_renders(tmp_path) -> None:
    """results.json written before the seed-level verdict: secgan_beat_baseline and a bootstrap comparison."""
    from secgan.reproduce.report_md import render_markdown
    from secgan.reproduce.summary_io import headline

    rows = [_row("baseline", 0, 0.5), _row("secgan", 0, 0.6)]
    old = {"estimate": 10.0, "low": 9.0, "high": 11.0, "verdict": "better", "unit": "points"}
    res = _results(rows, {})
    del res["verdict"], res["comparisons"]
    res["secgan_beat_baseline"] = "yes: SeCGAN − Baseline: +10.0 points [9.0, 11.0]"
    res["comparison"] = {"accuracy": old, "per_attribute": {}, "groups": {}, "ground_truth": {}, "n_seeds": 1,
                         "seeds": [0], "level": 0.95, "treated": "secgan", "control": "baseline"}  # fmt: skip
    md = render_markdown(res, _Paths(tmp_path))
    assert "**SeCGAN − Baseline:** yes: SeCGAN − Baseline: +10.0 points [9.0, 11.0]." in md
    assert headline(res).startswith("secgan − baseline: yes")


def test_a_one_seed_report_has_no_verdict_word(tmp_path) -> None:
    from secgan.reporting.comparison import compare_all
    from secgan.reproduce.report_md import render_markdown

    rng = np.random.default_rng(9)
    base = [rng.random((150, 4)) < 0.5]
    sec = [rng.random((150, 4)) < 0.8]  # a large gap between the two trained models
    rows, dirs = _runs(tmp_path, {"baseline": base, "secgan": sec})
    for r in rows:
        r["reconstruction"] = {"l1": 0.1, "psnr": 22.0}
    cmps = compare_all(rows, dirs, n_resamples=99)
    md = render_markdown(_results(rows, cmps), _Paths(tmp_path))
    verdict = md[md.index("## Verdict") : md.index("## Table 1")]
    after_intro = verdict.split("\n\n", 2)[
        2
    ]  # the sentences, after the heading and the how-to-read paragraph
    assert "one seed, so no verdict on the methods" in after_intro and "Implementation check" not in md
    assert not any(w in after_intro.lower() for w in ("better", "worse", "inconclusive", "beat", "yes:"))
    assert "## Per attribute: SeCGAN − Baseline (one seed: what these two trained models did)" in md
    assert "| — (one seed) |" in md and "helps (Holm" not in md
    # one seed and no counterfactuals: the cost table names neither a spread over seeds nor a preservation
    costs = md[md.index("## Accuracy and what it costs") :]
    assert "Mean ± std over seeds" not in costs and "ground-truth counterfactual" not in costs


def test_the_sweep_table_compares_every_lambda_on_the_seeds_they_share() -> None:
    from secgan.reproduce.report_md import _sweep

    main = {0: 0.40, 1: 0.42, 2: 0.38, 3: 0.30, 4: 0.28}  # λ 0.01: the main runs, 5 seeds
    lam0 = {0: 0.43, 1: 0.43, 2: 0.40}
    lam1 = {0: 0.39, 1: 0.40, 2: 0.36}
    sweep = [{"lambda_sc": lam, "seed": s, "accuracy": a}
             for lam, v in ((0.0, lam0), (0.01, main), (1.0, lam1)) for s, a in v.items()]  # fmt: skip
    text = "\n".join(_sweep({"lambda_sc_sweep": sweep}))
    assert "| 0.01 | 0, 1, 2, 3, 4 | 35.60 |" in text  # each λ over its own seeds
    assert "| 0.01 | 40.00 | — | — |" in text  # and on the shared seeds 0, 1, 2
    d0 = np.array([3.0, 1.0, 2.0])  # λ 0 − λ 0.01 per shared seed, in points: mean 2, sd 1
    half = stats.t.ppf(0.975, 2) / np.sqrt(3)
    p0 = stats.ttest_1samp(d0, 0).pvalue
    p1 = stats.ttest_1samp(np.array([-1.0, -2.0, -2.0]), 0).pvalue
    holm0 = min(1.0, max(2 * min(p0, p1), p0))  # Holm over the two λ_sc
    assert f"| 0 | 42.00 | +2.0 [{2 - half:+.1f}, {2 + half:+.1f}] | {holm0:.2f} |" in text
    # every λ on the same seeds: no second table
    same = [e for e in sweep if e["seed"] < 3]
    assert "On the seeds every λ_sc has" in text
    assert "On the seeds every λ_sc has" not in "\n".join(_sweep({"lambda_sc_sweep": same}))


def test_the_helps_hurts_line_names_groups_and_attributes_apart() -> None:
    from secgan.reproduce.report_tables import _helps_hurts

    cmp = {
        "groups": {"colour_texture": {"label": "colour/texture", "accuracy": {"verdict": "worse"}},
                   "shape": {"label": "shape", "accuracy": {"verdict": "inconclusive"}}},
        "per_attribute": {"Bangs": {"verdict": "inconclusive"}, "Male": {"verdict": "better"}},
    }  # fmt: skip
    assert _helps_hurts(cmp) == (
        "Groups, helps (Holm p < 0.05): none; hurts: colour/texture. "
        "Attributes, helps (Holm p < 0.05): Male; hurts: none."
    )
    assert _helps_hurts({"per_attribute": {}}) == "Attributes, helps (Holm p < 0.05): none; hurts: none."
