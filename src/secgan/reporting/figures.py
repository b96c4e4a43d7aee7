"""Figures 3, 4 and 5 of the paper as PNG files (matplotlib, Agg backend).

- Figure 3: editing accuracy against ``λ_sc`` (log axis; ``λ_sc = 0`` drawn one decade left of the smallest
  positive value, behind an axis break): per λ_sc the mean over the seeds every λ_sc has, with a seed-level
  95 % t-interval, points not joined (a λ_sc with more seeds adds its all-seeds mean, hollow); the baseline's
  mean on the same seeds as a dashed line with its interval shaded.
- Figure 4: per-attribute (per-expression) editing accuracy, bars per method; one more per ground-truth
  metric when the evaluations have them.
- Figure 5: rows of original | Baseline | SeCGAN | ground truth | ``|difference|`` heat maps of both |
  input mask | translated mask (by G_seg of SeCGAN) | ground-truth mask, one edit per row, from the runs'
  ``examples.npz``; the ground-truth columns only when it holds ``counterfactuals`` /
  ``counterfactual_masks`` (synthetic data with counterfactual renderings).
"""

from __future__ import annotations

import logging
import math
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from secgan.data.masks import colorize
from secgan.errors import DataError
from secgan.metrics.eval_files import EXAMPLES_FILE
from secgan.reporting.seed_inference import shared_seeds, t_intervals
from secgan.reporting.table import METHOD_NAMES, METHOD_ORDER, Row, Run

log = logging.getLogger(__name__)

COLOURS = {"baseline": "#8c8c8c", "concat": "#e69f00", "secgan": "#0072b2"}
MAIN_LAMBDA = 0.01  # the paper's best λ_sc, preferred when a setting holds several


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def setting_name(setting: tuple[str, int, str]) -> str:
    dataset, res, backbone = setting
    return f"{dataset}-{res}-{backbone}"


def main_rows(rows: Sequence[Row]) -> dict[str, Row]:
    """Per method, the row used for Figures 4 and 5: the one with the most runs, then λ_sc nearest 0.01."""

    def score(row: Row) -> tuple:
        lam = row.first.lambda_sc
        dist = abs(math.log10(lam) - math.log10(MAIN_LAMBDA)) if lam and lam > 0 else 99.0
        return (-len(row.runs), dist)

    out: dict[str, Row] = {}
    for method in METHOD_ORDER:
        cands = [r for r in rows if r.first.method == method]
        if cands:
            out[method] = sorted(cands, key=score)[0]
    return out


def _method_label(row: Row) -> str:
    label = METHOD_NAMES.get(row.first.method, row.first.method)
    if row.first.lambda_sc is not None:
        label += f" (λ_sc={row.first.lambda_sc:g})"
    return label


