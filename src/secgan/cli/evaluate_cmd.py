"""``secgan evaluate`` (editing accuracy, ssFID/FID/IS or their substitutes) and ``secgan report`` (Table 1,
Figures 3-5)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from secgan.cli.common import add_device_argument, add_precision_argument, print_json
from secgan.cli.dataset_args import add_dataset_argument, add_dataset_options, dataset_options

# Below this many test images, Fréchet distances (ssFID, FID, fid_cls) are dominated by their small-sample
# bias (it shrinks like 1/N; e.g. fid_cls 2522 at 8 images) and compare runs only at the same N.
SMALL_SAMPLE = 100


def register(subparsers: argparse._SubParsersAction) -> None:
    _register_evaluate(subparsers)
    _register_report(subparsers)


def _register_evaluate(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained editor: editing accuracy, ssFID / FID / IS (or in-domain substitutes)",
        description=(
            "Translate every test image once per attribute (or expression), classify the translations with "
            "the external classifier and compare them with the real test images. Writes metrics.json, "
            "per_image.npz and examples.npz to --out (default: RUN_DIR/eval) and prints a JSON summary.\n"
            "Inputs: RUN_DIR from secgan train --out (or its export/); --data the dataset the model was "
            "trained on, in --dataset's layout (secgan data check DIR --dataset NAME validates it); "
            "--classifier C_DIR from secgan classifier train (a classifier the editor never saw: it "
            "judges whether the edits worked); --parser P_DIR from secgan parser train / import.\n"
            "Split: a run whose training drew its split (RaFD's 60 / 7 identities) is evaluated on the "
            "identities its data_split.json holds out; --split-seed, --identity-split or --cameras that ask "
            "for another split are refused.\n"
            "Distances: ssFID needs --swav, FID and IS need --inception (both also looked up in "
            "~/.cache/secgan/weights); without those weights they are left out with a note, and the "
            "in-domain substitutes fid_cls / is_cls (the evaluation classifier's features) are always "
            "reported instead, never under the paper's names.\n"
            f"Sample size: Fréchet distances are biased upward on small samples; below {SMALL_SAMPLE} images "
            "(e.g. --max-images 8) the summary carries a caveat and the distances compare runs only at "
            "the same N.\n"
            "Example: secgan evaluate runs/secgan --data data/ --dataset celeba --classifier classifier/"
        ),
    )
    p.add_argument(
        "model",
        type=Path,
        metavar="RUN_DIR_OR_MODEL_DIR",
        help="a run folder (with export/) or an exported model folder",
    )
    p.add_argument(
        "--data",
        type=Path,
        required=True,
        help="dataset folder in --dataset's layout (celeba: list_attr_celeba.txt + img_align_celeba/; "
        "custom: labels.csv; README 'Datasets'), the one the model was trained on",
    )
    add_dataset_argument(p)
    p.add_argument(
        "--classifier",
        type=Path,
        required=True,
        metavar="C_DIR",
        help="evaluation classifier folder, written by secgan classifier train --out C_DIR on the same data",
    )
    p.add_argument(
        "--parser",
        type=Path,
        default=None,
        metavar="P_DIR",
        help="parser folder (masks for 'concat' models and the figures; default: the model's bundled parser)",
    )
    p.add_argument(
        "--judge-parser",
        type=Path,
        default=None,
        metavar="J_DIR",
        help="an independent parser folder (secgan parser train --arch unet): shape IoU and mIoU of the edits "
        "judged by a parser SeCGAN never trained through (judge_shape_iou, judge_miou), beside the training "
        "parser's",
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
    # the dataset's loader options; a drawn split (rafd) defaults to the run's data_split.json
    add_dataset_options(p)
    p.add_argument(
        "--max-images",
        type=int,
        default=None,
        metavar="N",
        help=f"evaluate the first N images of the split (default: all); below {SMALL_SAMPLE}, distances "
        "are unreliable (a caveat is printed)",
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
        help="real-image statistics cache (default: ~/.cache/secgan/stats, or $SECGAN_CACHE/stats)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="output folder (default: RUN_DIR/eval, beside the model)"
    )
    p.add_argument(
        "--no-ground-truth",
        action="store_true",
        help="skip the ground-truth metrics against the data's counterfactuals (synthetic data)",
    )
    p.set_defaults(func=run_evaluate)  # fmt: skip


def _register_report(subparsers: argparse._SubParsersAction) -> None:
    r = subparsers.add_parser(
        "report",
        help="Table 1 (markdown + CSV) and Figures 3-5 (PNG) from evaluated runs",
        description=(
            "Combine evaluated runs (folders holding eval/metrics.json, evaluation folders, or metrics.json "
            "files) into the paper's Table 1 and Figures 3, 4 and 5.\n"
            "Inputs: each RUN_DIR evaluated first by secgan evaluate RUN_DIR (which writes RUN_DIR/eval); "
            "runs are grouped by method (Baseline, Baseline + Concat, SeCGAN) and seed from their "
            "metrics.json. Writes to --out: table.md and table.csv (Table 1), runs.csv, report.md, "
            "figure3-*.png (accuracy against λ_sc, when runs differ in λ_sc), figure4-*.png (per-attribute "
            "accuracy), figure5-*.png (example edits), and prints the files as JSON. Substitute distances (fid_cls, is_cls) appear under their own names "
            "when ssFID / FID / IS weights were missing at evaluation; a caveat is printed beside numbers "
            f"from fewer than {SMALL_SAMPLE} test images.\n"
            "Example: secgan report runs/baseline runs/secgan --out report/"
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


def run_evaluate(args: argparse.Namespace) -> int:
    from secgan.metrics.evaluate import EvalOptions, evaluate

    opts = EvalOptions(
        model=args.model,
        data=args.data,
        dataset=args.dataset,
        classifier=args.classifier,
        out=args.out,
        parser=args.parser,
        judge_parser=args.judge_parser,
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
        data_options=dataset_options(args),
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
    if m.get("judge"):  # the independent parser and its own mIoU against the ground-truth masks
        summary["judge"] = {k: m["judge"].get(k) for k in ("arch", "dir", "miou_vs_ground_truth")}
    if m.get("ground_truth"):
        summary["ground_truth"] = {k: v["mean"] for k, v in m["ground_truth"].items() if isinstance(v, dict)}
    n = m["protocol"]["num_images"]
    if n < SMALL_SAMPLE:
        summary["caveat"] = small_sample_caveat(n)
        logging.getLogger(__name__).warning("%s", summary["caveat"])
    print_json(summary)
    return 0


def small_sample_caveat(n: int) -> str:
    """The warning beside metrics of ``n`` < :data:`SMALL_SAMPLE` test images."""
    return (
        f"only {n} test images (fewer than {SMALL_SAMPLE}): the Fréchet distances (ssFID, FID, fid_cls) are "
        "biased upward and not comparable with runs evaluated on more images; accuracy intervals are wide"
    )


def _small_runs(runs: list[Path]) -> list[tuple[str, int]]:
    """``(run, test images)`` of the runs evaluated on fewer than :data:`SMALL_SAMPLE` images."""
    import json

    out = []
    for run in runs:
        f = next((p for p in (run, run / "metrics.json", run / "eval" / "metrics.json") if p.is_file()), None)
        try:
            n = json.loads(f.read_text())["protocol"]["num_images"] if f else None
        except (OSError, ValueError, KeyError, TypeError):
            n = None
        if isinstance(n, int) and n < SMALL_SAMPLE:
            out.append((str(run), n))
    return out


def run_report(args: argparse.Namespace) -> int:
    from secgan.reporting.report import build_report

    result = build_report(args.runs, args.out)
    small = _small_runs(args.runs)
    if small:
        result["caveat"] = "; ".join(f"{run}: {small_sample_caveat(n)}" for run, n in small)
        logging.getLogger(__name__).warning("%s", result["caveat"])
    print_json(result)
    return 0
