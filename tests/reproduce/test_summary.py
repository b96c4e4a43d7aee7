"""The reproduction summary: aggregation over seeds and the verdict with its paired bootstrap interval."""

from __future__ import annotations

import numpy as np
import pytest

from secgan.errors import ConfigError
from secgan.metrics.per_image import PerImage, write_per_image
from secgan.reporting.comparison import compare, ground_truth_sentences, verdict_sentence
from secgan.reporting.table import higher_is_better
from secgan.reproduce.plans import DEMO_RECIPE, METHODS, PRESETS, STANDARD_RECIPE, get_preset
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


def test_verdict_carries_the_interval_and_splits_shape_from_colour(tmp_path) -> None:
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
    cmp = compare(rows, dirs, n_resamples=999)
    assert cmp["n_seeds"] == 3 and cmp["n_images"] == n and cmp["resampled"] == "seeds and test images"
    acc = cmp["accuracy"]
    assert acc["estimate"] == pytest.approx(100 * (np.mean(sec) - np.mean(base)))
    assert 0 < acc["low"] < acc["estimate"] < acc["high"] and acc["verdict"] == "better"
    assert cmp["groups"]["shape"]["attributes"] == ["Bald", "Bangs"]
    assert cmp["groups"]["shape"]["accuracy"]["verdict"] == "better"
    assert cmp["groups"]["colour_texture"]["accuracy"]["verdict"] == "inconclusive"
    assert cmp["groups"]["colour_texture"]["accuracy"]["estimate"] == 0.0
    assert cmp["per_attribute"]["Pale_Skin"]["verdict"] == "inconclusive"
    gt = cmp["ground_truth"]["edit_l1"]  # lower is better, guessed from the name
    assert gt["higher_is_better"] is False and gt["verdict"] == "better"
    assert gt["estimate"] == pytest.approx(-0.1) and gt["low"] == pytest.approx(-0.1)
    sentence = verdict_sentence(cmp)
    e = acc
    assert sentence.startswith(
        f"yes: SeCGAN − Baseline: {e['estimate']:+.1f} points [{e['low']:.1f}, {e['high']:.1f}] mean editing "
        f"accuracy, 3 seeds × {n} test images"
    )
    assert "edit_l1 (lower is better): SeCGAN − Baseline -0.100 [-0.100, -0.100]: SeCGAN better" in (
        ground_truth_sentences(cmp)
    )


def test_units_of_ground_truth_intervals() -> None:
    from secgan.reporting.comparison import _fmt_iv

    e = {"estimate": -0.0004, "low": -0.006, "high": 0.008, "unit": "[-1, 1]"}
    assert _fmt_iv(e, 3) == "-0.000 [-0.006, 0.008] (images in [-1, 1])"  # a range is not a unit
    assert _fmt_iv({**e, "unit": "dB"}, 3) == "-0.000 dB [-0.006, 0.008]"
    assert _fmt_iv({**e, "low": None, "high": None, "unit": ""}, 3) == "-0.000 (no interval)"


def test_an_interval_spanning_zero_is_inconclusive_and_one_seed_points_to_standard(tmp_path) -> None:
    rng = np.random.default_rng(1)
    a, b = rng.random((200, 4)) < 0.5, rng.random((200, 4)) < 0.5
    rows, dirs = _runs(tmp_path, {"baseline": [a], "secgan": [b]})
    cmp = compare(rows, dirs, n_resamples=999)
    assert cmp["resampled"] == "test images only" and cmp["accuracy"]["low"] < 0 < cmp["accuracy"]["high"]
    sentence = verdict_sentence(cmp)
    assert sentence.startswith("inconclusive (the 95 % interval includes 0): SeCGAN − Baseline: ")
    assert "1 seed × 200 test images" in sentence and "test images only" in sentence
    assert "`--preset standard`" in sentence


def test_without_per_image_files_the_interval_is_over_seeds(tmp_path) -> None:
    rows = [_row("baseline", s, a) for s, a in enumerate((0.50, 0.52, 0.51))]
    rows += [_row("secgan", s, a) for s, a in enumerate((0.60, 0.61, 0.62))]
    cmp = compare(rows, {r["run"]: tmp_path / r["run"] for r in rows}, n_resamples=999)
    assert cmp["resampled"] == "seeds only" and cmp["n_images"] is None
    assert cmp["accuracy"]["estimate"] == pytest.approx(10.0)
    assert 8.0 <= cmp["accuracy"]["low"] <= cmp["accuracy"]["high"] <= 12.0
    assert verdict_sentence(cmp).startswith("yes") and "seeds only" in verdict_sentence(cmp)
    assert verdict_sentence(compare(rows[:3], {}, n_resamples=99)).startswith("not measured")


def test_directions_of_ground_truth_metrics() -> None:
    assert higher_is_better("shape_iou") and higher_is_better("edit_psnr")
    assert higher_is_better("edit_l1") is False and higher_is_better("preservation_change") is False
    assert higher_is_better("mystery") is None
    # the names metrics/ground_truth.py writes
    assert [higher_is_better(k) for k in ("shape_iou", "miou", "edit_l1", "edit_psnr", "preserve_l1",
                                           "preserve_psnr")] == [True, True, False, True, False, True]  # fmt: skip
    assert higher_is_better("mystery", {"higher_is_better": True}) is True


