"""The budget question: does the SeCGAN − Baseline effect depend on the training budget?

Reads the ``results.json`` of two ``secgan reproduce`` runs of the same recipe at two budgets (``standard``
and ``budget-2x`` or ``budget-6k``: the same data, parser, judge, classifier and seeds, 2x or 12x the
iterations) and answers from seed-level intervals only (``secgan.reporting.seed_inference``: a paired
t-interval over the seeds both budgets have):

- each comparison at each budget, on the shared seeds (accuracy, reconstruction PSNR, every ground-truth
  metric);
- the per-seed change of the difference, long − short budget: the interval says whether the effect moved;
- what the longer budget bought each method on its own (long − short, per seed).

Writes ``budget-question.json``, ``budget-question.md`` and ``budget-question.png`` (per-seed differences
at both budgets, each seed's two points joined, the mean and its 95 % interval beside them) into ``--out``
and prints the JSON on stdout::

    python benchmarks/budget_question.py runs/standard/results.json runs/budget-2x/results.json \\
        --out docs/results/budget-2x
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from secgan.reporting.seed_inference import seed_test

log = logging.getLogger("budget_question")
KEY = "secgan_vs_baseline"  # the comparison both budgets train (budget-2x has no Concat runs)
GT_SHOWN = ("edit_psnr", "preserve_psnr", "judge_shape_iou", "judge_miou")  # the markdown table's rows


def _load(path: Path) -> dict:
    if not path.is_file():
        raise SystemExit(
            f"{path}: no such results.json (run `secgan reproduce --preset ... --out DIR` first)"
        )
    res = json.loads(path.read_text())
    if KEY not in res.get("comparisons", {}):
        raise SystemExit(f"{path}: no {KEY!r} comparison (comparisons: {sorted(res.get('comparisons', {}))})")
    return res


def _values(cmp: dict) -> dict[str, dict[str, float]]:
    """``{value name: {seed: per-seed difference}}`` of one comparison (accuracy in points)."""
    out = {
        "accuracy": cmp["accuracy"]["per_seed"],
        "reconstruction_psnr": cmp["reconstruction_psnr"]["per_seed"],
    }
    out.update({f"gt_{m}": v["per_seed"] for m, v in cmp.get("ground_truth", {}).items()})
    return out


def _test(per_seed: dict, seeds: list[str]) -> dict:
    d = seed_test({int(s): per_seed[s] for s in seeds if per_seed.get(s) is not None}).to_dict()
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in d.items()}


def budget_question(short: Path, long: Path) -> dict:
    """The seed-level answer (module docstring) as a JSON-ready dict."""
    a, b = _load(short), _load(long)
    ca, cb = a["comparisons"][KEY], b["comparisons"][KEY]
    seeds = sorted(set(ca["accuracy"]["per_seed"]) & set(cb["accuracy"]["per_seed"]), key=int)
    if len(seeds) < 2:
        raise SystemExit(
            f"{short} and {long} share {len(seeds)} seed(s); the budget question needs 2 or more"
        )
    va, vb = _values(ca), _values(cb)
    effect = {}
    for name in (n for n in va if n in vb):
        change = {
            s: vb[name][s] - va[name][s] for s in seeds if None not in (va[name].get(s), vb[name].get(s))
        }
        effect[name] = {
            "short": _test(va[name], seeds),
            "long": _test(vb[name], seeds),
            "long_minus_short": _test(change, seeds),
        }
    per_method = {}
    for m in ("baseline", "secgan"):
        sa, sb = (r["methods"][m]["per_seed_values"] for r in (a, b))
        per_method[m] = {}
        for name in ("accuracy", "reconstruction_psnr", "gt_edit_psnr", "gt_preserve_psnr"):
            scale = 100.0 if name == "accuracy" else 1.0
            gain = {s: scale * (sb[name][s] - sa[name][s]) for s in seeds}
            per_method[m][name] = {
                "short_per_seed": {s: round(scale * sa[name][s], 4) for s in seeds},
                "long_per_seed": {s: round(scale * sb[name][s], 4) for s in seeds},
                "long_minus_short": _test(gain, seeds),
            }
    return {
        "question": "does SeCGAN − Baseline depend on the training budget? (paired t over shared seeds)",
        "comparison": KEY,
        "short": {"source": str(short), "iterations": a["budget"]["iterations"], "n_images": ca["n_images"]},
        "long": {"source": str(long), "iterations": b["budget"]["iterations"], "n_images": cb["n_images"]},
        "seeds": [int(s) for s in seeds],
        "effect": effect,
        "per_method": per_method,
    }


def _cell(t: dict, digits: int = 2) -> str:
    return f"{t['estimate']:+.{digits}f} [{t['low']:+.{digits}f}, {t['high']:+.{digits}f}] ({t['direction']})"


def markdown(res: dict) -> str:
    """The answer as a short markdown page."""
    n, its = len(res["seeds"]), (res["short"]["iterations"], res["long"]["iterations"])
    seeds = ", ".join(map(str, res["seeds"]))
    lines = [
        f"# The budget question: SeCGAN − Baseline at {its[0]:,} and {its[1]:,} iterations",
        "",
        f"{n} seeds ({seeds}) × {res['short']['n_images']} test images at each budget; every interval is a 95 % "
        "paired t-interval over the seeds (the seed is the unit of replication): *higher* / *lower* when "
        "it excludes 0, otherwise *inconclusive* (for L1, lower is better). The change column is the "
        "per-seed difference at the long budget minus the one at the short budget. The accuracy row is the "
        "question asked before the runs; the other rows are several more tests on the same runs, uncorrected: "
        "read them as exploratory.",
        "",
        f"| Value | SeCGAN − Baseline, {its[0]:,} its | SeCGAN − Baseline, {its[1]:,} its | change (long − short) |",
        "|---|---|---|---|",
    ]
    for name in ("accuracy", "reconstruction_psnr", *(f"gt_{m}" for m in GT_SHOWN)):
        if name in res["effect"]:
            e, digits = res["effect"][name], 2 if name in ("accuracy", "reconstruction_psnr") else 3
            cells = (_cell(e[k], digits) for k in ("short", "long", "long_minus_short"))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"What {its[1]:,} iterations instead of {its[0]:,} bought each method (long − short, per seed, "
              "paired t):", ""]  # fmt: skip
    lines += ["| Method | accuracy (points) | rec. PSNR (dB) | GT edit PSNR (dB) | GT preserve PSNR (dB) |"]
    lines += ["|---|---|---|---|---|"]
    for m, v in res["per_method"].items():
        cells = (_cell(v[k]["long_minus_short"]) for k in ("accuracy", "reconstruction_psnr", "gt_edit_psnr",
                                                            "gt_preserve_psnr"))  # fmt: skip
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines += ["", "![per-seed differences at both budgets](budget-question.png)", ""]
    return "\n".join(lines)


def plot(res: dict, path: Path) -> None:
    """Left: SeCGAN − Baseline accuracy per seed at both budgets (each seed's two points joined, grey), the
    mean ± 95 % t-interval offset beside them (black). Right: each method's accuracy per seed likewise."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    its = [res["short"]["iterations"], res["long"]["iterations"]]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    e = res["effect"]["accuracy"]
    for s in map(str, res["seeds"]):
        left.plot([0, 1], [e["short"]["per_seed"][s], e["long"]["per_seed"][s]], "o-", color="0.7", lw=1)
    for x, k in ((0, "short"), (1, "long")):
        t = e[k]
        left.errorbar(x + 0.12, t["estimate"], yerr=[[t["estimate"] - t["low"]], [t["high"] - t["estimate"]]],
                      fmt="s", color="k", capsize=4)  # fmt: skip
    left.axhline(0, color="r", lw=0.8, ls="--")
    left.set(xticks=[0, 1], xticklabels=[f"{i:,} its" for i in its], ylabel="SeCGAN − Baseline accuracy (points)",
             title="per seed (grey) and mean ± 95 % t (black)")  # fmt: skip
    for off, (m, colour) in zip((-0.06, 0.06), (("baseline", "tab:blue"), ("secgan", "tab:orange"))):
        v = res["per_method"][m]["accuracy"]
        for i, s in enumerate(map(str, res["seeds"])):
            right.plot([off, 1 + off], [v["short_per_seed"][s], v["long_per_seed"][s]], "o-", color=colour,
                       lw=1, alpha=0.6, label=m if i == 0 else None)  # fmt: skip
    right.set(xticks=[0, 1], xticklabels=[f"{i:,} its" for i in its], ylabel="mean editing accuracy (%)",
              title="each method, per seed")  # fmt: skip
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    ap.add_argument("short", type=Path, help="results.json of the shorter budget (e.g. standard)")
    ap.add_argument("long", type=Path, help="results.json of the longer budget (e.g. budget-2x)")
    ap.add_argument("--out", type=Path, default=None, help="folder for budget-question.{json,md,png}")
    args = ap.parse_args()
    res = budget_question(args.short, args.long)
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "budget-question.json").write_text(json.dumps(res, indent=1) + "\n")
        (args.out / "budget-question.md").write_text(markdown(res))
        plot(res, args.out / "budget-question.png")
        log.info("wrote %s/budget-question.{json,md,png}", args.out)
    print(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