# ---------------------------------------------------------------------------------------------- Figure 4
def figure4(
    rows: Sequence[Row], path: Path, title: str, metric: str = "accuracy", ylabel: str | None = None
) -> Path | None:
    """Grouped bars of a per-attribute metric for each method of one setting: editing accuracy (%) or a
    ground-truth metric (``"gt_<name>"``, its own units); error bars = std over seeds when a method has
    several runs."""
    chosen = main_rows(rows)
    if not chosen:
        return None
    attrs = list(next(iter(chosen.values())).first.attribute_values(metric))
    if not attrs:
        return None
    accuracy = metric == "accuracy"
    plt = _pyplot()
    n_m = len(chosen)
    width = 0.8 / n_m
    x = np.arange(len(attrs))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.75 * len(attrs) * max(1, n_m / 2) + 2), 4.2))
    for j, (method, row) in enumerate(chosen.items()):
        per = row.per_attribute(metric)
        means = np.array([per.get(a, (np.nan, 0))[0] for a in attrs])
        stds = np.array([per.get(a, (np.nan, 0))[1] for a in attrs])
        pos = x - 0.4 + width * (j + 0.5)
        mean_v = row.mean_std(metric)
        label = _method_label(row)
        if mean_v:
            label += f" - mean {mean_v[0]:.1f}%" if accuracy else f" - mean {mean_v[0]:.3g}"
        ax.bar(pos, means, width, yerr=stds if len(row.runs) > 1 else None, capsize=2,
               color=COLOURS.get(method, None), label=label, edgecolor="black", linewidth=0.3)  # fmt: skip
        tops = means + (stds if len(row.runs) > 1 else 0)
        for px, m, top in zip(pos, means, tops):
            if np.isfinite(m) and accuracy:
                ax.text(px, top + 1.5, f"{m:.0f}", ha="center", va="bottom", fontsize=6, rotation=90)
    ceiling = accuracy_ceiling(chosen.values())
    if accuracy and ceiling:
        # what a perfect editor scores: the classifier on the ground-truth edits (metrics.json accuracy.ceiling)
        per = ceiling["per_attribute"]
        ys = [np.nan if per.get(a) is None else 100 * per[a] for a in attrs]
        ax.hlines(ys, x - 0.45, x + 0.45, colors="black", linestyles="dashed", linewidth=1.0,
                  label=f"ceiling (classifier on the ground-truth edits) - mean {100 * ceiling['mean']:.1f}%")  # fmt: skip
    below = set(ceiling_below_target(ceiling)) if accuracy else set()  # flagged: an unreliable ruler there
    ax.set_xticks(x)
    ax.set_xticklabels([a.replace("_", " ") + (" †" if a in below else "") for a in attrs], rotation=40,
                       ha="right", fontsize=8)  # fmt: skip
    if below:
        ax.set_xlabel("† the classifier's ceiling on the ground-truth edits is below 95 %", fontsize=7)
    ax.set_ylabel(ylabel or ("editing accuracy (%)" if accuracy else metric))
    if accuracy:
        ax.set_ylim(0, 112)
    ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=10, y=0.99)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(
        handles,
        labels,
        fontsize=7,
        loc="upper center",
        ncol=min(len(labels), 3),
        bbox_to_anchor=(0.5, 0.955),
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.9))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def ceiling_below_target(ceiling: dict | None, target: float = 0.95) -> list[str]:
    """Attributes whose ceiling is below ``target``: the evaluation's ``below_target`` list when the ceiling
    carries one, else computed from ``per_attribute``."""
    if not ceiling:
        return []
    if isinstance(ceiling.get("below_target"), list):
        return [str(a) for a in ceiling["below_target"]]
    return [a for a, v in (ceiling.get("per_attribute") or {}).items() if v is not None and v < target]


def accuracy_ceiling(rows) -> dict | None:
    """The accuracy ceiling of the first run that has one (metrics.json ``accuracy.ceiling``; the same for
    every run evaluated with one classifier on one dataset), else ``None``."""
    for row in rows:
        for run in row.runs:
            acc = run.metrics.get("accuracy", {})
            c = acc.get("ceiling")
            if c and c.get("mean") is not None:
                below = acc.get("ceiling_below_target")
                return {**c, "below_target": below} if isinstance(below, list) else c
    return None


# ---------------------------------------------------------------------------------------------- Figure 3
def _seed_interval(row: Row, seeds: frozenset | None = None) -> tuple[float, float, float, int]:
    """Mean accuracy of a row's runs (those of ``seeds`` only, when given) and its seed-level 95 %
    t-interval ``(mean, low, high, n)``; one run: the interval is NaN (no error bar)."""
    runs = [r for r in row.runs if seeds is None or r.seed in seeds]
    vals = [r.values["accuracy"] for r in runs if "accuracy" in r.values]
    mean, low, high, _ = (float(x) for x in t_intervals(np.asarray(vals, dtype=float)))
    return mean, low, high, len(vals)


def sweep_seeds(rows: Sequence[Row]) -> frozenset | None:
    """The seeds every λ_sc row has, when they are at least two and some row has more (else ``None``:
    each point is drawn over its own seeds)."""
    return shared_seeds([{run.seed for run in r.runs if run.seed is not None} for r in rows])


