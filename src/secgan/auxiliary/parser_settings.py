"""The training settings of the face parser and their defaults (light: imported by the CLI for --help).

The defaults are the settings measured to work on 64 px synthetic faces (see
:mod:`secgan.auxiliary.parser.train`): the network runs at the default input size of
:mod:`secgan.models.parser_input` (BiSeNet: ``max(256, size)`` px), width 8, Adam at 3e-3, batches of 8,
3 epochs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from secgan.models.parser_input import MIN_INPUT_SIZE, parser_input_size

__all__ = ["DEFAULTS", "MIN_INPUT_SIZE", "PARSER_ARCHS", "ParserTrainSettings"]

# "bisenet": the training parser P (the public architecture); "unet": the evaluation's independent judge
# (models/unet_parser.py), a full-resolution network that runs at the image size.
PARSER_ARCHS = ("bisenet", "unet")


@dataclass(frozen=True)
class ParserTrainSettings:
    """The training settings of a parser; the defaults are those of ``secgan parser train``."""

    epochs: int = 3
    batch_size: int = 8
    base_width: int = 8  # BiSeNet width (64 = the public architecture)
    input_size: int | None = None  # None: models.parser_input's default (BiSeNet: max(256, image size))
    lr: float = 3e-3  # peak Adam rate (linear warm-up, cosine decay to 0)
    class_balance: float = 0.5  # segment weights frequency ** -class_balance (0: unweighted)
    seed: int = 0
    arch: str = "bisenet"  # one of PARSER_ARCHS

    def resolved(self, size: int) -> ParserTrainSettings:
        """These settings with ``input_size`` filled in for images of side ``size`` (BiSeNet: at least
        ``MIN_INPUT_SIZE``; the U-Net resolves full resolution and runs at ``size``)."""
        size = parser_input_size(self.input_size, size, self.arch)
        return ParserTrainSettings(**{**asdict(self), "input_size": size})


DEFAULTS = ParserTrainSettings()
