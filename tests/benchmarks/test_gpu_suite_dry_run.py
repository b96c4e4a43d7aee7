"""benchmarks/gpu_suite.sh --dry-run: every step of the GPU suite for a few iterations on the CPU, so the
script cannot rot between the rare GPU loans. Checks the JSON it writes, not the figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STEPS = [
    "env",
    "pytest_gpu",
    "train_fp32",
    "train_bf16",
    "train_bf16_cl",
    "nccl_train",
    "eval_speed",
    "edit_latency",
    "pytest_gpu_compile",
    "demo_sizing",
    "demo_sizing_g32",
    "train_compile",
    "paper_size_synth",
]


@pytest.mark.slow
def test_dry_run_writes_every_steps_json(tmp_path):
    out = tmp_path / "suite"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        ["bash", "benchmarks/gpu_suite.sh", "--dry-run", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ok"] and summary["dry_run"] and summary["problems"] == []
    assert [s["name"] for s in summary["steps"]] == STEPS
    for s in summary["steps"]:
        assert s["status"] == "ok" and s["result_ok"] and s["seconds"] > 0, s
        assert (out / s["log"]).is_file()
    results = summary["results"]
    assert set(results) == set(STEPS)
    assert results["env"]["cuda_available"] is False and results["env"]["torch"]

    # the GPU tests were collected and skipped (no CUDA), none failed
    assert summary["tests"]["failed"] == [] and summary["tests"]["skipped"] >= 7
    # the three paper presets x {baseline, secgan}, with the schedule each projects
    fp32 = summary["train_speed"]["train_fp32"]
    assert sorted(k.split("@")[0] for k in fp32) == [
        "celeba-attgan-128",
        "celeba-stargan-128",
        "celebahq-stargan-256",
    ]
    for key, fig in fp32.items():
        assert set(fig["it_per_s"]) == {"baseline", "secgan"} and min(fig["it_per_s"].values()) > 0
        assert fig["paper_iterations"] == (1137500 if "attgan" in key else 200000)
        assert fig["secgan_over_baseline"] > 0 and fig["peak_basis"] == "rss_mib"
        assert set(fig["projected_hours"]) == {"baseline", "secgan"}
    assert results["train_bf16_cl"]["channels_last"] and results["train_bf16"]["precision"] == "bf16"
    assert results["train_compile"]["compile"] is True
    # goals: measured values, but no verdict on a dry run
    goals = {g["goal"]: g for g in summary["goals"]}
    assert set(goals) == {
        "secgan_it_per_s",
        "secgan_over_baseline",
        "peak_memory_ratio",
        "eval_translations_per_s",
    }
    assert all(g["value"] is not None and g["met"] is None for g in goals.values())
    # torchrun of one process joined a (gloo) process group, checkpointed and exported
    nccl = results["nccl_train"]
    assert nccl["ok"] and nccl["env"]["dist_backend"] == "gloo" and nccl["env"]["world_size"] == 1
    assert "step-000005.pt" in nccl["checkpoints"] and nccl["export"]["edit_finite"]
    assert (
        results["eval_speed"]["translations"] == 8 * 13
        and results["eval_speed"]["peak_memory"]["rss_mib"] > 0
    )
    assert results["edit_latency"]["edit_one_face_s"]["n"] == 2
    # paper-size networks on the synthetic preset: both methods trained, evaluated, with samples
    paper = results["paper_size_synth"]
    assert paper["dry_run"] and "model.g_n_res=6" in paper["overrides"]
    for method in ("baseline", "secgan"):
        run = paper["methods"][method]
        assert [c["step"] for c in run["curve"]] == [1, 2] and run["samples"]
        assert 0 <= run["final_accuracy"] <= 1 and run["final_rec_psnr"] > 0
    proj = summary["reproduce_projection"]
    assert (
        set(proj["it_per_s"]) == {"baseline", "concat", "secgan"} and proj["demo"]["gan_training_hours"] > 0
    )
