"""benchmarks/iteration_profile.py: the region attribution on a hand-checkable graph, and its dry run."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(scope="module")
def ip(load_benchmark):
    return load_benchmark("iteration_profile")


def test_backward_and_double_backward_flops_go_to_the_forward_region(ip):
    """Conv FLOPs are 2 * out elements * in channels * k * k; the backward of a conv whose input needs a
    gradient costs two of those; the penalty's double backward is counted to the region that created it."""
    torch.manual_seed(0)
    g, d = nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.Conv2d(4, 1, 3, padding=1, bias=False)
    x = torch.randn(2, 3, 8, 8)
    tracker = ip.PartTracker()
    counter = ip.PartFlopCounter(tracker)
    fwd_g = 2 * (2 * 4 * 8 * 8) * 3 * 9
    fwd_d = 2 * (2 * 1 * 8 * 8) * 4 * 9
    with counter:
        with tracker.region("G_rgb"):
            h = g(x)
        with tracker.region("D_rgb"):
            out = d(h)
        out.sum().backward()  # D: grad input + grad weight; G: grad weight only (x needs no gradient)
    assert counter.by_part["G_rgb"] == fwd_g + fwd_g
    assert counter.by_part["D_rgb"] == 3 * fwd_d
    assert counter.by_part["other"] == 0

    tracker.reset()
    counter = ip.PartFlopCounter(tracker)
    with counter:
        with tracker.region("D_seg"):
            z = h.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(d(z).sum(), z, create_graph=True)
            penalty = grad.pow(2).sum()
        penalty.backward()  # outside any region: still D_seg's
    assert counter.by_part["D_seg"] > 3 * fwd_d and set(counter.by_part) == {"D_seg"}


def test_dry_run_profiles_both_methods(ip, capsys):
    torch.set_num_threads(1)
    assert ip.main(["--dry-run", "--reps", "1", "--presets", "synthetic-stargan-64,no-such-preset"]) == 0
    import json

    out = json.loads(capsys.readouterr().out)
    (pre,) = out["presets"]  # the unknown preset is skipped with a warning
    base, sec = pre["methods"]["baseline"], pre["methods"]["secgan"]
    for m in (base, sec):
        assert sum(m["flop_share"].values()) == pytest.approx(1.0, abs=1e-3)
        assert sum(m["time_share"].values()) == pytest.approx(1.0, abs=1e-3)
        assert m["step_s"] > 0 and m["time_share"]["G_rgb"] > 0 and m["flop_share"]["G_rgb"] > 0.2
    # the baseline has no semantic branch and no parser; SeCGAN's are counted
    assert base["gflop_per_iter_parts"]["G_seg"] == 0 and base["gflop_per_iter_parts"]["parser"] == 0
    assert min(sec["gflop_per_iter_parts"][p] for p in ("G_seg", "D_seg", "parser")) > 0
    # the same RGB branch in both methods: the same FLOPs
    assert sec["gflop_per_iter_parts"]["G_rgb"] == pytest.approx(base["gflop_per_iter_parts"]["G_rgb"])
    ratio = pre["secgan_over_baseline"]
    assert ratio["flop_ratio"] > 1 and ratio["time_over_flop_ratio"] == pytest.approx(
        ratio["time_ratio"] / ratio["flop_ratio"], rel=1e-2
    )


def test_ratios_in_rgb_units_cancel_a_load_that_slows_one_profile(ip):
    """SeCGAN profiled under twice the load of the Baseline: the RGB-branch units see through it."""
    parts = dict.fromkeys(ip.PARTS, 0.0)
    base = {**parts, "G_rgb": 0.8, "D_rgb": 0.2}  # 1 s, all of it the RGB branch
    sec = {**parts, "G_rgb": 1.6, "D_rgb": 0.4, "G_seg": 2.0, "parser": 1.0}  # the RGB branch took 2 s
    m = {
        "baseline": {"step_s": 1.0, "step_s_cycles": [1.0], "gflop_per_iter": 10.0, "profiled_s_parts": base},
        "secgan": {"step_s": 2.5, "step_s_cycles": [2.5], "gflop_per_iter": 20.0, "profiled_s_parts": sec},
    }
    r = ip.ratios(m)
    assert r["time_ratio"] == 2.5 and r["flop_ratio"] == 2.0 and r["time_over_flop_ratio"] == 1.25
    assert r["time_ratio_rgb_units"] == 2.5 and r["time_over_flop_ratio_rgb_units"] == 1.25
    assert not r["met"] and not r["met_rgb_units"]
    sec["parser"] = 0.0  # SeCGAN at 2 RGB units: exactly its FLOP ratio
    assert ip.ratios(m)["time_over_flop_ratio_rgb_units"] == 1.0 and ip.ratios(m)["met_rgb_units"]


def test_step_candidates_time_each_variant_against_the_first(load_benchmark, capsys):
    import json

    cand = load_benchmark("step_candidates")
    assert cand.main(["synthetic-stargan-64", "base", "seg_cl", "--dry-run", "--rounds", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ratio_to_first_per_round"]["base"] == [1.0, 1.0]
    assert len(out["ratio_to_first_per_round"]["seg_cl"]) == 2 and out["median_s"]["seg_cl"] > 0
