"""``secgan parser train|eval|predict|import|cache``: the face parser P."""

from __future__ import annotations

import argparse
from pathlib import Path

from secgan.cli.common import (
    OVERWRITE_HELP,
    add_device_argument,
    avoid_inputs,
    print_json,
    refuse_to_replace,
    resolve_device,
    set_threads,
)
from secgan.cli.dataset_args import add_dataset_argument, add_dataset_options, dataset_options


def cmd_train(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    from secgan.auxiliary.parser.train import train_parser

    result = train_parser(
        args.data,
        args.dataset,
        args.size,
        args.out,
        epochs=args.epochs,
        batch_size=args.batch,
        max_images=args.max_images,
        seed=args.seed,
        base_width=args.base_width,
        input_size=args.input_size,
        lr=args.lr,
        class_balance=args.class_balance,
        eval_split=args.eval_split,
        max_eval_images=args.max_eval_images,
        device=resolve_device(args.device),
        time_limit=args.time_limit,
        num_workers=args.workers,
        arch=args.arch,
    )
    print_json(result)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from secgan.auxiliary.parser.train import eval_parser_dir

    print_json(
        eval_parser_dir(
            args.parser_dir,
            args.data,
            args.dataset,
            size=args.size,
            split=args.split,
            batch_size=args.batch,
            max_images=args.max_images,
            device=resolve_device(args.device),
        )
    )
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from secgan.auxiliary.parser import FrozenParser
    from secgan.data.masks import SEGMENTS_12, colorize
    from secgan.data.transforms import image_to_tensor
    from secgan.utils.images import read_image
    from secgan.utils.io import atomic_path

    parser = FrozenParser.load(args.parser_dir, device=resolve_device(args.device))
    img = read_image(args.image)
    if args.size:
        img = img.resize((args.size, args.size), Image.BILINEAR)
    x = image_to_tensor(img)[None].to(next(parser.parameters()).device)
    labels = parser.labels12(x)[0].cpu().numpy().astype(np.uint8)
    args.out = avoid_inputs(Path(args.out), [args.image])  # never over the input image
    with atomic_path(args.out) as tmp:
        Image.fromarray(colorize(labels)).save(tmp, format="PNG")
    counts = np.bincount(labels.reshape(-1), minlength=len(SEGMENTS_12)) / labels.size
    print_json({"image": str(args.image), "mask": str(args.out), "size": list(labels.shape[::-1]),
            "fractions": {s: round(float(c), 4) for s, c in zip(SEGMENTS_12, counts)}})  # fmt: skip
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from secgan.auxiliary.parser import parser_hash
    from secgan.auxiliary.parser.importer import import_public_parser

    refuse_to_replace(Path(args.out), args.overwrite)
    parser = import_public_parser(args.checkpoint, args.out, size=args.size)
    print_json(
        {"parser_dir": str(args.out), "input_size": parser.input_size, "parser_hash": parser_hash(parser)}
    )
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    from secgan.auxiliary.parser import FrozenParser, parser_hash
    from secgan.auxiliary.parser.cache import build_mask_cache, default_cache_dir
    from secgan.data.registry import build_dataset

    parser = FrozenParser.load(args.parser_dir, device=resolve_device(args.device))
    h = parser_hash(parser)
    ds = build_dataset(args.dataset, args.data, split=args.split, image_size=args.size, flip=False,
                       max_items=args.max_images, **dataset_options(args))  # fmt: skip
    out = args.out or default_cache_dir(args.data, args.dataset, args.split, args.size, h)
    build_mask_cache(parser, ds, out, batch_size=args.batch, dataset=args.dataset, split=args.split)
    print_json({"cache_dir": str(out), "parser_hash": h, "count": len(ds), "size": args.size,
            "dataset": args.dataset, "split": args.split})  # fmt: skip
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "parser",
        help="train / evaluate / import the face parser P; build mask caches",
        description="The face parser P (BiSeNet, 19 parts mapped to 12 segments): train it on a dataset "
        "with part masks, measure its IoU, draw one image's mask, import the public 79999_iter.pth, and "
        "precompute a dataset's masks for training.",
    )
    sub = p.add_subparsers(dest="parser_command", metavar="SUBCOMMAND", required=True)

    from secgan.data.registry import dataset_names

    mask_datasets = dataset_names(part_masks=True)  # the dataset table's datasets with part masks

    _register_train(sub, mask_datasets)
    _register_eval_predict_import(sub, mask_datasets)
    _register_cache(sub)


