"""The views of learning curves (benchmarks/learning_curves.py): reading curve files, the plot, the
frontier, the picture strip and the Markdown table, and the evaluation images they share."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import torch

log = logging.getLogger("learning_curves")
CURVE = "curve.jsonl"  # the test split's curve; other splits: curve-{split}.jsonl (curve_name)
SPLITS = ("val", "test")


def curve_name(split: str = "test") -> str:
    """The curve file of a run folder for ``split`` (``curve.jsonl`` for test, as before splits existed)."""
    return CURVE if split == "test" else f"curve-{split}.jsonl"


def load_test_set(
    data: str, attributes: list[str], size: int, n: int, split: str = "test"
) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """The first ``n`` images of ``split`` ``[n, 3, S, S]`` in [-1, 1], their labels ``[n, n_a]`` in {0, 1}
    and their file names."""
    from secgan.data.registry import build_dataset

    ds = build_dataset("celeba", data, split=split, attrs=attributes, image_size=size, max_items=n)
    items = [ds[i] for i in range(len(ds))]
    x = torch.stack([it["image"] for it in items])
    return x, torch.stack([it["label"] for it in items]).float(), list(ds.names[: len(items)])


def read_curve(path: Path, split: str = "test") -> list[dict]:
    """The rows of a curve file (or of a run folder's curve of ``split``), one per step (the last one
    written wins), by step."""
    if path.is_dir():
        path = path / curve_name(split)
    if not path.is_file():
        return []
    rows = {}
    for line in path.read_text().splitlines():
        if line.strip():
            r = json.loads(line)
            rows[r["step"]] = r
    return [rows[s] for s in sorted(rows)]


def load_curves(
    sources: list[str], label_args: list[str], split: str = "test"
) -> list[tuple[str, list[dict]]]:
    """``(name, rows)`` of each non-empty curve (run folder: its ``split`` curve, or a curve file);
    ``RUN=TEXT`` labels rename."""
    labels = dict(item.split("=", 1) for item in label_args)
    curves = []
    for p in sources:
        rows = read_curve(Path(p), split)
        if rows:
            name = rows[0].get("run", Path(p).stem)
            curves.append((labels.get(name, name), rows))
    return curves


# ------------------------------------------------------------------------------------------------ plotting
def plot(args: argparse.Namespace) -> None:
    """Accuracy, PSNR and (where measured) ground-truth shape IoU against iterations and CPU time, one line
    per curve file or run folder."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = load_curves(args.curves, args.label, args.split)
    # rows: accuracy, reconstruction PSNR and, when a curve has it, ground-truth shape IoU
    panels = [
        ("accuracy", "mean editing accuracy (%)", 100.0, 75.0),
        ("rec_psnr", "reconstruction PSNR of G(x, 0) (dB)", 1.0, 25.0),
    ]
    measured = {k for _, rows in curves for r in rows for k, v in r.items() if v is not None}
    # the ground truth: the independent judge's shape IoU where measured, else the training parser's
    iou_key = "gt_judge_shape_iou" if "gt_judge_shape_iou" in measured else "gt_shape_iou"
    iou_by = "the independent judge" if iou_key == "gt_judge_shape_iou" else "the training parser"
    for key, title in (
        ("gt_edit_psnr", "PSNR of the edit against its ground truth (dB)"),
        (iou_key, f"ground-truth shape IoU (changed segments; {iou_by})"),
    ):
        if key in measured:
            panels.append((key, title, 1.0, None))
    fig, axes = plt.subplots(len(panels), 2, figsize=(13, 4.5 * len(panels)), squeeze=False)
    for name, rows in curves:
        style = "--" if rows[0].get("mode") == "secgan" else "-"
        for col, xkey in enumerate(("step", "cpu_s")):
            for row, (key, _, scale, _) in enumerate(panels):
                pts = [r for r in rows if r.get(xkey) is not None and r.get(key) is not None]
                xs = [r[xkey] / (60 if xkey == "cpu_s" else 1) for r in pts]
                axes[row, col].plot(xs, [scale * r[key] for r in pts], style, marker="o", ms=3, label=name)
    for col, xlabel in enumerate(("iterations (critic steps)", "training CPU time (min, 1 thread)")):
        for row, (_, ylabel, _, target) in enumerate(panels):
            if target is not None:
                axes[row, col].axhline(target, color="grey", lw=0.8, ls=":")
            axes[row, col].set_ylabel(ylabel)
            axes[row, col].set_xlabel(xlabel)
            axes[row, col].grid(alpha=0.3)
    axes[0, 0].legend(fontsize=7, ncol=2)
    fig.suptitle(args.title)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    log.info("wrote %s", args.out)


