"""SeCGAN − Baseline with paired bootstrap intervals, from the runs' ``eval/per_image.npz``.

The main (non-sweep) runs of each method are paired by seed, their test images by file name, and
:func:`secgan.reporting.intervals.paired_bootstrap` gives the interval of the difference on mean editing
accuracy, on every ground-truth metric the evaluations wrote (``gt_*`` keys), per attribute and per
attribute group (shape against colour/texture, :mod:`secgan.reporting.attribute_groups`).

Evaluations without ``per_image.npz`` (written before it existed) fall back to the per-seed,
per-attribute accuracies of ``metrics.json``: the interval is then over seeds only.

Ground-truth metrics: ``metrics.json["ground_truth"][metric]`` may say ``"higher_is_better"`` (bool) and
``"unit"`` (str); without them the direction is guessed from the name
(:func:`secgan.reporting.table.higher_is_better`; unknown: the report gives the sign only).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from secgan.metrics.per_image import PerImage, load_per_image
from secgan.reporting.attribute_groups import GROUPS, group_attributes
from secgan.reporting.intervals import LEVEL, N_RESAMPLES, Interval, paired_bootstrap
from secgan.reporting.table import higher_is_better

log = logging.getLogger(__name__)

TREATED, CONTROL = "secgan", "baseline"


def _judge(iv: Interval, better_high: bool | None) -> str:
    d = iv.direction()
    if d == "inconclusive" or better_high is None:
        return d
    return "better" if (d == "higher") == better_high else "worse"


def _entry(iv: Interval, scale: float, unit: str, better_high: bool | None) -> dict:
    return {
        **iv.to_dict(scale),
        "unit": unit,
        "higher_is_better": better_high,
        "verdict": _judge(iv, better_high),
    }


def _pair(
    runs: dict[str, dict[int, PerImage]],
) -> tuple[list[int], list[str], list[str], dict[str, PerImage], dict[str, PerImage]] | None:
    """Seeds both methods have, the test images and attributes every run has (in the first run's order)."""
    if TREATED not in runs or CONTROL not in runs:
        return None
    seeds = sorted(set(runs[TREATED]) & set(runs[CONTROL]))
    if not seeds:
        return None
    every = [runs[m][s] for m in (TREATED, CONTROL) for s in seeds]
    names = [n for n in every[0].names if all(n in set(p.names) for p in every[1:])]
    attrs = [a for a in every[0].attributes if all(a in p.attributes for p in every[1:])]
    if len(names) < len(every[0].names):
        log.warning("paired intervals: %d test images are missing from some runs; using the %d all have",
                    len(every[0].names) - len(names), len(names))  # fmt: skip
    return seeds, names, attrs, {s: runs[TREATED][s] for s in seeds}, {s: runs[CONTROL][s] for s in seeds}


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
    """The fallback: each seed's per-attribute accuracies as one pseudo-image (seeds-only intervals)."""
    out: dict[str, dict[int, PerImage]] = {}
    for r in rows:
        if r["sweep"]:
            continue
        attrs = [a for a, v in r["per_attribute"].items() if v is not None]
        acc = np.array([[r["per_attribute"][a] for a in attrs]])
        out.setdefault(r["method"], {})[r["seed"]] = PerImage(["(mean)"], attrs, acc)
    return out


def compare(
    rows: list[dict],
    eval_dirs: dict[str, Any],
    gt_info: dict[str, dict] | None = None,
    n_resamples: int = N_RESAMPLES,
) -> dict | None:
    """SeCGAN − Baseline intervals (``results.json["comparison"]``), or ``None`` without both methods.

    ``rows``: one dict per run with ``run`` (name), ``method``, ``seed``, ``sweep`` (True: a λ_sc sweep run,
    left out) and ``per_attribute`` (accuracy in [0, 1], for the fallback), e.g.
    :func:`secgan.reproduce.summary.collect_runs` rows; ``eval_dirs`` maps run name -> its evaluation
    folder; ``gt_info`` is a run's ``metrics.json["ground_truth"]`` (for directions and units).
    """
    runs = load_per_image_runs(rows, eval_dirs)
    source = "per_image.npz"
    paired = _pair(runs)
    expected = {
        m: {r["seed"] for r in rows if r["method"] == m and not r["sweep"]} for m in (TREATED, CONTROL)
    }
    if paired is None or any(set(runs.get(m, {})) != expected[m] for m in expected):
        runs, source = _from_metrics_json(rows), "metrics.json (per-seed means; no per_image.npz)"
        paired = _pair(runs)
    if paired is None:
        return None
    seeds, names, attrs, treated, control = paired
    gt_info = gt_info or {}
    gt_keys = sorted({k for p in (*treated.values(), *control.values()) for k in p.gt})

    def iv(key: str, cols: list[str] | None = None) -> Interval:
        sel = attrs if cols is None else cols
        t = _stack(treated, seeds, names, sel, key)
        c = _stack(control, seeds, names, sel, key)
        return paired_bootstrap(t, c, level=LEVEL, n_resamples=n_resamples)

    acc = iv("acc_correct")
    result: dict[str, Any] = {
        "treated": TREATED,
        "control": CONTROL,
        "level": LEVEL,
        "seeds": seeds,
        "n_seeds": len(seeds),
        "n_images": len(names) if source == "per_image.npz" else None,
        "resampled": acc.resampled,
        "source": source,
        "resampling": (
            "paired two-way bootstrap: seeds and test images resampled independently of each other, the "
            "same draws for both methods; percentile interval of 9,999 replicates"
        ),
        "accuracy": _entry(acc, 100.0, "points", True),
        "ground_truth": {},
        "per_attribute": {a: _entry(iv("acc_correct", [a]), 100.0, "points", True) for a in attrs},
        "groups": {},
    }
    for key in gt_keys:
        info = gt_info.get(key) if isinstance(gt_info.get(key), dict) else {}
        hib = higher_is_better(key, info)
        unit = str(info.get("unit", ""))
        entry = _entry(iv(key), 1.0, unit, hib)
        entry["per_attribute"] = {a: _entry(iv(key, [a]), 1.0, unit, hib) for a in attrs}
        result["ground_truth"][key] = entry
    for group, members in group_attributes(attrs).items():
        result["groups"][group] = {
            "label": GROUPS[group][0],
            "attributes": members,
            "accuracy": _entry(iv("acc_correct", members), 100.0, "points", True),
            **{
                f"gt_{k}": _entry(iv(k, members), 1.0, "", higher_is_better(k, gt_info.get(k)))
                for k in gt_keys
            },
        }
    return result


def _fmt_iv(e: dict, digits: int = 1) -> str:
    if e["estimate"] is None:  # no image defines the metric (e.g. shape IoU over colour edits)
        return "undefined"
    unit, scale = (e["unit"] or ""), ""
    if unit.startswith("["):  # a value range, e.g. "[-1, 1]" for an L1 on images in [-1, 1]: said after
        unit, scale = "", f" (images in {unit})"
    unit = f" {unit}" if unit else ""
    if e["low"] is None or e["high"] is None:
        return f"{e['estimate']:+.{digits}f}{unit} (no interval){scale}"
    return f"{e['estimate']:+.{digits}f}{unit} [{e['low']:.{digits}f}, {e['high']:.{digits}f}]{scale}"


def describe_sample(cmp: dict) -> str:
    """``"3 seeds × 500 test images"`` plus what was resampled when it is not both."""
    seeds = f"{cmp['n_seeds']} seed{'s' if cmp['n_seeds'] != 1 else ''}"
    size = f"{seeds} × {cmp['n_images']} test images" if cmp["n_images"] else seeds
    if cmp["n_seeds"] == 1 and cmp["n_images"]:
        return (
            f"{size}; one seed, so the interval is over test images only (how sure we are for these two "
            "trained models, not for the methods): `--preset standard` trains 3 seeds per method"
        )
    if cmp["resampled"] == "seeds only":
        return f"{size}; interval over seeds only ({cmp['source']})"
    if cmp["resampled"] == "nothing":
        return f"{size}; no interval (one seed and no per-image data): `--preset standard` trains 3 seeds"
    return size


def verdict_sentence(cmp: dict | None) -> str:
    """The headline: ``"yes|no|inconclusive: SeCGAN − Baseline: +1.9 points [0.8, 3.0] ..., 3 seeds"``."""
    if cmp is None:
        return "not measured (baseline or SeCGAN run missing)"
    acc = cmp["accuracy"]
    word = {"better": "yes", "worse": "no"}.get(acc["verdict"], "inconclusive")
    level = f"{cmp['level'] * 100:g} %"
    why = f" (the {level} interval includes 0)" if word == "inconclusive" and acc["low"] is not None else ""
    return f"{word}{why}: SeCGAN − Baseline: {_fmt_iv(acc)} mean editing accuracy, {describe_sample(cmp)}"


def ground_truth_sentences(cmp: dict | None) -> list[str]:
    """One line per ground-truth metric: its difference, interval and which method it favours."""
    if not cmp:
        return []
    out = []
    for key, e in cmp["ground_truth"].items():
        judged = {"better": "SeCGAN better", "worse": "SeCGAN worse"}.get(e["verdict"], e["verdict"])
        direction = {True: "higher is better", False: "lower is better", None: "direction unknown"}
        out.append(f"{key} ({direction[e['higher_is_better']]}): SeCGAN − Baseline {_fmt_iv(e, 3)}: {judged}")
    return out
