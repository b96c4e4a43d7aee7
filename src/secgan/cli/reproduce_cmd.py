"""``secgan reproduce``: the paper's experiment end to end (see secgan.reproduce)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from secgan.cli.common import add_device_argument, print_json

if TYPE_CHECKING:
    from secgan.reproduce.plans import ReproducePreset

log = logging.getLogger(__name__)


def backbone_names() -> tuple[str, ...]:
    from secgan.models.backbones import BACKBONE_NAMES

    return BACKBONE_NAMES


def with_backbone(preset: ReproducePreset, backbone: str | None) -> ReproducePreset:
    """``preset`` with its GAN runs on ``backbone`` (the backbone table's name): the training presets
    ``{dataset}-{backbone}-{size}-{method}`` replace the preset's own; one-line error if one is missing."""
    from secgan.config import preset_names
    from secgan.errors import ConfigError
    from secgan.models.backbones import get_backbone

    if backbone in (None, preset.backbone):
        return preset
    train_preset = preset.train_preset.replace(f"-{preset.backbone}-", f"-{get_backbone(backbone).name}-")
    missing = sorted({f"{train_preset}-{r.method}" for r in preset.runs} - set(preset_names()))
    if missing:
        raise ConfigError(f"--backbone {backbone}: preset {preset.name!r} needs training presets {missing}")
    return dataclasses.replace(
        preset,
        backbone=backbone,
        train_preset=train_preset,
        description=f"{preset.description} GANs on the {backbone} backbone (--backbone).",
    )


def all_presets() -> dict:
    """The paper's presets and the presets on one's own labelled faces (``custom-{backbone}-{size}``)."""
    from secgan.reproduce.custom import CUSTOM_PRESETS
    from secgan.reproduce.plans import PRESETS

    return {**PRESETS, **CUSTOM_PRESETS}


def register(subparsers: argparse._SubParsersAction) -> None:
    PRESETS = all_presets()

    p = subparsers.add_parser(
        "reproduce",
        help="run the paper's experiment end to end (data, parser, classifier, 3 methods, evaluation, report)",
        description=(
            "Synthesise or read data, train the parser and the evaluation classifier, train Baseline, "
            "Baseline + Concat and SeCGAN with the same budget and seed, evaluate them, write the report and "
            "edit held-out faces. Each stage is skipped when its output already exists, so re-running "
            "continues an interrupted reproduction.\nPresets (--preset NAME):\n"
            + "\n".join(f"  {name}: {PRESETS[name].description}" for name in sorted(PRESETS))
        ),
    )
    p.add_argument("--preset", required=True, choices=sorted(PRESETS), help="what to reproduce")
    p.add_argument("--out", required=True, type=Path, help="output folder (report.md, results.json, ...)")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="dataset folder: real-data presets; custom-* presets: a folder holding labels.csv (header "
        "file,ATTR1,ATTR2,...[,split]; README 'Your own faces')",
    )
    p.add_argument(
        "--iterations",
        type=int,
        default=None,
        help="custom-* presets only: training iterations of each run (None: the preset's budget)",
    )
    p.add_argument("--parser", type=Path, default=None, metavar="P_DIR", help="an existing parser folder")
    p.add_argument("--parser-weights", type=Path, default=None, help="the public 79999_iter.pth to import")
    p.add_argument(
        "--backbone",
        default=None,
        choices=backbone_names(),
        help="train the GANs on this backbone instead of the preset's (its training presets must exist, "
        "e.g. synthetic-stgan-64-*; use a new --out: finished stages are not redone)",
    )
    p.add_argument(
        "--force",
        action="append",
        default=[],
        metavar="STAGE",
        help="redo a stage even if done: data, parser, classifier, train, evaluate, report, edits, "
        "a single stage such as train:secgan-s0, or all (repeatable)",
    )
    p.add_argument(
        "--report-so-far",
        action="store_true",
        help="run nothing: write report.md and results.json from the runs already evaluated in OUT (while a "
        "long reproduction still trains, or after it was stopped); the stages not done yet are listed",
    )
    add_device_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from secgan.reproduce.stages import StageInterrupted

    try:
        return _run(args)
    except (
        StageInterrupted
    ) as err:  # the stage saved its work: status 130 (SIGINT) / 143 (SIGTERM) like train
        sys.stderr.write(f"secgan: {err}\n")
        m = re.search(r"interrupted by (SIG[A-Z]+)", str(err))
        return 128 + int(getattr(signal, m.group(1))) if m else 130


def _run(args: argparse.Namespace) -> int:
    from secgan.data.registry import get_dataset
    from secgan.errors import ConfigError
    from secgan.reproduce.custom import reproduce_custom, with_iterations
    from secgan.reproduce.pipeline import report_so_far, reproduce

    preset = with_backbone(all_presets()[args.preset], args.backbone)
    custom = get_dataset(preset.dataset).own_faces  # a practitioner's own faces: the custom-* pipeline
    if args.iterations is not None:
        if not custom:
            raise ConfigError(
                f"--iterations applies to the custom-* presets only; {args.preset!r} is defined by its name"
            )
        preset = with_iterations(preset, args.iterations)
    common = dict(
        data_dir=args.data,
        parser_dir=args.parser,
        parser_weights=args.parser_weights,
        device=None if args.device == "auto" else args.device,
    )
    if args.report_so_far:
        results = report_so_far(preset, args.out, **common)
    elif custom:
        results = reproduce_custom(preset, args.out, force=set(args.force), **common)
    else:
        results = reproduce(preset, args.out, force=set(args.force), **common)
    summary = {
        "report": str(args.out / "report.md"),
        "results": str(args.out / "results.json"),
        "verdict": results.get("verdict") or results.get("secgan_beat_baseline"),  # {comparison: sentence}
        "wall_seconds": results["wall_seconds"],
        "peak_memory": results["peak_memory"],
    }
    if results.get("unfinished_stages"):
        summary["unfinished_stages"] = results["unfinished_stages"]
    print_json(summary)
    log.info("report: %s", args.out / "report.md")
    return 0
