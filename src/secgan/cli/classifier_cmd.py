"""``secgan classifier train|eval``: the external evaluation classifier."""

from __future__ import annotations

import argparse

from secgan.cli.common import add_device_argument, print_json, resolve_device, set_threads
from secgan.cli.dataset_args import add_dataset_argument, add_dataset_options, dataset_options


def cmd_train(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    from secgan.auxiliary.classifier.train import train_classifier

    result = train_classifier(
        args.data,
        args.dataset,
        args.size,
        args.out,
        attrs=args.attrs,
        epochs=args.epochs,
        batch_size=args.batch,
        max_images=args.max_images,
        seed=args.seed,
        lr=args.lr,
        eval_split=args.eval_split,
        max_eval_images=args.max_eval_images,
        device=resolve_device(args.device),
        time_limit=args.time_limit,
        num_workers=args.workers,
        augment=False if args.no_augment else None,
        cf_per_face=args.cf_per_face,
        data_options=dataset_options(args),
    )
    print_json(result)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from secgan.auxiliary.classifier.train import eval_classifier_dir

    result = eval_classifier_dir(
        args.classifier_dir,
        args.data,
        dataset=args.dataset,
        split=args.split,
        batch_size=args.batch,
        max_images=args.max_images,
        device=resolve_device(args.device),
        data_options=dataset_options(args),  # on top of the options the classifier trained with
    )
    print_json(result)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "classifier",
        help="train / evaluate the attribute classifier used for editing accuracy",
        description="The external attribute classifier: measures editing accuracy in secgan evaluate and, "
        "bundled into an export, predicts the source attributes secgan edit starts from.",
    )
    sub = p.add_subparsers(dest="classifier_command", metavar="SUBCOMMAND", required=True)

    t = sub.add_parser(
        "train",
        help="train on the train split; prints test accuracy as JSON",
        description="Train the attribute classifier on a dataset's train split, then print its per-attribute "
        "and mean accuracy on a held-out split as JSON. Writes a classifier folder.",
    )
    t.add_argument("--data", required=True, help="dataset folder (original file layout)")
    add_dataset_argument(t)
    add_dataset_options(t)  # rafd: --split-seed etc., as the editor it will judge trained with
    t.add_argument("--size", type=int, default=128, help="image side S (a multiple of 32)")
    t.add_argument("--out", required=True, help="classifier directory to write")
    t.add_argument(
        "--attrs",
        default=None,
        help="comma-separated attributes (default: the paper's 13; RaFD: its 8 expressions)",
    )
    t.add_argument("--epochs", type=int, default=10, help="passes over the training images")
    t.add_argument("--batch", type=int, default=64, help="images per step")
    t.add_argument("--max-images", type=int, default=None, help="use the first N training images")
    t.add_argument(
        "--max-eval-images", type=int, default=None, help="measure accuracy on the first N held-out images"
    )
    t.add_argument("--eval-split", default="test", choices=("val", "test"), help="held-out split")
    t.add_argument("--seed", type=int, default=0, help="random seed (initialisation, data order)")
    t.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    t.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="end training within this many seconds (data loading included; the LR decay is compressed to fit)",
    )
    t.add_argument(
        "--no-augment",
        action="store_true",
        help="train on the faces only; by default a dataset whose training faces have counterfactuals "
        "(secgan synth) adds them, each with its own labels (docs/ruler.md)",
    )
    t.add_argument(
        "--cf-per-face",
        type=float,
        default=1.0,
        help="counterfactuals drawn at random per training face and epoch (1: an epoch is twice as long)",
    )
    t.add_argument("--workers", type=int, default=0, help="DataLoader workers")
    t.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (1 is fastest on a CPU shared with other jobs)",
    )
    add_device_argument(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser(
        "eval",
        help="per-attribute and mean accuracy of a classifier (JSON)",
        description="Measure a classifier's per-attribute and mean accuracy on a dataset split; prints JSON.",
    )
    e.add_argument("classifier_dir", help="classifier folder")
    e.add_argument("--data", required=True, help="dataset folder (original file layout)")
    add_dataset_argument(e, required=False, help="dataset loader (default: the classifier's own)")
    add_dataset_options(e)  # each updates the options the classifier trained with
    e.add_argument("--split", default="test", choices=("train", "val", "test", "all"), help="dataset split")
    e.add_argument("--batch", type=int, default=64, help="images per forward pass")
    e.add_argument("--max-images", type=int, default=None, help="use the first N images of the split")
    add_device_argument(e)
    e.set_defaults(func=cmd_eval)
