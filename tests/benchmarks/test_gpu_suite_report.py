"""benchmarks/gpu_suite_report.py: statuses, missing results and the goals' verdicts, on hand-made folders."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(scope="module")
def report(load_benchmark):
    return load_benchmark("gpu_suite_report")


def _train(it_base, it_sec, peak_base, peak_sec):
    methods = {
        "baseline": {"it_per_s": it_base, "img_per_s": 16 * it_base, "peak": peak_base},
        "secgan": {"it_per_s": it_sec, "img_per_s": 16 * it_sec, "peak": peak_sec},
    }
    fig = {
        "methods": methods,
        "secgan_over_baseline": round(it_base / it_sec, 3),
        "peak_memory_ratio": round(peak_sec / peak_base, 3),
        "paper_iterations": 200000,
        "projected_hours": {"secgan": 200000 / it_sec / 3600},
    }
    return {"summary": {"celeba-stargan-128": fig}}


def _folder(tmp_path, rows, files):
    (tmp_path / "steps.tsv").write_text("".join("\t".join(map(str, r)) + "\n" for r in rows))
    for name, obj in files.items():
        (tmp_path / name).write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return tmp_path


def test_goals_take_the_fastest_variant_and_judge_it(tmp_path, report):
    out = _folder(
        tmp_path,
        [
            ("train_fp32", "ok", 0, 30.0, 75, "required"),
            ("train_bf16_cl", "ok", 0, 30.0, 75, "required"),
            ("eval_speed", "ok", 0, 20.0, 75, "required"),
            ("demo_sizing", "skipped", "", 0, 10, "optional"),
        ],
        {
            "train_fp32.json": _train(50.0, 20.0, 2.0, 4.0),  # slower, ratio 2.5, memory x2
            "train_bf16_cl.json": _train(60.0, 45.0, 2.0, 2.5),  # fastest: 45 it/s, ratio 1.33, memory x1.25
            "eval_speed.json": {"translations_per_second": 420.0},
        },
    )
    assert report.main([str(out)]) == 0  # a skipped optional step is no problem outside a dry run
    s = json.loads((out / "summary.json").read_text())
    goals = {g["goal"]: g for g in s["goals"]}
    assert goals["secgan_it_per_s"]["value"] == 45.0 and goals["secgan_it_per_s"]["met"] is True
    assert goals["secgan_it_per_s"]["source"] == "train_bf16_cl"
    assert (
        goals["secgan_over_baseline"]["value"] == pytest.approx(1.333)
        and goals["secgan_over_baseline"]["met"]
    )
    assert goals["peak_memory_ratio"]["value"] == 1.25 and goals["peak_memory_ratio"]["met"] is True
    assert goals["eval_translations_per_s"]["met"] is False
    assert s["train_speed"]["train_fp32"]["celeba-stargan-128"]["secgan_over_baseline"] == 2.5
    assert s["results"]["eval_speed"]["translations_per_second"] == 420.0


def test_failures_timeouts_and_missing_results_are_problems(tmp_path, report):
    junit = (
        '<testsuites><testsuite name="pytest"><testcase classname="t" name="ok" time="1.5"/>'
        '<testcase classname="t" name="bad" time="2"><failure message="assert 1 == 2">tb</failure></testcase>'
        '<testcase classname="t" name="skip" time="0"><skipped message="needs CUDA"/></testcase>'
        "</testsuite></testsuites>"
    )
    out = _folder(
        tmp_path,
        [
            ("env", "ok", 0, 1.0, 30, "required"),
            ("pytest_gpu", "ok", 0, 5.0, 180, "required"),
            ("train_fp32", "timeout", 124, 75.0, 75, "required"),
            ("nccl_train", "failed", 1, 9.0, 75, "required"),
            ("edit_latency", "ok", 0, 3.0, 45, "required"),
            ("eval_speed", "skipped", "", 0, 4, "required"),
        ],
        {"env.json": {"gpu": "NVIDIA H200"}, "pytest_gpu.xml": junit, "nccl_train.json": {"ok": False}},
    )
    (out / "edit_latency.json").write_text('{"device": "cuda"')  # cut off mid-write
    assert report.main([str(out), "--dry-run"]) == 1
    s = json.loads((out / "summary.json").read_text())
    assert s["device"] == "NVIDIA H200" and not s["ok"]
    assert s["tests"]["passed"] == 1 and s["tests"]["skipped"] == 1
    assert s["tests"]["failed"] == [{"test": "t::bad", "message": ["assert 1 == 2"]}]
    text = "\n".join(s["problems"])
    for expected in (
        "train_fp32: timeout (rc 124",
        "nccl_train: failed (rc 1",
        "edit_latency: edit_latency.json is not valid JSON",
        "eval_speed: skipped",
        "GPU tests: 1 failed",
    ):
        assert expected in text, text
    assert all(g["met"] is None for g in s["goals"])  # dry run: no verdicts
