"""A small U-Net face parser: the evaluation's independent judge of shape.

SeCGAN's semantic-consistency loss (eq. 11 of the paper) trains the generator through the frozen BiSeNet
parser, so a shape metric measured with that same parser is judged by the network the editor learned to
please. This parser is another architecture (Ronneberger et al. 2015: a full-resolution encoder-decoder
with skip connections, no ResNet trunk, no attention, no 1/8-resolution head), trained with another seed,
and used only to score edits (``secgan evaluate --judge-parser``).

It keeps the parser contract of :class:`~secgan.models.bisenet.BiSeNet`, so :class:`FrozenParser`, the
parser training loop and the loaders treat both alike: input ``[N, 3, H, W]`` (ImageNet-normalised RGB,
``H`` and ``W`` divisible by ``2 ** n_down``), output a tuple of logits ``[N, n_classes, H', W']``
(``n_classes`` = 19 CelebAMask-HQ classes, merged to the paper's 12 segments by the consumers) at
``output_size`` (default the input's size). The tuple has one element: there are no auxiliary heads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from secgan.errors import ConfigError


class DoubleConv(nn.Module):
    """(conv 3x3, no bias - BN - ReLU) twice; keeps the spatial size."""

    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class UNetParser(nn.Module):
    """U-Net: ``x [N, 3, H, W]`` -> ``(logits [N, n_classes, H', W'],)``.

    Args:
        n_classes: output classes (19: the face-parsing classes, as the BiSeNet parser).
        base_width: channels at full resolution; level ``k`` has ``base_width * 2**k`` (capped at 8x).
        n_down: number of 2x downsamplings (max-pool) in the encoder, each undone by a bilinear upsampling
            and a skip connection in the decoder.
    """

    family = "unet_parser"

    def __init__(self, n_classes: int = 19, base_width: int = 16, n_down: int = 3) -> None:
        super().__init__()
        if base_width < 1 or not 1 <= n_down <= 6:
            raise ConfigError(
                f"UNetParser needs base_width >= 1 and 1 <= n_down <= 6, got {base_width}, {n_down}"
            )
        self.spec_kwargs = dict(n_classes=n_classes, base_width=base_width, n_down=n_down)
        widths = [base_width * min(2**k, 8) for k in range(n_down + 1)]
        self.stem = DoubleConv(3, widths[0])
        self.down = nn.ModuleList(DoubleConv(widths[k], widths[k + 1]) for k in range(n_down))
        # decoder level k (from the bottom): upsampled widths[k+1] + skip widths[k] -> widths[k]
        self.up = nn.ModuleList(DoubleConv(widths[k + 1] + widths[k], widths[k]) for k in range(n_down))
        self.head = nn.Conv2d(widths[0], n_classes, 1)
        self.n_down = n_down

    def forward(self, x: torch.Tensor, output_size: tuple[int, int] | None = None) -> tuple[torch.Tensor]:
        """``output_size`` (default: the input's ``H, W``): where the logits are resized to (bilinear)."""
        step = 2**self.n_down
        if x.shape[-1] % step or x.shape[-2] % step:
            raise ValueError(f"UNetParser: input side must be divisible by {step}, got {tuple(x.shape[2:])}")
        skips = [self.stem(x)]  # [N, w, H, W]
        for block in self.down:
            skips.append(block(F.max_pool2d(skips[-1], 2)))  # [N, w_k, H / 2^k, W / 2^k]
        h = skips.pop()
        for k in reversed(range(self.n_down)):
            skip = skips.pop()
            h = F.interpolate(h, size=skip.shape[2:], mode="bilinear", align_corners=False)
            h = self.up[k](torch.cat([h, skip], dim=1))
        logits = self.head(h)  # [N, n_classes, H, W]
        size = tuple(x.shape[2:]) if output_size is None else tuple(output_size)
        if tuple(logits.shape[2:]) != size:
            logits = F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
        return (logits,)
