"""The side a face parser runs at: one rule, read by every place that runs a parser or records one.

A parser runs at the size recorded with it: ``input_size`` in its folder's ``config.json``, or
``parser.input_size`` in the card of a model that bundles it. When none is recorded, it runs at the size
``secgan parser train`` trains it at for images of side ``S``: ``max(MIN_INPUT_SIZE, S)`` for the BiSeNet
(its logits are at 1/8 of its input, so below 256 px the small segments of a face blur away) and ``S`` for
the full-resolution U-Net judge (:mod:`secgan.models.unet_parser`).

Light (no torch): the CLI's ``--help`` reads it through :mod:`secgan.auxiliary.parser_settings`.
"""

from __future__ import annotations

MIN_INPUT_SIZE = 256  # the side the BiSeNet runs at, at least
FULL_RESOLUTION_ARCHS = ("unet", "unet_parser")  # run at the image size (settings name, network family)


def default_input_size(image_size: int, arch: str = "bisenet") -> int:
    """The side a parser of ``arch`` (``"bisenet"``; ``"unet"``/``"unet_parser"``) runs at for images of
    side ``image_size`` when no size is recorded with it."""
    if arch in FULL_RESOLUTION_ARCHS:
        return int(image_size)
    return max(MIN_INPUT_SIZE, int(image_size))


def parser_input_size(recorded: int | None, image_size: int, arch: str = "bisenet") -> int:
    """``recorded`` (the size written with the parser) when given, else :func:`default_input_size`."""
    if recorded:
        return int(recorded)
    return default_input_size(image_size, arch)
