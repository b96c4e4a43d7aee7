"""``secgan evaluate`` (editing accuracy, ssFID/FID/IS or their substitutes) and ``secgan report`` (Table 1,
Figures 3-5)."""

from __future__ import annotations

import argparse
from pathlib import Path

from secgan.cli.common import add_device_argument, add_precision_argument, print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained editor: editing accuracy, ssFID / FID / IS (or in-domain substitutes)",
        description=(
            "Translate every test image once per attribute (or expression), classify the translations with "
            "the external classifier and compare them with the real test images. Writes metrics.json and "
            "examples.npz to --out (default RUN_DIR/eval) and prints a JSON summary."
        ),
    )
    p.add_argument(
        "model",
        type=Path,
        metavar="RUN_DIR_OR_MODEL_DIR",
        help="a run folder (with export/) or an exported model folder",
    )
    p.add_argument("--data", type=Path, required=True, help="dataset root")
    p.add_argument(
        "--dataset", required=True, choices=["celeba", "celebahq", "rafd", "custom"], help="dataset loader"
    )
    p.add_argument(
        "--classifier", type=Path, required=True, metavar="C_DIR", help="evaluation classifier folder"
    )
    p.add_argument(
        "--parser",
        type=Path,
        default=None,
        metavar="P_DIR",
        help="parser folder (masks for 'concat' models and the figures; default: the model's bundled parser)",
    )
    p.add_argument(
        "--swav",
        type=Path,
        default=None,
        metavar="FILE",
        help="swav_800ep_pretrain.pth.tar for ssFID (default: looked up in ~/.cache/secgan/weights)",
    )
    p.add_argument(
        "--inception",
        type=Path,
        default=None,
        metavar="FILE",
        help="FID Inception weights for FID and IS: pt_inception-2015-12-05-6726825d.pth, run with "
        "torch-fidelity's protocol (default: looked up in ~/.cache/secgan/weights)",
    )
    p.add_argument(
        "--split", default="test", choices=["train", "val", "test", "all"], help="dataset split to translate"
    )
    p.add_argument(
        "--cameras",
        default=None,
        help="rafd: comma-separated camera angles (default 045,090,135, the paper's)",
    )
    p.add_argument(
        "--identity-split",
        default="random",
        choices=("random", "sorted"),
        help="rafd: how the 67 identities were split 60 / 7 in training (random: seeded by --split-seed)",
    )
    p.add_argument("--split-seed", type=int, default=0, help="rafd: seed of the random identity split")
    p.add_argument(
        "--max-images", type=int, default=None, metavar="N", help="evaluate the first N images of the split"
    )
    p.add_argument(
        "--intensity", type=float, default=1.0, help="test intensity of the edit (1 = trained strength)"
    )
    p.add_argument("--batch", type=int, default=32, help="images per forward pass")
    add_device_argument(p)
    add_precision_argument(p)  # fp32 by default (bf16 shifts outputs by up to ~1e-2); in metrics.json
    p.add_argument("--workers", type=int, default=2, help="data-loading workers")
    p.add_argument("--examples", type=int, default=8, metavar="K", help="test images kept for the figures")
    p.add_argument(
        "--is-splits", type=int, default=10, help="Inception Score: number of splits (mean +- std over them)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the IS subset assignment")
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="real-image statistics cache (None: ~/.cache/secgan/stats or $SECGAN_CACHE/stats)",
    )
    p.add_argument("--out", type=Path, default=None, help="output folder (None: RUN_DIR/eval)")
    p.add_argument(
        "--no-ground-truth",
        action="store_true",
        help="skip the ground-truth metrics against the data's counterfactuals (synthetic data)",
    )
    p.set_defaults(func=run_evaluate)  # fmt: skip

    r = subparsers.add_parser(
        "report",
        help="Table 1 (markdown + CSV) and Figures 3-5 (PNG) from evaluated runs",
        description=(
            "Combine evaluated runs (folders holding eval/metrics.json, evaluation folders, or metrics.json "
            "files) into the paper's Table 1 and Figures 3, 4 and 5."
        ),
    )
    r.add_argument(
        "runs",
        type=Path,
        nargs="+",
        metavar="RUN_DIR",
        help="evaluated runs: run folders with eval/metrics.json, evaluation folders or metrics.json files",
    )
    r.add_argument("--out", type=Path, required=True, help="output folder")
    r.set_defaults(func=run_report)


def _data_options(args: argparse.Namespace) -> dict:
    """Loader options of the dataset (RaFD: cameras and identity split, as in training)."""
    if args.dataset != "rafd":
        return {}
    opts: dict = {"identity_split": args.identity_split, "split_seed": args.split_seed}
    if args.cameras:
        opts["cameras"] = [c.strip() for c in args.cameras.split(",") if c.strip()]
    return opts


def run_evaluate(args: argparse.Namespace) -> int:
    from secgan.metrics.evaluate import EvalOptions, evaluate

    opts = EvalOptions(
        model=args.model,
        data=args.data,
        dataset=args.dataset,
        classifier=args.classifier,
        out=args.out,
        parser=args.parser,
        swav=args.swav,
        inception=args.inception,
        split=args.split,
        max_images=args.max_images,
        intensity=args.intensity,
        batch=args.batch,
        device=args.device,
        cache_dir=args.cache_dir,
        num_examples=args.examples,
        is_splits=args.is_splits,
        seed=args.seed,
        precision=args.precision,
        workers=args.workers,
        data_options=_data_options(args),
        ground_truth=not args.no_ground_truth,
    )
    m = evaluate(opts)
    summary = {
        "out": m["out"],
        "accuracy_mean": m["accuracy"]["mean"],
        "accuracy": m["accuracy"]["per_attribute"],
        **{k: v["mean"] for k, v in m["distances"].items()},
        **{k: v["mean"] for k, v in m["inception_scores"].items()},
        "num_images": m["protocol"]["num_images"],
        "translations_per_second": m["timing"]["translations_per_second"],
        "notes": m["notes"],
    }
    if m["accuracy"].get("ceiling"):  # a perfect editor's score: the classifier on the ground-truth edits
        summary["accuracy_ceiling"] = m["accuracy"]["ceiling"]["mean"]
    if m.get("ground_truth"):
        summary["ground_truth"] = {k: v["mean"] for k, v in m["ground_truth"].items() if isinstance(v, dict)}
    print_json(summary)
    return 0


def run_report(args: argparse.Namespace) -> int:
    from secgan.reporting.report import build_report

    result = build_report(args.runs, args.out)
    print_json(result)
    return 0
