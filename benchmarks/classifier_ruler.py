"""How good a ruler is the evaluation classifier? Its learning curve against the ground truth.

Editing accuracy asks the evaluation classifier whether an edit shows its target labels. On data with
counterfactuals (``secgan synth``) the same question can be asked of the ground-truth edits themselves: a
perfect editor scores the classifier's accuracy on them (the *ceiling*,
:mod:`secgan.metrics.accuracy_ceiling`). A classifier that is accurate on real faces can still be a poor
ruler: it may read an attribute from cues that merely co-occur with it in the training faces (a beard for
``Male``), cues a true edit of that attribute does not draw. This script trains the evaluation classifier
for several epoch budgets, seeds and variants (``aug``: with the training faces' counterfactuals, the
default of ``secgan classifier train``; ``noaug``: faces only) and records, per classifier, its accuracy on
the real faces of ``--split`` and its ceiling there, in and off the training distribution; ``plot`` draws
both against the epochs and ``choose`` picks the epochs. The epochs are chosen on the **validation** split
(the default), so the test split stays for scoring the final models.

Usage::

    python benchmarks/classifier_ruler.py run OUT --data DEMO/data --epochs 5 10 20 --seeds 0 --variants aug noaug
    python benchmarks/classifier_ruler.py choose OUT > docs/results/ruler/ruler-val.json
    python benchmarks/classifier_ruler.py plot OUT --out docs/results/ruler/ruler.png

``OUT/cls-{variant}-e{E}-s{S}/`` are the classifiers, ``OUT/ruler.jsonl`` one line per classifier:
``variant``, ``epochs``, ``seed``, ``split``, ``real_accuracy`` (mean over the 13 attributes),
``ceiling`` (mean), ``ceiling_per_attribute``, ``ceiling_in_distribution``, ``ceiling_off_distribution``,
``ceiling_below_target``, ``ceiling_distribution_counts``, ``train_seconds``. Rows written before variants
existed (no ``variant``) are ``noaug`` on the test split. Resumable: a classifier already in ruler.jsonl is
skipped. One thread per process unless ``OMP_NUM_THREADS`` says otherwise (the project's 2-core machine).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

log = logging.getLogger("classifier_ruler")
RULER = "ruler.jsonl"


VARIANTS = ("aug", "noaug")
CHOICE_TOLERANCE = 0.005  # the fewest epochs whose mean ceiling is within this of the best


def _key(r: dict) -> tuple[str, str, int, int]:
    return (r.get("variant", "noaug"), r.get("split", "test"), r["epochs"], r["seed"])


def _done(out: Path) -> dict[tuple[str, str, int, int], dict]:
    path = out / RULER
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []
    return {_key(r): r for r in rows}


def choose(rows: list[dict], tolerance: float = CHOICE_TOLERANCE) -> dict[str, dict]:
    """Per variant (and split): the fewest epochs whose mean ceiling over seeds is within ``tolerance`` of the
    best epoch count's, with the per-epoch means it was chosen from."""
    out: dict[str, dict] = {}
    for variant, split in sorted({(r.get("variant", "noaug"), r.get("split", "test")) for r in rows}):
        mine = [r for r in rows if (r.get("variant", "noaug"), r.get("split", "test")) == (variant, split)]
        means = {
            e: sum(r["ceiling"] for r in mine if r["epochs"] == e) / sum(1 for r in mine if r["epochs"] == e)
            for e in sorted({r["epochs"] for r in mine})
        }
        best = max(means.values())
        chosen = min(e for e, v in means.items() if v >= best - tolerance)
        out[f"{variant}/{split}"] = {
            "epochs": chosen,
            "mean_ceiling_by_epochs": means,
            "tolerance": tolerance,
        }
    return out


