"""Learning curves of one training recipe: editing accuracy and held-out reconstruction PSNR per checkpoint.

The `run` and `eval` subcommands are resumable (rerun the same command after an interruption):

    # train one configuration with ``secgan train`` (checkpoints every --every iterations, all kept), then
    # evaluate every checkpoint; a rerun resumes the training from its newest checkpoint
    python benchmarks/learning_curves.py run /work/exp/recipe/b-nc1 --method baseline \\
        --data DIR/data --parser DIR/parser --classifier DIR/classifier --iterations 3000 --every 500 \\
        --set train.n_critic=1 --set train.g_lr=4e-4

    # evaluate the checkpoints of a run folder not yet in its curve.jsonl (e.g. while it trains)
    python benchmarks/learning_curves.py eval /work/exp/recipe/b-nc1 --data DIR/data --classifier DIR/classifier

    # one test face along the curves (input, G(x, 0), edits), a row per run and checkpoint
    python benchmarks/learning_curves.py strip RUN_DIR... --data DIR/data --steps 1000 3000 6000 --out s.png
    python benchmarks/learning_curves.py strip RUN_A@3000 RUN_B@1500,3000 --data DIR/data --out s.png

    # overlay several runs: accuracy and PSNR against iterations and against CPU time; or as a table
    python benchmarks/learning_curves.py plot RUN_DIR... --out docs/results/recipe/curves.png
    python benchmarks/learning_curves.py table RUN_DIR...

    # where each recipe ends: final accuracy against final PSNR (run folders or secgan evaluate metrics.json)
    python benchmarks/learning_curves.py frontier RUN_DIR... EVAL_DIR/metrics.json --out frontier.png

Each evaluated checkpoint appends one JSON line to ``RUN_DIR/curve-val.jsonl`` (``--split val``, the
default: recipes are chosen on the validation split) or ``RUN_DIR/curve.jsonl`` (``--split test``, the
curves measured before validation counterfactuals existed): ``step``, ``split``, ``wall_s`` (training
seconds up to that step, summed over resumed sessions, from ``stats.jsonl``), ``s_per_iter``, mean editing
accuracy with the run's classifier over the first ``--max-images`` images of the split x each attribute's edit (the
protocol of ``secgan evaluate``: invert, conflict rules, thresholded classifier decision), the per-attribute
accuracies, and the reconstruction ``G(x, 0)`` against ``x`` on the same images: L1 on [-1, 1] and PSNR on
[0, 1] (per-image PSNR from the per-image MSE, then the mean). The training uses one intra-op thread unless
``OMP_NUM_THREADS`` says otherwise: on a small shared machine that measures the recipe, not the load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from curve_views import (  # noqa: E402  (re-exported: the command's views and readers)
    CURVE,
    MODE_STYLE,
    SPLITS,
    curve_name,
    final_point,
    frontier,
    load_curves,
    load_test_set,
    plot,
    read_curve,
    strip,
    table,
)

__all__ = [
    "CURVE", "MODE_STYLE", "SPLITS", "curve_name", "final_point", "frontier", "load_curves",
    "load_test_set", "plot", "read_curve", "strip", "table",
]  # fmt: skip
log = logging.getLogger("learning_curves")
CPU_TIMES = "cpu_times.json"


# ------------------------------------------------------------------------------------------------ training
def train(args: argparse.Namespace) -> None:
    """Run (or resume) ``secgan train`` into ``args.run_dir`` with every checkpoint kept."""
    from secgan.training.checkpoint import list_checkpoints

    run_dir = Path(args.run_dir)
    ckpts = list_checkpoints(run_dir / "checkpoints")
    if ckpts and ckpts[-1][0] >= args.iterations:
        log.info("%s: already trained to %d iterations", run_dir, ckpts[-1][0])
        return
    cmd = [sys.executable, "-m", "secgan", "train", "--out", str(run_dir), "--no-progress"]
    if ckpts:
        cmd.append("--resume")  # the run's own config.json is reused
    else:
        cmd += ["--config", f"{args.preset}-{args.method}", "--data", args.data, "--parser", args.parser]
    sets = [
        f"train.iterations={args.iterations}",
        f"train.decay_start={args.decay_start if args.decay_start is not None else args.iterations // 2}",
        f"log.checkpoint_every={args.every}",
        f"log.sample_every={args.every}",
        "log.keep_checkpoints=1000",
        "log.export_every_checkpoint=false",
        "log.tensorboard=false",
        f"seed={args.seed}",
        *args.set,
    ]
    for s in sets:
        cmd += ["--set", s]
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    log.info("running %s", " ".join(cmd))
    with open(run_dir.parent / f"{run_dir.name}.train.log", "a") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        track_cpu_time(proc, run_dir)
    if proc.returncode != 0:
        raise SystemExit(f"secgan train failed (exit {proc.returncode}); see {run_dir.name}.train.log")


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a running process (Linux ``/proc/PID/stat``), None when unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def track_cpu_time(proc: subprocess.Popen, run_dir: Path, poll_s: float = 2.0) -> None:
    """Until ``proc`` ends, note its CPU seconds whenever a new checkpoint appears, in ``cpu_times.json``
    (``{step: CPU seconds up to step}``, summed over resumed sessions). On a machine shared with other jobs
    the CPU time of a one-thread run is the load-independent cost; the wall time is the share it got."""
    from secgan.training.checkpoint import list_checkpoints

    path = run_dir / CPU_TIMES
    times = {int(k): v for k, v in json.loads(path.read_text()).items()} if path.is_file() else {}
    offset = max(times.values(), default=0.0)
    known = {s for s, _ in list_checkpoints(run_dir / "checkpoints")}
    cpu = 0.0
    while proc.poll() is None:
        time.sleep(poll_s)
        cpu = process_cpu_seconds(proc.pid) or cpu
        new = [s for s, _ in list_checkpoints(run_dir / "checkpoints") if s not in known]
        for s in new:
            times[s] = round(offset + cpu, 1)
            known.add(s)
        if new:
            path.write_text(json.dumps(times))


# ---------------------------------------------------------------------------------------------- evaluation
def wall_times(stats_path: Path) -> dict[int, float]:
    """``{step: training seconds up to step}`` from ``stats.jsonl``; each resumed session restarts its
    clock at 0, so a drop in ``time`` starts a new session whose seconds add to the previous ones."""
    out: dict[int, float] = {}
    offset, last = 0.0, 0.0
    if not stats_path.is_file():
        return out
    for line in stats_path.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        t = float(rec.get("time", 0.0))
        if t < last:
            offset += last
        last = t
        out[int(rec["step"])] = offset + t
    return out


@torch.no_grad()
def evaluate_generator(
    g: torch.nn.Module,
    x: torch.Tensor,
    y_src: torch.Tensor,
    attributes: list[str],
    classifier: torch.nn.Module,
    cls_meta: dict,
    mask_fn=None,
    batch: int = 50,
    names: list[str] | None = None,
    scorer=None,
    parser=None,
    judge=None,
) -> dict:
    """Editing accuracy per attribute and reconstruction of ``G(x, 0)`` for images ``x`` in [-1, 1].

    ``mask_fn(x) -> [B, 12, S, S]`` gives the one-hot source mask a concat generator takes beside ``x``.
    ``scorer`` (a fresh :class:`~secgan.metrics.ground_truth_eval.GroundTruthScorer`, with the images'
    ``names``) adds the ground-truth metrics of ``secgan evaluate``; ``parser`` (a frozen parser) adds
    their shape IoU and mIoU; ``judge`` (an independent evaluation parser, never trained through) adds
    ``gt_judge_shape_iou`` and ``gt_judge_miou``.
    """
    from secgan.auxiliary.classifier import predict_labels
    from secgan.data.attributes import celeba_edit_targets
    from secgan.metrics.reconstruction import reconstruction_errors
    from secgan.models.conditioning import make_condition

    cols = [list(cls_meta["attributes"]).index(a) for a in attributes]
    correct = torch.zeros(len(attributes))
    l1, psnr = [], []
    for i in range(0, x.shape[0], batch):
        xb, yb = x[i : i + batch], y_src[i : i + batch]
        g_in = torch.cat([xb, mask_fn(xb)], 1) if mask_fn is not None else xb
        rec = g(g_in, torch.zeros_like(yb)).float().clamp(-1, 1)  # G(x, 0): [B, 3, S, S] in [-1, 1]
        l1_b, psnr_b = reconstruction_errors(xb, rec)
        l1.append(l1_b)
        psnr.append(psnr_b)
        for a in range(len(attributes)):
            y_trg = celeba_edit_targets(yb, a, attributes)
            out = g(g_in, make_condition(yb, y_trg, "diff")).float().clamp(-1, 1)
            pred = predict_labels(classifier, cls_meta, out)[:, cols]
            correct[a] += float(((pred[:, a] > 0.5) == (y_trg[:, a] > 0.5)).sum())
            if scorer is not None:
                scorer.update(attributes[a], names[i : i + batch], xb, out, parser, judge_parser=judge)
    acc = correct / x.shape[0]
    res = {
        "accuracy": float(acc.mean()),
        "per_attribute": {a: round(float(v), 4) for a, v in zip(attributes, acc, strict=True)},
        "rec_l1": float(torch.cat(l1).mean()),
        "rec_psnr": float(torch.cat(psnr).mean()),
    }
    summary = scorer.summary() if scorer is not None else None
    for metric, d in (summary or {}).items():
        if isinstance(d, dict):  # "gt_shape_iou": mean over the attributes that define it, and per attribute
            res[f"gt_{metric}"] = d["mean"]
            res[f"gt_{metric}_per_attribute"] = d["per_attribute"]
    return res


def evaluate_run(args: argparse.Namespace) -> list[dict]:
    """Evaluate every checkpoint of ``args.run_dir`` missing from its curve.jsonl; returns the whole curve."""
    from secgan.auxiliary.classifier import load_classifier
    from secgan.auxiliary.parser.frozen import FrozenParser
    from secgan.config import from_dict
    from secgan.data.masks import one_hot
    from secgan.metrics.ground_truth_eval import GroundTruthScorer
    from secgan.models.inference import prepare_generator
    from secgan.training.checkpoint import list_checkpoints, load_checkpoint, load_network_state
    from secgan.training.networks import build_networks, config_attributes

    run_dir = Path(args.run_dir)
    curve_path = run_dir / curve_name(args.split)
    done = read_curve(curve_path)
    seen = {r["step"] for r in done}
    todo = [(s, p) for s, p in list_checkpoints(run_dir / "checkpoints") if s not in seen]
    if not todo:
        return done
    cfg = from_dict(json.loads((run_dir / "config.json").read_text()))
    attributes = config_attributes(cfg)
    x, y, names = load_test_set(args.data, attributes, cfg.data.image_size, args.max_images, args.split)
    classifier, cls_meta = load_classifier(args.classifier)
    with_gt = (
        GroundTruthScorer.maybe(args.data, args.split, attributes, cfg.data.image_size, names) is not None
    )
    parser = (
        FrozenParser.load(cfg.parser.dir, "cpu")
        if cfg.parser.dir and (with_gt or cfg.model.mode == "concat")
        else None
    )
    judge = (
        FrozenParser.load(args.judge, "cpu", image_size=cfg.data.image_size)
        if with_gt and getattr(args, "judge", None)
        else None
    )
    mask_fn = None
    if cfg.model.mode == "concat":
        mask_fn = lambda xb: one_hot(parser.labels12(xb)).to(xb.dtype)  # noqa: E731
    times = wall_times(run_dir / "stats.jsonl")
    cpu_path = run_dir / CPU_TIMES
    cpu_times = {int(k): v for k, v in json.loads(cpu_path.read_text()).items()} if cpu_path.is_file() else {}
    for step, path in todo:
        g = build_networks(cfg)["G_rgb"]
        load_network_state(g, load_checkpoint(path)["networks"]["G_rgb"], "G_rgb", path)
        prepare_generator(g)
        t0 = time.perf_counter()
        scorer = (
            GroundTruthScorer(args.data, args.split, attributes, cfg.data.image_size) if with_gt else None
        )
        res = evaluate_generator(
            g,
            x,
            y,
            attributes,
            classifier,
            cls_meta,
            mask_fn,
            names=names,
            scorer=scorer,
            parser=parser,
            judge=judge,
        )
        wall = times.get(step)
        rec = {
            "run": run_dir.name,
            "mode": cfg.model.mode,
            "step": step,
            "split": args.split,
            "g_updates": step // cfg.train.n_critic,
            "wall_s": round(wall, 1) if wall is not None else None,
            "s_per_iter": round(wall / step, 4) if wall else None,
            "cpu_s": cpu_times.get(step),
            "cpu_s_per_iter": round(cpu_times[step] / step, 4) if step in cpu_times else None,
            "eval_images": int(x.shape[0]),
            "eval_s": round(time.perf_counter() - t0, 1),
            **res,
        }
        log.info(
            "%s step %d: accuracy %.3f, PSNR %.2f dB, L1 %.4f, shape IoU %s", run_dir.name, step,
            rec["accuracy"], rec["rec_psnr"], rec["rec_l1"], rec.get("gt_shape_iou"),
        )  # fmt: skip
        with curve_path.open("a") as f:
            f.write(json.dumps(rec) + "\n")
        done.append(rec)
    return sorted(done, key=lambda r: r["step"])


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    def eval_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("run_dir")
        p.add_argument("--data", required=True, help="the dataset folder")
        p.add_argument("--classifier", required=True, help="the evaluation classifier folder")
        p.add_argument("--max-images", type=int, default=200, help="images evaluated per checkpoint")
        p.add_argument(
            "--split",
            default="val",
            choices=SPLITS,
            help="evaluated split: val chooses recipes (curve-val.jsonl); test scores a final one (curve.jsonl)",
        )
        p.add_argument(
            "--judge",
            help="an independent evaluation parser folder (parser train --arch unet): adds the judge's "
            "shape IoU and mIoU to each checkpoint (default: only the training parser's)",
        )

    p = sub.add_parser("run", help="train (or resume) one configuration, then evaluate its checkpoints")
    eval_opts(p)
    p.add_argument("--method", choices=("baseline", "concat", "secgan"), required=True)
    p.add_argument("--preset", default="synthetic-stargan-64", help="training preset, without -METHOD")
    p.add_argument("--parser", required=True)
    p.add_argument("--iterations", type=int, required=True)
    p.add_argument("--every", type=int, default=500, help="checkpoint (and evaluation) interval")
    p.add_argument("--decay-start", type=int, help="default: half the iterations")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="secgan train --set")
    p.add_argument("--no-eval", action="store_true", help="only train")
    p = sub.add_parser("eval", help="evaluate the checkpoints of a run folder not yet in its curve.jsonl")
    eval_opts(p)
    p = sub.add_parser("plot", help="overlay curves (run folders or curve.jsonl files)")
    p.add_argument("curves", nargs="+")
    p.add_argument("--split", default="val", choices=SPLITS, help="which curve of a run folder")
    p.add_argument("--out", required=True)
    p.add_argument("--label", action="append", default=[], metavar="RUN=TEXT", help="legend text of a run")
    p.add_argument(
        "--title", default="Learning curves, synthetic faces 64 px (demo data, parser, classifier)"
    )
    p = sub.add_parser(
        "strip", help="one test face along the curves: input, G(x, 0) and edits per checkpoint"
    )
    p.add_argument("runs", nargs="+", help="run folders; RUN_DIR@STEP,STEP picks that run's own steps")
    p.add_argument("--data", required=True, help="the dataset folder")
    p.add_argument(
        "--steps", type=int, nargs="+", default=[], help="checkpoint steps (rows) of runs without @STEPS"
    )
    p.add_argument("--image", type=int, default=0, help="index of the image in its split")
    p.add_argument("--split", default="val", choices=SPLITS, help="the split the face comes from")
    p.add_argument("--edits", nargs="+", default=["Bangs", "Eyeglasses", "Blond_Hair", "Bald"])
    p.add_argument("--out", required=True)
    p = sub.add_parser(
        "frontier", help="final accuracy against final PSNR, one point per run, with the targets"
    )
    p.add_argument(
        "sources", nargs="+", help="run folders, curve.jsonl files or secgan evaluate metrics.json"
    )
    p.add_argument("--out", required=True)
    p.add_argument("--label", action="append", default=[], metavar="SOURCE=TEXT", help="text of a point")
    p.add_argument("--split", default="val", choices=SPLITS, help="which curve of a run folder")
    p.add_argument("--over-budget", action="append", default=[], metavar="SOURCE", help="drawn hollow")
    p.add_argument("--over-budget-label", default="beyond the budget (hollow)")
    p.add_argument("--accuracy-target", type=float, default=75.0, help="%%")
    p.add_argument("--psnr-target", type=float, default=25.0, help="dB")
    p.add_argument("--title", default="Where each recipe ends: accuracy against reconstruction")
    p = sub.add_parser("table", help="Markdown table of accuracy / PSNR per checkpoint")
    p.add_argument("curves", nargs="+")
    p.add_argument("--split", default="val", choices=SPLITS, help="which curve of a run folder")
    p.add_argument("--every", type=int, default=500, help="columns: the steps that are multiples of this")
    p.add_argument("--label", action="append", default=[], metavar="RUN=TEXT", help="row name of a run")
    args = ap.parse_args(argv)

    if args.cmd == "run":
        Path(args.run_dir).parent.mkdir(parents=True, exist_ok=True)
        train(args)
        if not args.no_eval:
            curve = evaluate_run(args)
            print(json.dumps(curve[-1] if curve else {}))
    elif args.cmd == "eval":
        curve = evaluate_run(args)
        print(json.dumps(curve[-1] if curve else {}))
    elif args.cmd == "table":
        table(args)
    elif args.cmd == "strip":
        strip(args)
    elif args.cmd == "frontier":
        frontier(args)
    else:
        plot(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