def final_point(source: Path, split: str = "test") -> dict:
    """``{"run", "mode", "accuracy", "rec_psnr", "gt_shape_iou"}`` of a finished run: the last checkpoint of
    a curve (run folder or curve.jsonl), or a ``secgan evaluate`` ``metrics.json`` (all its test images)."""
    from secgan.metrics.eval_files import METRICS_FILE, load_metrics

    if source.name == METRICS_FILE:
        m = load_metrics(source)
        gt = m.get("ground_truth") or {}
        return {
            "run": source.parent.parent.name,
            "mode": m["model"]["mode"],
            "accuracy": m["accuracy"]["mean"],
            "rec_psnr": m["reconstruction"]["psnr"],
            "gt_shape_iou": (gt.get("shape_iou") or {}).get("mean"),
        }
    rows = read_curve(source, split)
    if not rows:
        raise SystemExit(f"{source}: no curve points (run `learning_curves.py eval` first)")
    return rows[-1]


# method -> (marker, colour, legend text) of the frontier plot
MODE_STYLE = {
    "baseline": ("o", "C0", "Baseline"),
    "concat": ("^", "C2", "Baseline + Concat"),
    "secgan": ("s", "C1", "SeCGAN"),
}


def frontier(args: argparse.Namespace) -> None:
    """Final accuracy against final reconstruction PSNR, one point per run, with the issue's targets: which
    recipes reach the corner where both are met."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = dict(item.split("=", 1) for item in args.label)
    over = set(args.over_budget)
    fig, ax = plt.subplots(figsize=(8, 6))
    for src in args.sources:
        pt = final_point(Path(src), args.split)
        name = labels.get(src, labels.get(pt["run"], pt["run"]))
        marker, color, _ = MODE_STYLE.get(pt.get("mode"), MODE_STYLE["baseline"])
        x, y = pt["rec_psnr"], 100 * pt["accuracy"]
        face = "none" if src in over else color
        ax.plot(x, y, marker, ms=8, color=color, mfc=face)
        if name:  # an empty --label leaves the point unlabelled
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(5, 4), fontsize=7)
    for marker, color, text in MODE_STYLE.values():
        ax.plot([], [], marker, color=color, label=text)
    if over:
        ax.plot([], [], "o", color="grey", mfc="none", label=args.over_budget_label)
    ax.axhline(args.accuracy_target, color="grey", lw=0.8, ls=":")
    ax.axvline(args.psnr_target, color="grey", lw=0.8, ls=":")
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    x1, y1 = max(x1, args.psnr_target + 0.5), max(y1, args.accuracy_target + 2)
    ax.fill_between([args.psnr_target, x1], args.accuracy_target, y1, color="green", alpha=0.08, lw=0)
    ax.text(x1, y1, "both targets met ", ha="right", va="top", fontsize=8, color="green")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("held-out reconstruction PSNR of G(x, 0) (dB)")
    ax.set_ylabel("mean editing accuracy (%)")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    ax.set_title(args.title, fontsize=10)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    log.info("wrote %s", args.out)


@torch.no_grad()
def strip(args: argparse.Namespace) -> list[str]:
    """One test face along the curves: a row per (run, step), columns input | G(x, 0) | the chosen edits.
    Returns the rows' labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from secgan.config import from_dict
    from secgan.data.attributes import celeba_edit_targets
    from secgan.data.transforms import tensor_to_image
    from secgan.models.conditioning import make_condition
    from secgan.models.inference import prepare_generator
    from secgan.training.checkpoint import list_checkpoints, load_checkpoint, load_network_state
    from secgan.training.networks import build_networks, config_attributes

    rows = []  # (label, [images uint8 [S, S, 3]])
    for run in args.runs:
        run, _, own = run.partition("@")  # RUN_DIR@1500,3000: this run's own steps
        steps = [int(v) for v in own.split(",")] if own else args.steps
        run_dir = Path(run)
        cfg = from_dict(json.loads((run_dir / "config.json").read_text()))
        attributes = config_attributes(cfg)
        x, y, _ = load_test_set(args.data, attributes, cfg.data.image_size, args.image + 1, args.split)
        x, y = x[args.image : args.image + 1], y[args.image : args.image + 1]  # [1, 3, S, S], [1, n_a]
        ckpts = dict(list_checkpoints(run_dir / "checkpoints"))
        for step in [s for s in steps if s in ckpts]:
            g = build_networks(cfg)["G_rgb"]
            load_network_state(g, load_checkpoint(ckpts[step])["networks"]["G_rgb"], "G_rgb", ckpts[step])
            prepare_generator(g)
            outs = [x, g(x, torch.zeros_like(y))]
            for a in args.edits:
                y_trg = celeba_edit_targets(y, attributes.index(a), attributes)
                outs.append(g(x, make_condition(y, y_trg, "diff")))
            rows.append(
                (f"{run_dir.name}\n{step:,}", [tensor_to_image(o[0].float().clamp(-1, 1)) for o in outs])
            )
    if not rows:
        raise SystemExit("no checkpoint of the given steps in the given runs")
    cols = ["input", "G(x, 0)", *[f"invert {a}" for a in args.edits]]
    fig, axes = plt.subplots(
        len(rows), len(cols), figsize=(1.4 * len(cols) + 0.8, 1.45 * len(rows)), squeeze=False
    )
    for r, (label, images) in enumerate(rows):
        for c, im in enumerate(images):
            ax = axes[r, c]
            ax.imshow(im, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(cols[c], fontsize=7)
        axes[r, 0].set_ylabel(label, fontsize=7)
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=100)
    log.info("wrote %s", args.out)
    return [label for label, _ in rows]


