"""The reproduction summary: aggregation over seeds and the plain verdict."""

from __future__ import annotations

import pytest

from secgan.errors import ConfigError
from secgan.reproduce.plans import DEMO_RECIPE, METHODS, PRESETS, STANDARD_RECIPE, get_preset
from secgan.reproduce.summary import _mean_std, aggregate, verdict


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


def test_verdict_says_yes_no_or_inconclusive() -> None:
    one = aggregate([_row("baseline", 0, 0.60), _row("secgan", 0, 0.65)])
    assert verdict(one).startswith("yes") and "+5.00 points" in verdict(one)
    worse = aggregate([_row("baseline", 0, 0.60), _row("secgan", 0, 0.55)])
    assert verdict(worse).startswith("no")
    noisy = aggregate(
        [_row("baseline", s, a) for s, a in enumerate((0.5, 0.7, 0.6))]
        + [_row("secgan", s, a) for s, a in enumerate((0.55, 0.75, 0.62))]
    )
    assert verdict(noisy).startswith("inconclusive")
    assert verdict(aggregate([_row("baseline", 0, 0.5)])).startswith("not measured")


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
