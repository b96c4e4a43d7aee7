"""What compute buys: the synthetic preset with paper-size networks, Baseline and SeCGAN, as JSON.

    python benchmarks/paper_size_synth.py --out /tmp/paper-size                  # on a GPU: ~6 minutes
    python benchmarks/paper_size_synth.py --out /tmp/ps --dry-run                # the code paths on a CPU

Renders synthetic faces (``secgan synth``, no counterfactuals), trains the demo's parser (width 8, run at
256 px) and an evaluation classifier, then trains ``synthetic-stargan-64-{baseline,secgan}`` with the paper's
network sizes (generator width 64 with 6 residual blocks, critic width 64) through
``learning_curves.py run`` (samples and checkpoints every ``--every`` iterations) and evaluates every
checkpoint on the validation faces (``curve-val.jsonl``): editing accuracy with the classifier and reconstruction PSNR of
``G(x, 0)``. The same data, parser, classifier, recipe and seed for both methods; the CPU demo trains
width-16 generators with 3 residual blocks for 3,000 iterations (docs/synthetic-benchmark.md), so a GPU
run shows whether the pictures clean up when the networks are the paper's. Each stage is skipped when its
output exists (rerun to continue). ``--dry-run``: 40 faces, width-8 networks, 2 iterations.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER_SIZE = ("model.g_conv_dim=64", "model.g_n_res=6", "model.d_conv_dim=64")
TINY = ("model.g_conv_dim=8", "model.g_n_res=1", "model.d_conv_dim=8", "train.batch_size=4")
log = logging.getLogger("paper_size_synth")


def _run(cmd: list[str], log_path: Path) -> None:
    log.info("running %s", " ".join(cmd))
    with open(log_path, "a") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed (exit {proc.returncode}); see {log_path}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, type=Path, help="work folder (data, parser, classifier, runs)")
    p.add_argument("--num", type=int, default=1500, help="synthetic faces")
    p.add_argument("--iterations", type=int, default=3000, help="GAN iterations per method")
    p.add_argument("--every", type=int, default=1000, help="checkpoint, sample and evaluation interval")
    p.add_argument("--parser-epochs", type=int, default=3)
    p.add_argument("--classifier-epochs", type=int, default=10)
    p.add_argument("--max-images", type=int, default=200, help="validation faces evaluated per checkpoint")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (the auxiliary networks' device)")
    p.add_argument("--methods", default="baseline,secgan")
    p.add_argument("--dry-run", action="store_true", help="40 faces, width-8 networks, 2 iterations")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.dry_run:
        args.num, args.iterations, args.every, args.max_images = 40, 2, 1, 8
        args.parser_epochs = args.classifier_epochs = 1
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs.txt"
    py, secgan = sys.executable, [sys.executable, "-m", "secgan"]
    data, parser, classifier = out / "data", out / "parser", out / "classifier"
    dev = ["--device", args.device]
    t0 = time.time()
    seconds: dict[str, float] = {}
    if not (data / "list_attr_celeba.txt").is_file():
        _run([*secgan, "synth", str(data), "--num", str(args.num), "--seed", "0", "--no-counterfactuals",
              "--no-progress", "--overwrite"], logs)  # fmt: skip
    seconds["data"] = round(time.time() - t0, 1)
    if not (parser / "config.json").is_file():
        _run([*secgan, "parser", "train", "--data", str(data), "--dataset", "celeba", "--size", "64", "--out",
              str(parser), "--epochs", str(args.parser_epochs), "--batch", "8", "--base-width", "8",
              "--input-size", "256", "--lr", "3e-3", *dev], logs)  # fmt: skip
    seconds["parser"] = round(time.time() - t0 - sum(seconds.values()), 1)
    if not (classifier / "config.json").is_file():
        _run([*secgan, "classifier", "train", "--data", str(data), "--dataset", "celeba", "--size", "64",
              "--out", str(classifier), "--epochs", str(args.classifier_epochs), *dev], logs)  # fmt: skip
    seconds["classifier"] = round(time.time() - t0 - sum(seconds.values()), 1)
    sets = [*PAPER_SIZE, *(TINY if args.dry_run else ())]
    result: dict = {"benchmark": "paper_size_synth", "dry_run": args.dry_run, "num": args.num,
                    "iterations": args.iterations, "overrides": sets, "methods": {}}  # fmt: skip
    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        run = out / "runs" / method
        t1 = time.time()
        cmd = [py, str(ROOT / "benchmarks" / "learning_curves.py"), "run", str(run), "--method", method,
               "--data", str(data), "--parser", str(parser), "--classifier", str(classifier),
               "--iterations", str(args.iterations), "--every", str(args.every),
               "--max-images", str(args.max_images), "--split", "val"]  # fmt: skip
        for s in sets:
            cmd += ["--set", s]
        _run(cmd, logs)
        seconds[method] = round(time.time() - t1, 1)
        curve = [json.loads(x) for x in (run / "curve-val.jsonl").read_text().splitlines() if x.strip()]
        samples = sorted(str(s.relative_to(out)) for s in (run / "samples").glob("*.png"))
        last = curve[-1] if curve else {}
        result["methods"][method] = {
            "curve": [
                {k: c.get(k) for k in ("step", "accuracy", "rec_psnr", "rec_l1", "s_per_iter", "wall_s")}
                for c in curve
            ],
            "final_accuracy": last.get("accuracy"),
            "final_rec_psnr": last.get("rec_psnr"),
            "samples": samples,
        }
    result["seconds"] = seconds
    result["out"] = str(out)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
