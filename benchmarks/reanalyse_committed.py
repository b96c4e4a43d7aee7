"""The committed results re-analysed with the seed-level test (secgan.reporting.seed_inference).

Reads the per-seed values that were committed before the seed-level verdict existed and prints, as JSON, the
paired t-interval (and exact sign-flip p) of each method difference:

- ``docs/results/standard-stargan-3000/results.json`` (3 seeds × 300 test images, 3,000 iterations): SeCGAN − Baseline and
  SeCGAN − Baseline + Concat on mean editing accuracy, reconstruction PSNR and every ground-truth metric, per
  attribute group and per attribute (Holm-adjusted, exploratory), and on the accuracy without the attributes
  whose classifier ceiling is below 95 % (and without Male, Mustache and No_Beard only);
- ``docs/results/budget-6k-stargan`` (6,000 iterations, 300 test images): seed 0's accuracies from ``runs.csv``;
  seed 1's paired difference from ``comparison-2-seeds.json``, whose estimate is the mean of the two seeds'
  differences (every accuracy cell is defined, so the crossed mean equals the mean of the per-seed means):
  ``d_1 = 2 · estimate − d_0`` (also for the ground-truth edit and preservation PSNR, which are defined on
  the same image-attribute cells in every run, so the same identity holds).

Usage::

    python benchmarks/reanalyse_committed.py > docs/results/standard-stargan-3000/reanalysis.json

The budget question on two new ``results.json`` (``standard`` and ``budget-2x``) is
``benchmarks/budget_question.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from secgan.reporting.attribute_groups import group_attributes
from secgan.reporting.seed_inference import holm, seed_test

ROOT = Path(__file__).resolve().parents[1] / "docs" / "results"
LOW_CEILING = ("Male", "Mustache", "No_Beard")  # the three: ceilings 63-68 %


def _test(per_seed: dict[int, float], digits: int = 2) -> dict:
    t = seed_test(per_seed)
    d = t.to_dict()
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items() if k != "interval"}


def _by_seed(runs: list[dict], method: str) -> dict[int, dict]:
    return {r["seed"]: r for r in runs if r["method"] == method and not r["sweep"]}


def standard() -> dict:
    res = json.loads((ROOT / "standard-stargan-3000" / "results.json").read_text())
    runs = res["runs"]
    ceiling = (res.get("accuracy_ceiling") or {}).get("per_attribute") or {}
    below = [a for a, v in ceiling.items() if v is not None and v < 0.95]
    out: dict = {
        "source": "docs/results/standard-stargan-3000/results.json",
        "iterations": 3000,
        "n_images": 300,
        "ceiling_below_95": below,
    }
    for control in ("baseline", "concat"):
        tr, co = _by_seed(runs, "secgan"), _by_seed(runs, control)
        seeds = sorted(set(tr) & set(co))
        attrs = list(tr[seeds[0]]["per_attribute"])

        def acc(cols: list[str], s: int, tr=tr, co=co) -> float:
            return 100 * (
                np.mean([tr[s]["per_attribute"][a] for a in cols])
                - np.mean([co[s]["per_attribute"][a] for a in cols])
            )

        entry: dict = {
            "seeds": seeds,
            "accuracy": _test({s: 100 * (tr[s]["accuracy"] - co[s]["accuracy"]) for s in seeds}),
        }
        entry["accuracy_without_" + "_".join(LOW_CEILING)] = _test(
            {s: acc([a for a in attrs if a not in LOW_CEILING], s) for s in seeds}
        )
        entry["accuracy_without_ceiling_below_95"] = _test(
            {s: acc([a for a in attrs if a not in below], s) for s in seeds}
        )
        entry["reconstruction_psnr"] = _test(
            {s: tr[s]["reconstruction"]["psnr"] - co[s]["reconstruction"]["psnr"] for s in seeds}
        )
        entry["ground_truth"] = {
            k: _test({s: tr[s]["ground_truth"][k] - co[s]["ground_truth"][k] for s in seeds})
            for k in tr[seeds[0]]["ground_truth"]
        }
        groups = {g: _test({s: acc(m, s) for s in seeds}) for g, m in group_attributes(attrs).items()}
        per_attr = {a: _test({s: acc([a], s) for s in seeds}) for a in attrs}
        for fam in (groups, per_attr):
            adj = holm({k: v["p_t"] for k, v in fam.items()})
            for k, v in fam.items():
                v["p_holm"] = None if adj[k] is None else round(adj[k], 4)
        entry["groups_exploratory"] = groups
        entry["per_attribute_exploratory"] = per_attr
        out[f"secgan_vs_{control}"] = entry
    return out


def budget_6k() -> dict:
    rows = list(csv.DictReader((ROOT / "budget-6k-stargan" / "runs.csv").open()))
    acc = {r["method"]: float(r["accuracy"]) for r in rows if r["seed"] == "0"}
    d0 = acc["secgan"] - acc["baseline"]
    two = json.loads((ROOT / "budget-6k-stargan" / "comparison-2-seeds.json").read_text())
    d1 = 2 * two["accuracy"]["estimate"] - d0
    gt = {}
    for key in ("edit_psnr", "preserve_psnr"):  # defined on the same (image, attribute) cells in every run
        v = {r["method"]: float(r[f"gt_{key}"]) for r in rows if r["seed"] == "0"}
        g0 = v["secgan"] - v["baseline"]
        gt[key] = _test({0: g0, 1: 2 * two["ground_truth"][key]["estimate"] - g0})
    return {
        "source": "docs/results/budget-6k-stargan/runs.csv (seed 0) and comparison-2-seeds.json (seed 1, derived)",
        "iterations": 6000,
        "n_images": 300,
        "secgan_vs_baseline": {"seeds": [0, 1], "accuracy": _test({0: d0, 1: d1}), "ground_truth": gt},
    }


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.parse_args()
    print(json.dumps({"standard": standard(), "budget-6k": budget_6k()}, indent=1))


if __name__ == "__main__":
    main()
