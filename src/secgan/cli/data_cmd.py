"""``secgan synth``, ``secgan synth-sheet`` and ``secgan data check``."""

from __future__ import annotations

import argparse
from pathlib import Path

from secgan.cli.common import OVERWRITE_HELP, print_json, refuse_to_replace
from secgan.cli.dataset_args import add_dataset_argument, add_dataset_options, dataset_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="render a synthetic face dataset in CelebA's format (with part masks)",
        description="Render N synthetic faces into OUT in exactly CelebA's on-disk format (img_align_celeba/, "
        "list_attr_celeba.txt, list_eval_partition.txt) plus CelebAMask-HQ-style part masks.",
    )
    p.add_argument("out", help="output folder")
    p.add_argument("--num", type=int, default=1000, help="number of images")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--size", default="178x218", help="WIDTHxHEIGHT (178x218 is CelebA's)")
    p.add_argument("--workers", type=int, default=None, help="processes (None: the CPU count)")
    p.add_argument("--sheet", default=None, help="also draw a contact sheet PNG of the first images")
    p.add_argument(
        "--no-counterfactuals",
        action="store_true",
        help="skip the ground-truth counterfactuals (each face with each paper attribute edited, stored in "
        "OUT/counterfactuals/)",
    )
    p.add_argument(
        "--counterfactual-splits",
        default="train,val,test",
        help="comma-separated splits whose faces get counterfactuals: val and test score edits, train "
        "augments the evaluation classifier (docs/counterfactuals.md)",
    )
    p.add_argument(
        "--overwrite", action="store_true", help="write into a non-empty OUT (its images are replaced)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_synth)

    p = sub.add_parser(
        "synth-sheet",
        help="draw a contact sheet (images, masks, labels) of a CelebA-format folder",
        description="Draw a contact sheet PNG of a CelebA-format dataset folder: each image beside its part "
        "masks and its attribute labels (for checking synthetic or real data by eye).",
    )
    p.add_argument("dir", help="dataset folder (CelebA format)")
    p.add_argument("--out", required=True, help="output PNG")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    p.add_argument("--num", type=int, default=24, help="number of samples")
    p.add_argument("--cols", type=int, default=8, help="columns")
    p.add_argument("--start", type=int, default=0, help="first image index (0-based)")
    p.add_argument(
        "--counterfactuals",
        action="store_true",
        help="draw test faces with their ground-truth counterfactuals instead (rows: faces; --start counts "
        "test faces)",
    )
    p.set_defaults(func=_sheet)

    p = sub.add_parser(
        "data",
        help="dataset tools",
        description="Dataset tools: secgan data check validates a dataset folder.",
    )
    dsub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    c = dsub.add_parser(
        "check",
        help="validate a dataset folder and print a JSON report",
        description="Print JSON: images per split, attribute frequencies, sampled image sizes, masks found. "
        "Every image's header is read (format, size: an image of the wrong size is an error); the pixel "
        "data is not ('not_checked' says so): --deep decodes every image and lists the truncated or "
        "corrupt ones. Exit 1 if any error.",
    )
    c.add_argument("dir", help="dataset folder")
    add_dataset_argument(c)
    c.add_argument("--attrs", default=None, help="comma-separated attribute names (None: the paper's 13)")
    c.add_argument(
        "--deep", action="store_true", help="decode every image (finds truncated or corrupt pixel data)"
    )
    add_dataset_options(c)  # the loader options of the dataset table (--split-scheme, --cameras, --csv...)
    c.add_argument("--no-progress", action="store_true", help="no progress bar")
    c.set_defaults(func=_check)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _synth(args: argparse.Namespace) -> int:
    from pathlib import Path

    from secgan.data.synthetic.writer import write_dataset
    from secgan.errors import ConfigError

    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()) and not args.overwrite:
        raise ConfigError(
            f"{out} is not empty: choose a new folder, or pass --overwrite to replace its images (a parser "
            "mask cache built from the old images is then detected as stale)"
        )
    summary = write_dataset(
        args.out,
        num=args.num,
        seed=args.seed,
        size=args.size,
        workers=args.workers,
        progress=not args.no_progress,
        counterfactuals=not args.no_counterfactuals,
        counterfactual_splits=[v.strip() for v in args.counterfactual_splits.split(",") if v.strip()],
    )
    if args.sheet:
        from secgan.data.synthetic.sheet import contact_sheet

        summary["sheet"] = str(contact_sheet(args.out, args.sheet, num=min(24, args.num)))
    summary.pop("frequencies", None)
    print_json(summary)
    return 0


def _sheet(args: argparse.Namespace) -> int:
    from secgan.data.synthetic.sheet import contact_sheet, counterfactual_sheet

    refuse_to_replace(Path(args.out), args.overwrite)
    if args.counterfactuals:
        out = counterfactual_sheet(args.dir, args.out, num=args.num, start=args.start)
    else:
        out = contact_sheet(args.dir, args.out, num=args.num, cols=args.cols, start=args.start)
    print_json({"sheet": str(out)})
    return 0


def _check(args: argparse.Namespace) -> int:
    from secgan.data.check import check_dataset

    options = dataset_options(args)  # one refused in one line when the dataset does not take it
    report = check_dataset(
        args.dir, args.dataset, attrs=args.attrs, deep=args.deep, progress=not args.no_progress, **options
    )
    print_json(report)
    return 0 if report["ok"] else 1
