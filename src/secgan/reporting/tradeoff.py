"""Accuracy next to what it costs: does a method's editing-accuracy gain come with worse reconstruction or
less preservation of what the edit should leave alone?

Two measurements, both computed from the runs:

- across every evaluated run (λ_sc sweep runs included), the Pearson correlation of mean editing accuracy
  with the held-out reconstruction PSNR G(x, 0) (:func:`scipy.stats.pearsonr`, with ``n``): a negative ``r``
  says the runs that edit more reliably also change the face more when asked for no change;
- per comparison, the seed-level interval of the preservation difference (``gt_preserve_psnr``: PSNR
  against the ground-truth counterfactual outside the edited region; :mod:`secgan.reporting.comparison`).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from secgan.reporting.verdict_text import NAMES, ONE_PAIR, _fmt_iv, title

PRESERVATION_KEYS = ("preserve_psnr", "preserve_l1")  # the first one present is used


def _correlated_runs(rows: list[dict]) -> list[dict]:
    """The runs with both an accuracy and a reconstruction PSNR: the ones the correlation is computed on."""
    return [
        r
        for r in rows
        if r.get("reconstruction")
        and r["reconstruction"].get("psnr") is not None
        and r.get("accuracy") is not None
    ]


def accuracy_psnr_correlation(rows: list[dict]) -> dict | None:
    """``{"r", "p", "n"}`` over the runs with both an accuracy and a reconstruction PSNR (None below 3)."""
    pts = [(float(r["accuracy"]), float(r["reconstruction"]["psnr"])) for r in _correlated_runs(rows)]
    if len(pts) < 3:
        return None
    acc, psnr = np.array(pts).T
    if np.ptp(acc) == 0 or np.ptp(psnr) == 0:
        return None
    res = stats.pearsonr(acc, psnr)
    return {"r": float(res.statistic), "p": float(res.pvalue), "n": len(pts)}


def preservation_entry(cmp: dict) -> tuple[str, dict] | None:
    for key in PRESERVATION_KEYS:
        if key in cmp.get("ground_truth", {}):
            return key, cmp["ground_truth"][key]
    return None


def cost_sentences(rows: list[dict], comparisons: dict[str, dict]) -> list[str]:
    """The correlation sentence and, per comparison, whether its accuracy gain came with less preservation."""
    out = []
    corr = accuracy_psnr_correlation(rows)
    if corr:
        n_sweep = sum(1 for r in _correlated_runs(rows) if r.get("sweep"))
        runs = f"{corr['n']} evaluated runs" + (f" ({n_sweep} of them λ_sc sweep runs)" if n_sweep else "")
        if corr["p"] < 0.05:
            sign = "fall" if corr["r"] < 0 else "rise"
            reading = f"runs that edit more reliably tend to {sign} in reconstruction PSNR"
        else:
            reading = "no relation this many runs can tell from none"
        out.append(
            f"Across the {runs}, mean editing accuracy and held-out reconstruction PSNR correlate at "
            f"r = {corr['r']:+.2f} (Pearson, n = {corr['n']}, p = {corr['p']:.2g}): {reading}."
        )
    for cmp in comparisons.values():
        pres = preservation_entry(cmp)
        if pres is None:
            continue
        key, e = pres
        acc = cmp["accuracy"]
        name = title(cmp)
        treated = NAMES.get(cmp["treated"], cmp["treated"])
        if cmp["n_seeds"] < 2:
            seed = str(cmp["seeds"][0])
            iv = (e.get("image_level") or {}).get(seed) or {}
            iv_acc = (acc.get("image_level") or {}).get(seed) or {}
            out.append(
                f"{name}, one seed (no verdict): the two trained models differ by {_fmt_iv({**acc, **iv_acc})} "
                f"in accuracy and {_fmt_iv({**e, **iv}, 2)} in {key} (intervals {ONE_PAIR})."
            )
            continue
        shown = f"{key} {_fmt_iv(e, 2)} ({cmp['n_seeds']} seeds, paired t)"
        if acc["verdict"] == "better":
            came = {
                "worse": f"came with less preservation: {shown}, {treated} worse",
                "better": f"came with more preservation, not less: {shown}",
            }.get(
                e["verdict"],
                f"came with no measurable loss of preservation at {cmp['n_seeds']} seeds: {shown}, inconclusive",
            )
            out.append(f"{name}: the accuracy gain {came}.")
        else:
            word = {"better": f"{treated} better", "worse": f"{treated} worse"}.get(
                e["verdict"], "inconclusive"
            )
            out.append(
                f"{name}: no seed-level accuracy gain ({acc['verdict']}); preservation: {shown}, {word}."
            )
    return out