def _train(args: argparse.Namespace, out: Path, cdir: Path, variant: str, epochs: int, seed: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    cmd = [sys.executable, "-m", "secgan", "classifier", "train", "--data", args.data, "--dataset", "celeba",
           "--size", str(args.size), "--out", str(cdir), "--epochs", str(epochs), "--seed", str(seed),
           "--eval-split", args.split, "--cf-per-face", str(args.cf_per_face)]  # fmt: skip
    if variant == "noaug":
        cmd.append("--no-augment")
    log.info("training %s", cdir.name)
    with open(out / f"{cdir.name}.log", "w") as err:
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    if res.returncode != 0:
        raise SystemExit(f"classifier training failed (exit {res.returncode}); see {err.name}")
    (out / f"{cdir.name}.json").write_text(res.stdout)


def run(args: argparse.Namespace) -> None:
    import torch

    from secgan.auxiliary.classifier import load_classifier
    from secgan.metrics.accuracy_ceiling import counterfactual_accuracy

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = _done(out)
    for variant in args.variants:
        for seed in args.seeds:
            for epochs in args.epochs:
                if (variant, args.split, epochs, seed) in done:
                    continue
                cdir = out / f"cls-{variant}-e{epochs}-s{seed}"
                if not (cdir / "config.json").is_file():
                    _train(args, out, cdir, variant, epochs, seed)
                trained = json.loads((out / f"{cdir.name}.json").read_text())
                cnet, cmeta = load_classifier(cdir)
                ceiling = counterfactual_accuracy(
                    args.data, cnet, cmeta, args.size, split=args.split, progress=False
                )
                real = trained if trained.get("eval_split") == args.split else None
                row = {
                    "variant": variant,
                    "epochs": epochs,
                    "seed": seed,
                    "split": args.split,
                    "augmentation": cmeta.get("augmentation"),
                    "real_accuracy": real["mean_accuracy"] if real else None,
                    "real_per_attribute": real["accuracy"] if real else None,
                    "ceiling": ceiling["mean"],
                    "ceiling_per_attribute": ceiling["per_attribute"],
                    **{k: v for k, v in ceiling.items() if k.startswith("ceiling_")},
                    "images": ceiling["images"],
                    "train_seconds": trained.get("train_seconds"),
                }
                with open(out / RULER, "a") as f:
                    f.write(json.dumps(row) + "\n")
                log.info("%s e%d s%d: real %s, ceiling %.4f", variant, epochs, seed, row["real_accuracy"],
                         row["ceiling"])  # fmt: skip
    sys.stdout.write(json.dumps(sorted(_done(out).values(), key=_key), indent=1))


def choose_cmd(args: argparse.Namespace) -> None:
    rows = list(_done(Path(args.out_dir)).values())
    sys.stdout.write(
        json.dumps({"chosen": choose(rows, args.tolerance), "rows": sorted(rows, key=_key)}, indent=1)
    )


def plot(args: argparse.Namespace) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = [r for r in _done(Path(args.out_dir)).values() if r.get("variant", "noaug") == args.variant]
    epochs = sorted({r["epochs"] for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("real_accuracy", "real test faces"), ("ceiling", "ground-truth edits (ceiling)")):
        vals = [[100 * r[key] for r in rows if r["epochs"] == e] for e in epochs]
        axes[0].errorbar(epochs, [np.mean(v) for v in vals], yerr=[np.ptp(v) / 2 for v in vals],
                         marker="o", capsize=3, label=label)  # fmt: skip
        for e, v in zip(epochs, vals, strict=True):
            axes[0].scatter([e] * len(v), v, s=8, color="grey")
    axes[0].set(xlabel="classifier epochs", ylabel="mean accuracy (%)", title="The evaluation classifier")
    axes[0].legend()
    attrs = list(rows[0]["ceiling_per_attribute"])
    colours = plt.get_cmap("tab20").colors
    for i, a in enumerate(attrs):
        vals = [
            np.mean([100 * r["ceiling_per_attribute"][a] for r in rows if r["epochs"] == e]) for e in epochs
        ]
        axes[1].plot(epochs, vals, marker=".", label=a, color=colours[i % len(colours)])
    axes[1].set(xlabel="classifier epochs", ylabel="ceiling (%)", title="Ceiling per attribute")
    axes[1].legend(fontsize=7, ncol=2)
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(epochs, [str(e) for e in epochs])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(alpha=0.3)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    log.info("wrote %s", args.out)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    r.add_argument("out", help="folder for the classifiers and ruler.jsonl")
    r.add_argument("--data", required=True, help="a secgan synth dataset folder (with counterfactuals)")
    r.add_argument("--size", type=int, default=64, help="image side the classifier sees")
    r.add_argument("--epochs", type=int, nargs="+", default=[5, 10, 20])
    r.add_argument("--seeds", type=int, nargs="+", default=[0])
    r.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    r.add_argument("--split", default="val", choices=("val", "test"), help="where the ceiling is measured")
    r.add_argument("--cf-per-face", type=float, default=1.0, help="aug: counterfactuals per face and epoch")
    c = sub.add_parser("choose")
    c.add_argument("out_dir", help="a run folder (with ruler.jsonl)")
    c.add_argument("--tolerance", type=float, default=CHOICE_TOLERANCE)
    p = sub.add_parser("plot")
    p.add_argument("out_dir", help="a run folder (with ruler.jsonl)")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--variant", default="aug", choices=VARIANTS)
    args = ap.parse_args()
    {"run": run, "plot": plot, "choose": choose_cmd}[args.cmd](args)


if __name__ == "__main__":
    main()
