"""Method differences decided at the level of the training seed, from the runs' ``eval/per_image.npz``.

The primary comparisons are SeCGAN − Baseline and SeCGAN − Baseline + Concat (:data:`PRIMARY`; the second
asks whether the consistency loss adds something beyond giving the generator the mask). For each, the main
(non-sweep) runs of the two methods are paired by seed and their test images by file name. Each seed gives
each method one value per quantity (:func:`secgan.reporting.seed_inference.seed_values`), and the paired
per-seed differences decide the verdict with a paired t-interval (:mod:`secgan.reporting.seed_inference`
says why, and what the exact sign-flip p-value beside it can and cannot show). Within one seed, the test
images give an image-level interval (:func:`secgan.reporting.intervals.paired_bootstrap`): it is reported
for the headline accuracy as "over test images, for this one pair of trained models", never as a verdict.

With one seed there is no verdict: ``verdict`` is ``"none"`` and the sentences say what the two trained
models did. Per-attribute and per-group tests carry Holm-adjusted p-values (``p_holm``) and are exploratory:
their verdict word needs ``p_holm < 0.05``.

Evaluations without ``per_image.npz`` (written before it existed) fall back to the per-seed, per-attribute
accuracies of ``metrics.json``; the seed-level test is the same (it needs only per-seed values), but there
is no image-level interval.

Ground-truth metrics: ``metrics.json["ground_truth"][metric]`` may say ``"higher_is_better"`` (bool) and
``"unit"`` (str); without them the direction is guessed from the name
(:func:`secgan.reporting.table.higher_is_better`; unknown: the report gives the sign only). Any ``gt_*``
array of ``per_image.npz`` is compared (e.g. ``judge_miou`` of an independent evaluation parser).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from secgan.metrics.per_image import PerImage, load_per_image
from secgan.reporting.attribute_groups import GROUPS, group_attributes
from secgan.reporting.intervals import paired_bootstrap
from secgan.reporting.seed_inference import LEVEL, SeedTest, holm, seed_test, seed_values
from secgan.reporting.table import higher_is_better
from secgan.reporting.verdict_text import (  # noqa: F401  (re-exported: the sentences of a comparison)
    NAMES,
    _fmt_iv,
    describe_sample,
    ground_truth_sentences,
    verdict_sentence,
)

log = logging.getLogger(__name__)

TREATED, CONTROL = "secgan", "baseline"
PRIMARY: tuple[tuple[str, str], ...] = (("secgan", "baseline"), ("secgan", "concat"))
IMAGE_RESAMPLES = 1999  # image-level bootstrap replicates (within one seed; never the verdict)
ALPHA = 1.0 - LEVEL


def comparison_key(treated: str, control: str) -> str:
    return f"{treated}_vs_{control}"


def _judge(direction: str, better_high: bool | None) -> str:
    if direction in ("none", "inconclusive") or better_high is None:
        return direction
    return "better" if (direction == "higher") == better_high else "worse"


def _entry(test: SeedTest, scale: float, unit: str, better_high: bool | None) -> dict:
    return {
        **test.to_dict(scale),
        "unit": unit,
        "higher_is_better": better_high,
        "verdict": _judge(test.direction(), better_high),
    }


def _pair(
    runs: dict[str, dict[int, PerImage]], treated: str, control: str
) -> tuple[list[int], list[str], list[str], dict[int, PerImage], dict[int, PerImage]] | None:
    """Seeds both methods have, the test images and attributes every run has (in the first run's order)."""
    if treated not in runs or control not in runs:
        return None
    seeds = sorted(set(runs[treated]) & set(runs[control]))
    if not seeds:
        return None
    every = [runs[m][s] for m in (treated, control) for s in seeds]
    names = [n for n in every[0].names if all(n in set(p.names) for p in every[1:])]
    attrs = [a for a in every[0].attributes if all(a in p.attributes for p in every[1:])]
    if len(names) < len(every[0].names):
        log.warning("paired comparison: %d test images are missing from some runs; using the %d all have",
                    len(every[0].names) - len(names), len(names))  # fmt: skip
    return seeds, names, attrs, {s: runs[treated][s] for s in seeds}, {s: runs[control][s] for s in seeds}


def _stack(
    per: dict[int, PerImage], seeds: list[int], names: list[str], attrs: list[str], key: str
) -> np.ndarray:
    """``[n_seeds, n_images, n_attr]`` float of one quantity (``"acc_correct"`` or a gt metric name)."""
    out = []
    for s in seeds:
        p = per[s]
        rows = [p.names.index(n) for n in names] if p.names != names else slice(None)
        cols = [p.attributes.index(a) for a in attrs]
        arr = p.acc_correct if key == "acc_correct" else p.gt.get(key)
        if arr is None:
            arr = np.full((p.n_images, len(p.attributes)), np.nan)
        out.append(np.asarray(arr, dtype=np.float64)[rows][:, cols])
    return np.stack(out)


def load_per_image_runs(rows: list[dict], eval_dirs: dict[str, Any]) -> dict[str, dict[int, PerImage]]:
    """``{method: {seed: PerImage}}`` of the main runs; a run without per_image.npz is left out."""
    out: dict[str, dict[int, PerImage]] = {}
    for r in rows:
        if r["sweep"]:
            continue
        eval_dir = eval_dirs.get(r["run"])
        p = load_per_image(Path(eval_dir)) if eval_dir is not None else None
        if p is not None:
            out.setdefault(r["method"], {})[r["seed"]] = p
    return out


def _from_metrics_json(rows: list[dict]) -> dict[str, dict[int, PerImage]]:
    """The fallback: each seed's per-attribute accuracies as one pseudo-image (no image-level interval)."""
    out: dict[str, dict[int, PerImage]] = {}
    for r in rows:
        if r["sweep"]:
            continue
        attrs = [a for a, v in r["per_attribute"].items() if v is not None]
        acc = np.array([[r["per_attribute"][a] for a in attrs]])
        out.setdefault(r["method"], {})[r["seed"]] = PerImage(["(mean)"], attrs, acc)
    return out


def _iterations(rows: list[dict], methods: tuple[str, str], seeds: list[int]) -> list[int]:
    """The training budgets (iterations) of the paired runs, as recorded (empty when none recorded)."""
    its = {
        r.get("iterations") for r in rows if not r["sweep"] and r["method"] in methods and r["seed"] in seeds
    }
    return sorted(int(i) for i in its if isinstance(i, (int, float)))


def _holm_family(entries: dict[str, dict]) -> None:
    """Adds ``p_holm`` (Holm over this family) to each entry and sets its verdict from it (exploratory)."""
    adjusted = holm({k: e.get("p_t") for k, e in entries.items()})
    for k, e in entries.items():
        e["p_holm"] = adjusted[k]
        if e["verdict"] in ("better", "worse", "higher", "lower") and not (
            adjusted[k] is not None and adjusted[k] < ALPHA
        ):
            e["verdict"] = "inconclusive"


def compare(
    rows: list[dict],
    eval_dirs: dict[str, Any],
    gt_info: dict[str, dict] | None = None,
    n_resamples: int = IMAGE_RESAMPLES,
    treated: str = TREATED,
    control: str = CONTROL,
) -> dict | None:
    """``treated − control`` with seed-level tests (``results.json["comparisons"][key]``), or ``None``
    without runs of both methods on a common seed.

    ``rows``: one dict per run with ``run`` (name), ``method``, ``seed``, ``sweep`` (True: a λ_sc sweep run,
    left out), ``per_attribute`` (accuracy in [0, 1], for the fallback) and optionally ``iterations`` and
    ``reconstruction`` (``{"psnr": dB}``), e.g. :func:`secgan.reproduce.summary.collect_runs` rows;
    ``eval_dirs`` maps run name -> its evaluation folder; ``gt_info`` is a run's
    ``metrics.json["ground_truth"]`` (for directions and units). ``n_resamples``: of the image-level bootstrap.
    """
    runs = load_per_image_runs(rows, eval_dirs)
    source = "per_image.npz"
    paired = _pair(runs, treated, control)
    expected = {
        m: {r["seed"] for r in rows if r["method"] == m and not r["sweep"]} for m in (treated, control)
    }
    if paired is None or any(set(runs.get(m, {})) != expected[m] for m in expected):
        runs, source = _from_metrics_json(rows), "metrics.json (per-seed means; no per_image.npz)"
        paired = _pair(runs, treated, control)
    if paired is None:
        return None
    seeds, names, attrs, tr, co = paired
    gt_info = gt_info or {}
    gt_keys = sorted({k for p in (*tr.values(), *co.values()) for k in p.gt})
    per_image = source == "per_image.npz"

    def values(per: dict[int, PerImage], key: str, cols: list[str] | None = None) -> np.ndarray:
        return seed_values(_stack(per, seeds, names, attrs if cols is None else cols, key))  # [S]

    def test(key: str, cols: list[str] | None = None) -> SeedTest:
        return seed_test(dict(zip(seeds, values(tr, key, cols) - values(co, key, cols))))

    def image_level(key: str, cols: list[str] | None, scale: float) -> dict[str, dict]:
        """Per seed, the bootstrap over that seed's test images (the within-seed uncertainty)."""
        if not per_image or len(names) < 2:
            return {}
        sel = attrs if cols is None else cols
        t, c = _stack(tr, seeds, names, sel, key), _stack(co, seeds, names, sel, key)
        out = {}
        for i, s in enumerate(seeds):
            iv = paired_bootstrap(t[i : i + 1], c[i : i + 1], n_resamples=n_resamples, seed=s)
            out[str(s)] = {k: v for k, v in iv.to_dict(scale).items() if k in ("estimate", "low", "high")}
        return out

    acc = _entry(test("acc_correct"), 100.0, "points", True)
    acc["image_level"] = image_level("acc_correct", None, 100.0)
    result: dict[str, Any] = {
        "treated": treated,
        "control": control,
        "level": LEVEL,
        "seeds": seeds,
        "n_seeds": len(seeds),
        "n_images": len(names) if per_image else None,
        "iterations": _iterations(rows, (treated, control), seeds),
        "source": source,
        "inference": (
            "paired t-interval over seeds (each seed's value: the mean over its test images, per attribute "
            "then over attributes); exact sign-flip p-value beside it"
            if len(seeds) >= 2
            else "one seed: no verdict; the interval is over test images, for this one pair of trained models"
        ),
        "values": {
            "accuracy": {
                m: {str(s): float(v) * 100.0 for s, v in zip(seeds, values(per, "acc_correct"))}
                for m, per in ((treated, tr), (control, co))
            }
        },
        "accuracy": acc,
        "reconstruction_psnr": _reconstruction(rows, treated, control, seeds),
        "ground_truth": {},
        "per_attribute": {a: _entry(test("acc_correct", [a]), 100.0, "points", True) for a in attrs},
        "groups": {},
        "exploratory": "per-attribute and per-group tests: paired t over seeds, p-values Holm-adjusted within "
        "each family (statsmodels multipletests); a verdict word needs p_holm < 0.05",
    }
    if len(seeds) == 1:  # what the one pair of models did per attribute, over its test images
        for a, e in result["per_attribute"].items():
            e["image_level"] = image_level("acc_correct", [a], 100.0)
    _holm_family(result["per_attribute"])
    for key in gt_keys:
        info = gt_info.get(key) if isinstance(gt_info.get(key), dict) else {}
        hib = higher_is_better(key, info)
        unit = str(info.get("unit", ""))
        entry = _entry(test(key), 1.0, unit, hib)
        if len(seeds) == 1:
            entry["image_level"] = image_level(key, None, 1.0)
        entry["per_attribute"] = {a: _entry(test(key, [a]), 1.0, unit, hib) for a in attrs}
        _holm_family(entry["per_attribute"])
        result["ground_truth"][key] = entry
    for group, members in group_attributes(attrs).items():
        result["groups"][group] = {
            "label": GROUPS[group][0],
            "attributes": members,
            "accuracy": _entry(test("acc_correct", members), 100.0, "points", True),
            **{
                f"gt_{k}": _entry(test(k, members), 1.0, "", higher_is_better(k, gt_info.get(k)))
                for k in gt_keys
            },
        }
    for metric in ["accuracy", *(f"gt_{k}" for k in gt_keys)]:
        _holm_family({g: v[metric] for g, v in result["groups"].items()})
    return result


def _reconstruction(rows: list[dict], treated: str, control: str, seeds: list[int]) -> dict | None:
    """Seed-level test of the held-out reconstruction PSNR G(x, 0) (from the rows; None when missing)."""
    psnr: dict[str, dict[int, float]] = {treated: {}, control: {}}
    for r in rows:
        rec = r.get("reconstruction")
        if (
            not r["sweep"]
            and r["method"] in psnr
            and r["seed"] in seeds
            and rec
            and rec.get("psnr") is not None
        ):
            psnr[r["method"]][r["seed"]] = float(rec["psnr"])
    common = [s for s in seeds if s in psnr[treated] and s in psnr[control]]
    if not common:
        return None
    return _entry(seed_test({s: psnr[treated][s] - psnr[control][s] for s in common}), 1.0, "dB", True)


def compare_all(
    rows: list[dict], eval_dirs: dict[str, Any], gt_info: dict[str, dict] | None = None, **kwargs: Any
) -> dict[str, dict]:
    """The primary comparisons that have runs of both methods: ``{"secgan_vs_baseline": ..., ...}``."""
    out = {}
    for treated, control in PRIMARY:
        cmp = compare(rows, eval_dirs, gt_info, treated=treated, control=control, **kwargs)
        if cmp is not None:
            out[comparison_key(treated, control)] = cmp
    return out
