"""How good a ruler is the evaluation classifier? Its learning curve against the ground truth.

Editing accuracy asks the evaluation classifier whether an edit shows its target labels. On data with
counterfactuals (``secgan synth``) the same question can be asked of the ground-truth edits themselves: a
perfect editor scores the classifier's accuracy on them (the *ceiling*,
:mod:`secgan.metrics.accuracy_ceiling`). A classifier that is accurate on real faces can still be a poor
ruler: it may read an attribute from cues that merely co-occur with it in the training faces (a beard for
``Male``), cues a true edit of that attribute does not draw. This script trains the evaluation classifier
for several epoch budgets and seeds and records, per classifier, its accuracy on the real test faces and its
ceiling; ``plot`` draws both against the epochs.

Usage::

    python benchmarks/classifier_ruler.py run OUT --data DEMO/data --epochs 4 10 20 40 --seeds 0 1
    python benchmarks/classifier_ruler.py plot OUT --out docs/results/ruler/ruler.png

``OUT/cls-e{E}-s{S}/`` are the classifiers, ``OUT/ruler.jsonl`` one line per classifier: ``epochs``, ``seed``,
``real_accuracy`` (mean over the 13 attributes, test split), ``ceiling`` (mean) and
``ceiling_per_attribute``, ``train_seconds``. Resumable: a classifier already in ruler.jsonl is skipped.
One thread per process unless ``OMP_NUM_THREADS`` says otherwise (the project's 2-core machine).
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


def _done(out: Path) -> dict[tuple[int, int], dict]:
    path = out / RULER
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []
    return {(r["epochs"], r["seed"]): r for r in rows}


def run(args: argparse.Namespace) -> None:
    import torch

    from secgan.auxiliary.classifier import load_classifier
    from secgan.metrics.accuracy_ceiling import counterfactual_accuracy

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    done = _done(out)
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    for seed in args.seeds:
        for epochs in args.epochs:
            if (epochs, seed) in done:
                continue
            cdir = out / f"cls-e{epochs}-s{seed}"
            if not (cdir / "config.json").is_file():
                cmd = [sys.executable, "-m", "secgan", "classifier", "train", "--data", args.data,
                       "--dataset", "celeba", "--size", str(args.size), "--out", str(cdir),
                       "--epochs", str(epochs), "--seed", str(seed)]  # fmt: skip
                log.info("training %s", cdir.name)
                with open(out / f"{cdir.name}.log", "w") as err:
                    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
                if res.returncode != 0:
                    raise SystemExit(f"classifier training failed (exit {res.returncode}); see {err.name}")
                (out / f"{cdir.name}.json").write_text(res.stdout)
            trained = json.loads((out / f"{cdir.name}.json").read_text())
            cnet, cmeta = load_classifier(cdir)
            ceiling = counterfactual_accuracy(args.data, cnet, cmeta, args.size, progress=False)
            row = {
                "epochs": epochs,
                "seed": seed,
                "real_accuracy": trained["mean_accuracy"],
                "real_per_attribute": trained["accuracy"],
                "ceiling": ceiling["mean"],
                "ceiling_per_attribute": ceiling["per_attribute"],
                "test_images": ceiling["images"],
                "train_seconds": trained.get("train_seconds"),
            }
            with open(out / RULER, "a") as f:
                f.write(json.dumps(row) + "\n")
            log.info("e%d s%d: real %.4f, ceiling %.4f", epochs, seed, row["real_accuracy"], row["ceiling"])
    sys.stdout.write(
        json.dumps(sorted(_done(out).values(), key=lambda r: (r["epochs"], r["seed"])), indent=1)
    )


def plot(args: argparse.Namespace) -> None:
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows = list(_done(Path(args.out_dir)).values())
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
    r.add_argument("--epochs", type=int, nargs="+", default=[4, 10, 20, 40])
    r.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p = sub.add_parser("plot")
    p.add_argument("out_dir", help="a run folder (with ruler.jsonl)")
    p.add_argument("--out", required=True, help="PNG to write")
    args = ap.parse_args()
    {"run": run, "plot": plot}[args.cmd](args)


if __name__ == "__main__":
    main()
