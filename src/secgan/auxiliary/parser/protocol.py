"""What the trainer, the model card writer and the evaluator ask of a face parser: :class:`ParserLike`.

:class:`~secgan.auxiliary.parser.frozen.FrozenParser` is the implementation; a test's fake (or another
parser family) only needs these members. The side a parser runs at has one default, for a parser that
records none: :func:`secgan.models.parser_input.parser_input_size` (re-exported here).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import torch

from secgan.models.parser_input import MIN_INPUT_SIZE, default_input_size, parser_input_size

__all__ = ["MIN_INPUT_SIZE", "ParserLike", "default_input_size", "parser_input_size"]


@runtime_checkable
class ParserLike(Protocol):
    """A frozen 12-segment face parser taking generator-style images ``x [N, 3, H, W]`` in ``[-1, 1]``.

    Attributes:
        input_size: the side it runs at (its input is resized to ``input_size x input_size``); written to
            the exported model's card.
        mean, std: ``[1, 3, 1, 1]`` float32, the normalisation after mapping ``x`` to ``[0, 1]`` (card).
        meta: its folder's ``config.json`` extras (``trained_on``, ``training``, ...; ``{}`` when none).
    """

    input_size: int
    mean: torch.Tensor
    std: torch.Tensor
    meta: dict[str, Any]

    def log_probs12(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 12, H, W]`` log-probabilities over the 12 segments, differentiable w.r.t. ``x`` (eqs. 11-12:
        G_rgb trains through it)."""
        ...

    def labels12(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, H, W]`` long hard labels in ``[0, 12)`` (source masks, shape metrics); no gradient."""
        ...

    def to(self, *args: Any, **kwargs: Any) -> Any:
        """Move or convert it in place as ``nn.Module.to`` does (device, ``memory_format``)."""
        ...