def figure3(rows: Sequence[Row], path: Path, title: str) -> Path | None:
    """Accuracy against λ_sc for SeCGAN rows of one setting (needs at least two λ_sc values).

    Each λ_sc is one point: the mean over its seeds with a seed-level 95 % t-interval as its error bar
    (:func:`secgan.reporting.seed_inference.t_intervals`). Points are not joined by a line, so a one-seed
    point (drawn hollow, without a bar) is never joined to a multi-seed mean; ``n`` is written by each."""
    sec = [r for r in rows if r.first.method == "secgan" and r.first.lambda_sc is not None]
    main = main_rows(rows)
    if "secgan" in main:  # same evaluation protocol as the main SeCGAN row
        sec = [r for r in sec if r.first.protocol_key == main["secgan"].first.protocol_key]
    lams = sorted({r.first.lambda_sc for r in sec})
    if len(lams) < 2:
        return None
    positive = [lam for lam in lams if lam > 0]
    if not positive:
        return None
    zero_x = min(positive) / 10.0
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    pts = sorted(sec, key=lambda r: r.first.lambda_sc)
    # Every point on the same seeds (those all λ_sc share), so that no point differs from another only by
    # which seeds it averages; a λ_sc with more seeds (the main runs) also shows its all-seeds mean, hollow.
    common = sweep_seeds(pts)
    on = f"seeds {', '.join(map(str, sorted(common)))}" if common else "seeds"
    labelled = {"multi": False, "single": False}
    for r in pts:
        xv = r.first.lambda_sc if r.first.lambda_sc > 0 else zero_x
        mean, low, high, n = _seed_interval(r, common)
        if common and len({run.seed for run in r.runs}) > len(common):
            m_all, _, _, n_all = _seed_interval(r)
            ax.plot([xv * 1.35], [m_all], marker="D", color=COLOURS["secgan"], markerfacecolor="white",
                    linestyle="none", label=f"λ_sc {r.first.lambda_sc:g}: mean of all {n_all} seeds")  # fmt: skip
        multi = n > 1 and math.isfinite(low)
        key = "multi" if multi else "single"
        label = None
        if not labelled[key]:
            label = f"SeCGAN: mean ± 95 % interval over {on}" if multi else "SeCGAN: one seed (no interval)"
            labelled[key] = True
        yerr = [[mean - low], [high - mean]] if multi else None
        ax.errorbar([xv], [mean], yerr=yerr, marker="o", color=COLOURS["secgan"], capsize=3, linestyle="none",
                    markerfacecolor=COLOURS["secgan"] if multi else "white", label=label)  # fmt: skip
        ax.annotate(
            f"{mean:.1f}", (xv, mean), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=7
        )
        ax.annotate(f"n={n}", (xv, mean), textcoords="offset points", xytext=(9, -3), ha="left", fontsize=6,
                    color="gray")  # fmt: skip
    if "baseline" in main:
        same = common if common and common <= {run.seed for run in main["baseline"].runs} else None
        mean, low, high, n = _seed_interval(main["baseline"], same)
        if math.isfinite(mean):
            label = f"Baseline, {on} ({mean:.1f}; shaded: 95 %)" if same else f"Baseline ({mean:.1f}, n={n})"
            ax.axhline(mean, ls="--", color=COLOURS["baseline"], label=label)
            if math.isfinite(low):
                ax.axhspan(low, high, color=COLOURS["baseline"], alpha=0.15)
    ax.set_xscale("log")
    ticks = ([zero_x] if 0.0 in lams else []) + positive
    ax.set_xticks(ticks)
    ax.set_xticklabels(["0" if t == zero_x and 0.0 in lams else f"{t:g}" for t in ticks])
    ax.minorticks_off()
    if 0.0 in lams:  # an axis break between 0 and the positive values
        brk = math.sqrt(zero_x * min(positive))
        ax.axvline(brk, color="black", lw=0.6, ls=":")
        ax.text(brk, 0.02, "//", transform=ax.get_xaxis_transform(), ha="center", fontsize=9)
    ax.set_xlim(zero_x / 2.5, max(positive) * 2.5)
    ax.set_xlabel("λ_sc (log scale)")
    ax.set_ylabel("mean editing accuracy (%)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


# ---------------------------------------------------------------------------------------------- Figure 5
def load_examples(run: Run) -> dict[str, np.ndarray] | None:
    """The run's ``examples.npz`` as a dict of arrays, or ``None`` when absent."""
    path = run.eval_dir / EXAMPLES_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(
            f"cannot read {path} (torn or damaged; run `secgan evaluate` again): {err or type(err).__name__}"
        ) from err


def describe_edit(group: str, y_src: np.ndarray, attributes: list[str], expressions: bool) -> str:
    """Caption of one edit: ``"+Bangs"`` / ``"-Male"`` (attribute added / removed) or ``"neutral→happy"``."""
    if expressions:
        return f"{attributes[int(np.argmax(y_src))]}→{group}"
    i = attributes.index(group)
    return f"{'-' if y_src[i] > 0.5 else '+'}{group.replace('_', ' ')}"


def _diff_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute difference over RGB of two uint8 images ``[H, W, 3]``, in [0, 1]."""
    return np.abs(a.astype(np.float32) - b.astype(np.float32)).mean(-1) / 255.0


def figure5(rows: Sequence[Row], path: Path, title: str, max_rows: int | None = None) -> Path | None:
    """The qualitative comparison: one edit per row (edit ``g`` applied to example image ``g mod K``).

    ``title`` may hold ``{methods}``, replaced by the methods shown (e.g. "Baseline vs SeCGAN")."""
    main = main_rows(rows)
    methods = [m for m in ("baseline", "secgan") if m in main]
    if not methods:
        return None
    exs: dict[str, dict[str, np.ndarray]] = {}
    for m in methods:
        for run in sorted(main[m].runs, key=lambda r: (r.seed is None, r.seed)):
            e = load_examples(run)
            if e is not None:
                exs[m] = e
                break
    methods = [m for m in methods if m in exs]
    if not methods:
        log.warning("Figure 5 %s: no examples.npz in the evaluation folders", title)
        return None
    ref = exs[methods[0]]
    for m in methods[1:]:
        if list(exs[m]["names"]) != list(ref["names"]) or exs[m]["images"].shape != ref["images"].shape:
            log.warning("Figure 5 %s: the runs' example images differ; showing %s only", title, methods[0])
            methods = methods[:1]
            break
    title = title.replace("{methods}", " vs ".join(METHOD_NAMES[m] for m in methods))
    mask_src = exs.get("secgan", ref)
    has_in = "mask_in" in mask_src
    out_key = (
        "mask_out"
        if "mask_out" in mask_src
        else ("mask_parsed_out" if "mask_parsed_out" in mask_src else None)
    )
    # optional ground truth: the counterfactual face of each edit, [n_groups, K, H, W, 3] uint8 (same layout
    # as "translations"), and its part map [n_groups, K, H, W] (12 segments), when the data have them
    gt_img = ref.get("counterfactuals")
    gt_mask = ref.get("counterfactual_masks")
    groups = [str(g) for g in ref["groups"]]
    attributes = [str(a) for a in ref["attributes"]]
    expressions = bool(ref.get("expressions", np.array(False)))
    k = ref["images"].shape[0]
    n_rows = len(groups) if max_rows is None else min(max_rows, len(groups))

    cols = ["original"] + [METHOD_NAMES[m] for m in methods]
    if gt_img is not None:
        cols.append("ground truth")
    cols += [f"|diff| {METHOD_NAMES[m]}" for m in methods]
    if has_in:
        cols.append("input mask")
    if out_key:
        cols.append("translated mask" + (" (G_seg)" if out_key == "mask_out" else " (parsed)"))
    if gt_mask is not None:
        cols.append("ground-truth mask")
    plt = _pyplot()
    cell = 1.35
    fig, axes = plt.subplots(
        n_rows, len(cols), figsize=(cell * len(cols) + 1.2, cell * n_rows + 0.6), squeeze=False
    )
    for r in range(n_rows):
        gi, ki = r, r % k
        x = ref["images"][ki]
        panels: list[tuple[np.ndarray, dict]] = [(x, {})]
        trans = {m: exs[m]["translations"][gi, ki] for m in methods}
        panels += [(trans[m], {}) for m in methods]
        if gt_img is not None:
            panels.append((gt_img[gi, ki], {}))
        diffs = {m: _diff_map(trans[m], x) for m in methods}
        vmax = max(max(float(d.max()) for d in diffs.values()), 1e-3)
        panels += [(diffs[m], {"cmap": "inferno", "vmin": 0.0, "vmax": vmax}) for m in methods]
        if has_in:
            panels.append((colorize(mask_src["mask_in"][ki]), {}))
        if out_key:
            panels.append((colorize(mask_src[out_key][gi, ki]), {}))
        if gt_mask is not None:
            panels.append((colorize(gt_mask[gi, ki]), {}))
        for c, (img, kw) in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(img, interpolation="nearest", **kw)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=7)
        caption = describe_edit(groups[gi], ref["y_src"][ki], attributes, expressions)
        axes[r, 0].set_ylabel(caption, fontsize=7, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / (cell * n_rows + 0.6)))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