def _cell(r: dict) -> str:
    """``accuracy % / PSNR dB`` of one checkpoint, ``/ shape IoU`` where the ground truth was scored (the
    independent judge's where measured, else the training parser's)."""
    iou = r.get("gt_judge_shape_iou", r.get("gt_shape_iou"))
    return f"{100 * r['accuracy']:.1f} / {r['rec_psnr']:.1f}" + (f" / {iou:.3f}" if iou is not None else "")


def table(args: argparse.Namespace) -> None:
    """A Markdown table: one row per run, ``accuracy % / PSNR dB [/ shape IoU]`` at each checkpoint step."""
    curves = load_curves(args.curves, args.label, args.split)
    steps = sorted({r["step"] for _, rows in curves for r in rows if r["step"] % args.every == 0})
    head = ["Run", "CPU s / it", *[f"{s:,}" for s in steps]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, rows in curves:
        by = {r["step"]: r for r in rows}
        cpu = [r["cpu_s_per_iter"] for r in rows if r.get("cpu_s_per_iter")]
        cells = [_cell(by[s]) if s in by else "" for s in steps]
        lines.append("| " + " | ".join([name, f"{cpu[-1]:.3f}" if cpu else "", *cells]) + " |")
    print("\n".join(lines))


# --------------------------------------------------------------------------------------------------- CLI