def test_presets_are_well_formed() -> None:
    demo = get_preset("demo")
    assert {r.method for r in demo.runs} == {"baseline", "secgan"}  # Concat moved to `standard`
    assert len({r.seed for r in demo.runs}) == 1  # same seed for both methods
    std = get_preset("standard")
    main = [r for r in std.runs if r.lambda_sc is None]
    assert {(r.method, r.seed) for r in main} == {(m, s) for m in METHODS for s in (0, 1, 2)}
    sweep = sorted(r.lambda_sc for r in std.runs if r.lambda_sc is not None)
    assert sweep == [0.0, 0.001, 0.1, 1.0]  # 0.01 is the main SeCGAN runs' own value
    # one recipe per preset, shared by every method; the recipe values live in one place
    assert demo.train_overrides == DEMO_RECIPE.train_overrides
    assert std.train_overrides == STANDARD_RECIPE.train_overrides
    assert "full-synthetic" not in PRESETS  # one name per experiment
    assert all(p.needs_data for name, p in PRESETS.items() if name not in ("demo", "standard"))
    with pytest.raises(ConfigError, match="valid: .*demo"):
        get_preset("dmeo")


def test_report_markdown_has_the_verdict_per_seed_values_and_groups(tmp_path) -> None:
    from secgan.reproduce.report_md import render_markdown

    rng = np.random.default_rng(4)
    n = 200
    base = [rng.random((n, 4)) < 0.6 for _ in range(2)]
    sec = [b | np.concatenate([rng.random((n, 2)) < 0.5, np.zeros((n, 2), bool)], 1) for b in base]
    rows, dirs = _runs(tmp_path, {"baseline": base, "secgan": sec})
    for r in rows:
        r["ground_truth"] = {"edit_l1": 0.3 if r["method"] == "baseline" else 0.2}
        r["reconstruction"] = {"l1": 0.1, "psnr": 22.0 + r["seed"] + (r["method"] == "secgan")}
    cmp = compare(rows, dirs, n_resamples=499)

    class Paths:
        report = tmp_path / "report"
        edits = tmp_path / "edits"

    res = {
        "preset": "standard", "description": "d", "data": {"synthetic": False, "dataset": "celeba", "image_size": 64},
        "secgan_beat_baseline": verdict_sentence(cmp), "comparison": cmp, "methods": aggregate(rows), "runs": rows,
        "lambda_sc_sweep": [], "substitutes": {}, "parser": None, "classifier": None,
        "peak_memory": {"largest_stage_mb": 1, "pipeline_mb": 1}, "environment": {}, "wall_seconds": 1,
        "wall_seconds_all_stages": 1, "stages": {},
    }  # fmt: skip
    md = render_markdown(res, Paths)
    assert f"**Did SeCGAN beat the baseline here?** {verdict_sentence(cmp)}." in md
    assert "2 seeds × 200 test images" in md and "Implementation check" not in md  # SeCGAN won here
    b0, b1 = (100 * b.mean() for b in base)
    assert f"| Baseline | accuracy (%) | {b0:.2f} | {b1:.2f} |" in md
    assert "| Baseline | GT edit_l1 | 0.300 | 0.300 | 0.300 ± 0.000 |" in md
    assert "| Method | Runs | Accuracy (%) ↑ | fid_cls ↓ | GT edit_l1 ↓ | Rec. PSNR G(x, 0) (dB) ↑ |" in md
    assert "| SeCGAN | rec. PSNR (dB) | 23.00 | 24.00 | 23.50 ± 0.71 |" in md  # per seed, then mean ± std
    assert "| Pale_Skin | colour/texture |" in md and "Helps: Bald, Bangs. Hurts: none." in md
    shape = cmp["groups"]["shape"]["accuracy"]
    assert f"| shape (the part map changes) | Bald, Bangs | {shape['estimate']:+.1f} [" in md
    assert "Accuracy ceiling" not in md and "Ceiling (%)" not in md  # no counterfactuals: no ceiling
    # with counterfactuals: the ceiling, each method's share of it, and a per-attribute column
    res["accuracy_ceiling"] = {"mean": 0.8, "per_attribute": {"Bald": 0.9, "Pale_Skin": 0.7, "Bangs": None}}
    md = render_markdown(res, Paths)
    share = 100 * res["methods"]["baseline"]["accuracy"]["mean"] / 0.8
    assert "**Accuracy ceiling: 80.00 %**" in md and f"Baseline {share:.0f} %" in md
    assert "| Verdict (accuracy) | Ceiling (%) |" in md
    assert [
        ln.rsplit("|", 2)[-2].strip() for ln in md.splitlines() if ln.startswith(("| Bald |", "| Bangs |"))
    ] == [
        "90.0",
        "—",
    ]