def _register_train(sub: argparse._SubParsersAction, mask_datasets: tuple[str, ...]) -> None:
    from secgan.auxiliary.parser_settings import DEFAULTS as D
    from secgan.auxiliary.parser_settings import MIN_INPUT_SIZE, PARSER_ARCHS

    t = sub.add_parser(
        "train",
        help="train a parser at one resolution; prints held-out IoU as JSON",
        description="Train the BiSeNet face parser on a dataset with part masks at one image side, then print "
        "its per-segment and mean IoU on a held-out split as JSON. Writes a parser folder. The defaults are the settings "
        "measured to work (mean IoU ~0.79 on 4,000 64 px synthetic faces in ~5 min on a 2-core CPU); they "
        "are recorded in the parser folder's config.json under 'training', the held-out IoU under 'evaluation'. "
        "--arch unet trains the evaluation's independent judge (secgan evaluate --judge-parser): a small U-Net, "
        "another architecture than the BiSeNet that SeCGAN trains through.",
    )
    t.add_argument("--data", required=True, help="dataset folder (original file layout)")
    add_dataset_argument(t, names=mask_datasets, help="dataset loader (one with part masks)")
    t.add_argument("--size", type=int, required=True, help="image side S the parser is trained at")
    t.add_argument("--out", required=True, help="parser directory to write")
    t.add_argument("--epochs", type=int, default=D.epochs, help="training epochs")
    t.add_argument("--batch", type=int, default=D.batch_size, help="batch size")
    t.add_argument("--max-images", type=int, default=None, help="use the first N training images")
    t.add_argument(
        "--max-eval-images", type=int, default=None, help="measure IoU on the first N held-out images"
    )
    t.add_argument("--eval-split", default="test", choices=("val", "test"), help="held-out split for IoU")
    t.add_argument("--seed", type=int, default=D.seed, help="random seed (initialisation, data order)")
    t.add_argument(
        "--arch",
        default=D.arch,
        choices=PARSER_ARCHS,
        help="bisenet: the training parser P; unet: the evaluation's independent judge (runs at --size)",
    )
    t.add_argument(
        "--base-width",
        type=int,
        default=D.base_width,
        help="network width (BiSeNet: 64 = the public architecture, far slower; U-Net: channels at full "
        "resolution)",
    )
    t.add_argument(
        "--input-size",
        type=int,
        default=None,
        help=f"side the network runs at (default: BiSeNet max({MIN_INPUT_SIZE}, --size), as its 1/8-resolution "
        "output cannot resolve eyes or earrings of small images; U-Net --size)",
    )
    t.add_argument("--lr", type=float, default=D.lr, help="peak Adam learning rate")
    t.add_argument(
        "--class-balance",
        type=float,
        default=D.class_balance,
        help="loss weight per segment = frequency**-X (0: unweighted)",
    )
    t.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="end training within this many seconds (data loading included; the LR decay is compressed to fit)",
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


def _register_eval_predict_import(sub: argparse._SubParsersAction, mask_datasets: tuple[str, ...]) -> None:
    e = sub.add_parser(
        "eval",
        help="per-segment and mean IoU of a parser on a dataset with masks (JSON)",
        description="Measure a parser's per-segment and mean IoU against a dataset's part masks; prints JSON.",
    )
    e.add_argument("parser_dir", help="parser folder")
    e.add_argument("--data", required=True, help="dataset folder (original file layout)")
    add_dataset_argument(e, names=mask_datasets, help="dataset loader (one with part masks)")
    e.add_argument(
        "--size",
        type=int,
        default=None,
        help="image side (default: the size it was trained at, else the parser's input size)",
    )
    e.add_argument("--split", default="test", choices=("train", "val", "test", "all"), help="dataset split")
    e.add_argument("--batch", type=int, default=32, help="images per forward pass")
    e.add_argument("--max-images", type=int, default=None, help="use the first N images of the split")
    add_device_argument(e)
    e.set_defaults(func=cmd_eval)

    pr = sub.add_parser(
        "predict",
        help="draw the 12-segment mask of one image",
        description="Run a parser on one image and write its 12-segment mask as a colour PNG.",
    )
    pr.add_argument("parser_dir", help="parser folder")
    pr.add_argument("image", help="image file")
    pr.add_argument("--out", required=True, help="PNG to write")
    pr.add_argument("--size", type=int, default=None, help="resize the image to SxS first")
    add_device_argument(pr)
    pr.set_defaults(func=cmd_predict)

    im = sub.add_parser(
        "import",
        help="convert the public face-parsing 79999_iter.pth into a parser directory",
        description="Convert the public face-parsing BiSeNet checkpoint 79999_iter.pth (loaded with "
        "weights_only=True) into a parser folder.",
    )
    im.add_argument("checkpoint", help="the checkpoint, e.g. 79999_iter.pth")
    im.add_argument("--out", required=True, help="parser folder to write")
    im.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    im.add_argument("--size", type=int, default=512, help="input size the parser runs at (trained at 512)")
    im.set_defaults(func=cmd_import)


def _register_cache(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser(
        "cache",
        help="precompute a dataset's 12-segment masks with a parser (uint8 .npy)",
        description="Run a parser over a dataset split once and store the 12-segment masks (uint8 .npy, "
        "keyed by the parser's hash) for training.",
    )
    c.add_argument("parser_dir", help="parser folder")
    c.add_argument("--data", required=True, help="dataset folder (original file layout)")
    add_dataset_argument(c)
    add_dataset_options(c)  # rafd: the training run's --split-seed (its train split's names)
    c.add_argument("--split", default="train", choices=("train", "val", "test", "all"), help="dataset split")
    c.add_argument("--size", type=int, required=True, help="image side S of the masks")
    c.add_argument("--out", default=None, help="cache folder (default DATA/.secgan-cache/masks-...)")
    c.add_argument("--batch", type=int, default=32, help="images per forward pass")
    c.add_argument("--max-images", type=int, default=None, help="use the first N images of the split")
    add_device_argument(c)
    c.set_defaults(func=cmd_cache)
