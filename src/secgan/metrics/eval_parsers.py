"""The parsers of an evaluation: the training parser (``--parser`` or the model's bundled one) and the
independent judge (``--judge-parser``), each with its ``metrics.json`` entry."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from torch import nn

from secgan.auxiliary.parser.protocol import ParserLike
from secgan.metrics.eval_files import EvalOptions, dir_hashes
from secgan.models.export import ModelCard

log = logging.getLogger(__name__)


def load_parser(
    opts: EvalOptions, nets: dict[str, nn.Module], card: ModelCard, device: torch.device
) -> tuple[ParserLike | None, dict | None]:
    """The frozen parser: ``--parser P_DIR``, else the one bundled in the model folder, else ``None``; both
    run at their recorded input size, else the default for the model's image size
    (:func:`secgan.models.parser_input.parser_input_size`)."""
    from secgan.auxiliary.parser.frozen import FrozenParser

    if opts.parser is not None:
        p = FrozenParser.load(opts.parser, device, image_size=card.image_size)
        return p, {
            "source": str(opts.parser),
            "input_size": p.input_size,
            "weights_sha256": dir_hashes(Path(opts.parser)),
            "arch": p.arch,
            "miou_vs_ground_truth": p.miou_vs_ground_truth,
        }
    if "parser" in nets:
        p = FrozenParser.from_bundled(nets["parser"], card).to(device)
        bundled = card.parser
        provenance = {"trained_on": bundled.trained_on, "dir": bundled.dir} if bundled else {}
        return p, {"source": "bundled", "input_size": p.input_size, "arch": p.arch, **provenance}
    return None, None


def load_judge(
    opts: EvalOptions, parser: ParserLike | None, device: torch.device, image_size: int | None = None
) -> tuple[ParserLike | None, dict | None]:
    """The independent evaluation parser of ``--judge-parser DIR`` (or ``None``) and its ``metrics.json``
    entry: ``{"arch", "dir", "miou_vs_ground_truth", ...}``. ``image_size``: the model's, for a folder
    without a recorded input size (else the image size the judge was trained on)."""
    from secgan.auxiliary.parser.frozen import FrozenParser, parser_hash

    if opts.judge_parser is None:
        return None, None
    judge = FrozenParser.load(opts.judge_parser, device, image_size=image_size)
    evaluation = judge.meta.get("evaluation") or {}
    info = {
        "arch": judge.arch,
        "dir": str(opts.judge_parser),
        "miou_vs_ground_truth": judge.miou_vs_ground_truth,
        "miou_vs_ground_truth_split": evaluation.get("split"),
        "miou_vs_ground_truth_images": evaluation.get("images"),
        "input_size": judge.input_size,
        "weights_sha256": dir_hashes(Path(opts.judge_parser)),
        "seed": (judge.meta.get("training") or {}).get("seed"),
        "same_as_training_parser": parser is not None and parser_hash(parser) == parser_hash(judge),
    }
    if info["same_as_training_parser"]:
        log.warning("--judge-parser %s is the training parser itself: it judges nothing", opts.judge_parser)
    return judge, info
