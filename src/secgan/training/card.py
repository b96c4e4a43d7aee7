"""The model card of a run's export (:class:`~secgan.models.export.ModelCard`): what the trained
generator takes, written from the run's config, parser and bundled classifier."""

from __future__ import annotations

from torch import nn

from secgan.auxiliary.parser.protocol import ParserLike
from secgan.config import Config
from secgan.models.export import BundledParserCard, ModelCard


def run_model_card(
    cfg: Config,
    attributes: list[str],
    parser: ParserLike | None,
    classifier: tuple[nn.Module, dict] | None,
    step: int,
) -> ModelCard:
    """The card of the export at ``step`` (``parser``: the run's frozen parser or ``None``; ``classifier``:
    the bundled ``(net, meta)`` or ``None``). The parser's input size is the one it runs at (a parser folder
    without one: :func:`secgan.models.parser_input.parser_input_size`, applied when it was loaded)."""
    bundled_parser = None
    if parser is not None:
        pm = getattr(parser, "meta", {}) or {}
        bundled_parser = BundledParserCard(
            input_size=int(parser.input_size),
            mean=tuple(parser.mean.flatten().tolist()),
            std=tuple(parser.std.flatten().tolist()),
            trained_on=pm.get("trained_on"),
            dir=cfg.parser.dir,
        )
    return ModelCard(
        attributes=tuple(attributes),
        conditioning=cfg.model.conditioning,
        target_scale=cfg.model.target_scale,
        image_size=cfg.data.image_size,
        mode=cfg.model.mode,
        onehot_labels=cfg.loss.cls_loss == "ce",
        backbone=cfg.model.backbone,
        dataset=cfg.data.dataset,
        lambda_sc=cfg.loss.lambda_sc if cfg.model.mode == "secgan" else 0.0,
        iterations=int(step),
        seed=cfg.seed,
        parser=bundled_parser,
        classifier=dict(classifier[1]) if classifier is not None else None,
    )
