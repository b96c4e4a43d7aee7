"""The whole reproduction pipeline end to end on a tiny preset: every stage runs as the real `secgan`
command, the summary aggregates seeds and the λ_sc sweep, and a second invocation reuses every stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from secgan.reproduce.pipeline import report_so_far, reproduce
from secgan.reproduce.plans import ReproducePreset, RunSpec

TINY = ReproducePreset(
    name="tiny",
    description="a test-sized reproduction",
    synthetic_num=60,
    image_size=64,
    parser_epochs=1,
    parser_extra=("--batch", "8", "--base-width", "8", "--input-size", "64"),
    classifier_epochs=1,
    classifier_extra=("--batch", "16"),
    train_preset="synthetic-stargan-64",
    train_overrides=(
        "train.iterations=2",
        "train.decay_start=1",
        "train.n_critic=1",
        "train.batch_size=4",
        "model.g_conv_dim=8",
        "model.g_n_res=1",
        "model.d_conv_dim=8",
        "log.sample_every=2",
        "log.checkpoint_every=2",
        "log.tensorboard=false",
    ),
    runs=(
        RunSpec("baseline-s0", "baseline", 0),
        RunSpec("baseline-s1", "baseline", 1),
        RunSpec("secgan-s0", "secgan", 0),
        RunSpec("secgan-s1", "secgan", 1),
        RunSpec("secgan-lsc0.1-s0", "secgan", 0, lambda_sc=0.1),
    ),
    eval_max_images=6,
    eval_extra=("--batch", "6", "--examples", "2"),
    judge_extra=("--batch", "8", "--base-width", "4", "--epochs", "1", "--seed", "1"),
    edit_samples=2,
)


@pytest.mark.slow
def test_tiny_reproduction_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # real-image statistics cache
    out = tmp_path / "repro"
    res = reproduce(TINY, out, device="cpu")

    assert (out / "report.md").is_file() and (out / "results.json").is_file()
    saved = json.loads((out / "results.json").read_text())
    assert saved["verdict"] == res["verdict"] and set(saved["verdict"]) == {"secgan_vs_baseline"}
    secgan = res["methods"]["secgan"]
    assert secgan["accuracy"]["n"] == 2  # two seeds aggregated; the sweep run is kept apart
    assert set(secgan["per_seed"]) == {"0", "1"}
    # the verdict's seed-level paired t-interval: 2 seeds x 6 test images, the budget of the runs
    cmp = saved["comparisons"]["secgan_vs_baseline"]
    assert (cmp["n_seeds"], cmp["n_images"], cmp["seeds"], cmp["iterations"]) == (2, 6, [0, 1], [2])
    assert cmp["source"] == "per_image.npz"
    acc = cmp["accuracy"]
    assert acc["low"] <= acc["estimate"] <= acc["high"] and acc["unit"] == "points"
    assert set(acc["per_seed"]) == {"0", "1"} and set(acc["image_level"]) == {"0", "1"}
    # each method's per-seed values, so anyone can recompute the seed-level test
    assert set(secgan["per_seed_values"]["accuracy"]) == {"0", "1"}
    assert set(secgan["per_seed_values"]["reconstruction_psnr"]) == {"0", "1"}
    expected = 100 * (secgan["accuracy"]["mean"] - res["methods"]["baseline"]["accuracy"]["mean"])
    assert acc["estimate"] == pytest.approx(expected)  # the same images in every run: means agree
    assert acc["verdict"] in ("better", "worse", "inconclusive")
    assert set(cmp["per_attribute"]) == set(secgan["per_attribute"]) and "shape" in cmp["groups"]
    assert "2 seeds (0, 1) × 6 test images, 2 training iterations" in saved["verdict"]["secgan_vs_baseline"]
    assert "Where the semantic branch helps or hurts" in (out / "report.md").read_text()
    assert "Rec. PSNR G(x, 0) (dB)" in (out / "report.md").read_text()
    assert all(0 < r["reconstruction"]["psnr"] < 100 for r in saved["runs"])
    for run in ("baseline-s0", "secgan-s1"):
        assert (out / "runs" / run / "eval" / "per_image.npz").is_file()
    # the independent judge: trained after the parser, its own mIoU recorded, used by every evaluation
    judge = json.loads((out / "judge" / "config.json").read_text())
    assert judge["networks"]["parser"]["family"] == "unet_parser" and judge["training"]["seed"] == 1
    assert res["stages"]["judge"]["result"]["mean_iou"] == judge["evaluation"]["mean_iou"]
    for run in ("baseline-s0", "secgan-s1"):
        m = json.loads((out / "runs" / run / "eval" / "metrics.json").read_text())
        assert m["judge"]["arch"] == "unet_parser" and m["judge"]["dir"] == str(out / "judge")
        assert m["judge"]["miou_vs_ground_truth"] == judge["evaluation"]["mean_iou"]
    assert set(res["methods"]) == {"baseline", "secgan"}
    assert sorted({r["lambda_sc"] for r in res["lambda_sc_sweep"]}) == [0.01, 0.1]
    assert "fid_cls" in res["substitutes"] and "ssfid" not in secgan
    assert (out / "edits" / "edits_grid.png").is_file()
    figures = {p.name.split("-")[0] for p in (out / "report").glob("*.png")}
    assert {"figure3", "figure4", "figure5"} <= figures
    assert all(not s["skipped"] for s in res["stages"].values())

    again = reproduce(TINY, out, device="cpu")  # everything valid: nothing is redone
    assert all(s["skipped"] for name, s in again["stages"].items())
    assert again["methods"]["secgan"]["accuracy"] == secgan["accuracy"]

    # a reproduction stopped part-way: the sweep run is neither trained nor evaluated yet
    (out / "runs" / "secgan-lsc0.1-s0" / ".stage-done.json").unlink()
    shutil.rmtree(out / "runs" / "secgan-lsc0.1-s0" / "eval")
    mtime = (out / "runs" / "secgan-s0" / "export" / "G.safetensors").stat().st_mtime_ns
    part = report_so_far(TINY, out, device="cpu")
    assert part["unfinished_stages"] == ["train:secgan-lsc0.1-s0", "evaluate:secgan-lsc0.1-s0"]
    assert [r["lambda_sc"] for r in part["lambda_sc_sweep"]] == [0.01, 0.01]  # the main runs only
    assert (
        part["comparisons"]["secgan_vs_baseline"]["accuracy"] == cmp["accuracy"]
    )  # the main runs are all there
    assert (
        "**Partial report.** Written before the reproduction finished: 4 of 5 runs"
        in (out / "report.md").read_text()
    )
    assert (
        out / "runs" / "secgan-s0" / "export" / "G.safetensors"
    ).stat().st_mtime_ns == mtime  # ran nothing
