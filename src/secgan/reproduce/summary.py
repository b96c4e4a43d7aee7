"""``DIR/results.json`` and ``DIR/report.md``: what was measured, on what data, with which substitutes,
per-seed values (each method's per-seed accuracy, reconstruction and ground-truth metrics, so anyone can
recompute the seed-level tests), mean ± std, and the two primary comparisons (SeCGAN − Baseline, SeCGAN −
Baseline + Concat) decided at the level of the training seed (:mod:`secgan.reporting.comparison`) — stated
plainly, never tuned.

``results.json`` keys of the verdict: ``verdict`` (``{comparison key: sentence}``), ``comparisons``
(``{comparison key: compare(...) dict}``), ``budget`` and ``cost``. Files written before them have
``secgan_beat_baseline`` (one sentence) and ``comparison`` instead: :mod:`secgan.reproduce.summary_io`
reads both."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from secgan.reporting.comparison import NAMES, PRIMARY, compare_all, comparison_key, verdict_sentence
from secgan.reporting.tradeoff import accuracy_psnr_correlation, cost_sentences
from secgan.reproduce.plans import ReproducePreset, preset_iterations
from secgan.reproduce.report_md import render_markdown
from secgan.utils.io import atomic_path, write_json_atomic


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _mean_std(values: list[float]) -> dict[str, float]:
    arr = np.asarray(values, dtype=float)
    return {
        "mean": float(arr.mean()),
        "std": float(arr.std(ddof=1)) if len(arr) > 1 else 0.0,
        "n": len(arr),
    }


def _ceiling(acc: dict) -> dict | None:
    """metrics.json ``accuracy.ceiling`` plus, when the evaluation wrote them, the ceiling on in- and
    off-distribution counterfactuals (``{attr: fraction}``) and the attributes below the 95 % target."""
    c = acc.get("ceiling")
    if not c:
        return None
    out = dict(c)
    for key in ("in_distribution", "off_distribution", "below_target"):
        if acc.get(f"ceiling_{key}") is not None:
            out[key] = acc[f"ceiling_{key}"]
    return out


def collect_runs(preset: ReproducePreset, paths: Any) -> list[dict]:
    rows = []
    default_its = preset_iterations(preset)
    for spec in preset.runs:
        m = _load(paths.run(spec) / "eval" / "metrics.json")
        if m is None:
            continue
        cfg = _load(paths.run(spec) / "config.json") or {}
        lam = spec.lambda_sc if spec.lambda_sc is not None else cfg.get("loss", {}).get("lambda_sc")
        rows.append(
            {
                "run": spec.name,
                "method": spec.method,
                "seed": spec.seed,
                "lambda_sc": lam if spec.method == "secgan" else None,
                "sweep": spec.lambda_sc is not None,
                "iterations": (m.get("model") or {}).get("iterations") or default_its,
                "accuracy": m["accuracy"]["mean"],
                "per_attribute": m["accuracy"]["per_attribute"],
                "distances": {k: v["mean"] for k, v in m.get("distances", {}).items()},
                "inception_scores": {
                    k: (v["mean"] if isinstance(v, dict) else v)
                    for k, v in m.get("inception_scores", {}).items()
                },
                # metrics.json["ground_truth"][metric] = {"mean": float, "per_attribute": {attr: float|None},
                # optional "higher_is_better": bool, "unit": str} (written when the data have counterfactuals)
                "ground_truth": {
                    k: v["mean"] for k, v in (m.get("ground_truth") or {}).items() if isinstance(v, dict)
                },
                "ground_truth_info": m.get("ground_truth") or {},
                # held-out G(x, no change) against x (secgan.metrics.reconstruction); None in older evaluations
                "reconstruction": {k: m["reconstruction"][k] for k in ("l1", "psnr")}
                if m.get("reconstruction")
                else None,
                # the classifier on the ground-truth edits (secgan.metrics.ground_truth_eval): a perfect
                # editor's score; None without counterfactuals or in older evaluations
                "accuracy_ceiling": _ceiling(m["accuracy"]),
                "substitutes": m.get("protocol", {}).get("substitutes", {}),
                "num_images": m.get("protocol", {}).get("num_images"),
            }
        )
    return rows


def aggregate(rows: list[dict]) -> dict[str, dict]:
    """Mean ± std per method over the main (non-sweep) runs."""
    out: dict[str, dict] = {}
    for method in ("baseline", "concat", "secgan"):
        sel = [r for r in rows if r["method"] == method and not r["sweep"]]
        if not sel:
            continue
        agg: dict[str, Any] = {
            "runs": [r["run"] for r in sel],
            "accuracy": _mean_std([r["accuracy"] for r in sel]),
        }
        for key in sel[0]["distances"]:
            agg[key] = _mean_std([r["distances"][key] for r in sel])
        for key in sel[0]["inception_scores"]:
            agg[key] = _mean_std([r["inception_scores"][key] for r in sel])
        gt = {}
        for key in sel[0].get("ground_truth", {}):
            vals = [r["ground_truth"].get(key) for r in sel]
            if all(isinstance(v, (int, float)) for v in vals):
                gt[key] = _mean_std(vals)
        if gt:
            agg["ground_truth"] = gt
        recs = [r.get("reconstruction") for r in sel]
        if all(recs):
            agg["reconstruction"] = {k: _mean_std([r[k] for r in recs]) for k in ("l1", "psnr")}
        agg["per_seed"] = {str(r["seed"]): r["accuracy"] for r in sel}
        agg["per_seed_values"] = _per_seed_values(sel)
        attrs = sel[0]["per_attribute"]
        agg["per_attribute"] = {a: _mean_std([r["per_attribute"][a] for r in sel])["mean"] for a in attrs}
        out[method] = agg
    return out


def _per_seed_values(sel: list[dict]) -> dict[str, dict[str, float | None]]:
    """``{quantity: {seed: value}}``: accuracy (fraction), reconstruction PSNR (dB) and every ground-truth
    metric (``gt_<name>``) of each run, for recomputing the seed-level tests."""
    out: dict[str, dict[str, float | None]] = {"accuracy": {str(r["seed"]): r["accuracy"] for r in sel}}
    if any(r.get("reconstruction") for r in sel):
        out["reconstruction_psnr"] = {
            str(r["seed"]): (r.get("reconstruction") or {}).get("psnr") for r in sel
        }
    for key in sorted({k for r in sel for k in r.get("ground_truth", {})}):
        out[f"gt_{key}"] = {str(r["seed"]): r.get("ground_truth", {}).get(key) for r in sel}
    return out


def write_summary(
    preset: ReproducePreset,
    preset_dict: dict,
    paths: Any,
    stages: dict[str, dict],
    wall_seconds: float,
    memory: dict[str, float],
    env: dict,
    unfinished: list[str] | None = None,
) -> dict:
    """``unfinished``: the stages not done yet when the report is written part-way (None: all done)."""
    rows = collect_runs(preset, paths)
    agg = aggregate(rows)
    sweep = sorted(
        [
            (r["lambda_sc"], r["seed"], r["accuracy"])
            for r in rows
            if r["method"] == "secgan" and r["lambda_sc"] is not None
        ],
        key=lambda t: (t[0], t[1]),
    )
    substitutes: dict[str, str] = {}
    for r in rows:
        substitutes.update(r["substitutes"])
    parser_metrics = _load(paths.parser / "metrics.json")
    classifier_metrics = _load(paths.classifier / "metrics.json")
    comparisons = compare_all(
        rows,
        {spec.name: paths.run(spec) / "eval" for spec in preset.runs},
        gt_info=next((r["ground_truth_info"] for r in rows if r["ground_truth_info"]), None),
    )
    methods = {r["method"] for r in rows if not r["sweep"]}
    verdict = {
        comparison_key(t, c): verdict_sentence(comparisons.get(comparison_key(t, c)), NAMES[t], NAMES[c])
        for t, c in PRIMARY
        if t in methods and (c in methods or c == "baseline")
    }
    results = {
        "preset": preset.name,
        "description": preset.description,
        "data": {
            "dataset": preset.dataset,
            "synthetic": bool(preset.synthetic_num),
            "images": preset.synthetic_num or None,
            "image_size": preset.image_size,
        },
        "budget": {"iterations": preset_iterations(preset), "train_overrides": list(preset.train_overrides)},
        "verdict": verdict,
        "accuracy_ceiling": next((r["accuracy_ceiling"] for r in rows if r.get("accuracy_ceiling")), None),
        "comparisons": comparisons,
        "cost": {
            "accuracy_vs_reconstruction_psnr": accuracy_psnr_correlation(rows),
            "sentences": cost_sentences(rows, comparisons),
        },  # fmt: skip
        "methods": agg,
        "runs": rows,
        "lambda_sc_sweep": [{"lambda_sc": lam, "seed": seed, "accuracy": acc} for lam, seed, acc in sweep],
        "parser": {k: parser_metrics.get(k) for k in ("mean_iou", "seconds")} if parser_metrics else None,
        "classifier": {k: classifier_metrics.get(k) for k in ("mean_accuracy", "seconds")}
        if classifier_metrics
        else None,
        "substitutes": substitutes,
        "stages": stages,
        "wall_seconds": round(wall_seconds, 1),
        "wall_seconds_all_stages": round(sum(s.get("seconds", 0.0) for s in stages.values()), 1),
        "peak_memory": memory,
        "environment": env,
        "preset_settings": preset_dict,
    }
    if unfinished:
        results["unfinished_stages"] = unfinished
    write_json_atomic(results, paths.root / "results.json")
    with atomic_path(paths.root / "report.md") as tmp:
        tmp.write_text(render_markdown(results, paths))
    return results
