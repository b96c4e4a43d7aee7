"""The evaluation classifier of the STGAN/AttGAN protocol (paper-notes §7).

Five blocks ``[conv3x3-BN-ReLU, conv3x3-BN-ReLU, maxpool 2]`` with widths 16, 32, 64, 128, 256, then
``FC fc_dim + ReLU`` and ``FC n_outputs``. Multi-label (CelebA attributes: one sigmoid per output) or
multi-class (RaFD expressions: a softmax over outputs), which only changes the loss and the decision rule.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from secgan.errors import ConfigError


class AttributeClassifier(nn.Module):
    """``x [N, 3, S, S]`` in ``[-1, 1]`` -> logits ``[N, n_outputs]``; ``S == image_size``."""

    family = "classifier"

    def __init__(
        self,
        n_outputs: int,
        image_size: int = 128,
        widths: Sequence[int] = (16, 32, 64, 128, 256),
        fc_dim: int = 512,
        multilabel: bool = True,
    ) -> None:
        super().__init__()
        widths = [int(w) for w in widths]
        if image_size % (2 ** len(widths)) != 0:
            raise ConfigError(
                f"classifier image_size {image_size} must be divisible by 2**{len(widths)} = {2 ** len(widths)}"
            )
        self.spec_kwargs = dict(
            n_outputs=n_outputs, image_size=image_size, widths=widths, fc_dim=fc_dim, multilabel=multilabel
        )
        self.image_size, self.multilabel = image_size, multilabel
        layers: list[nn.Module] = []
        n_in = 3
        for w in widths:
            for _ in range(2):
                layers += [
                    nn.Conv2d(n_in, w, 3, padding=1, bias=False),
                    nn.BatchNorm2d(w),
                    nn.ReLU(inplace=True),
                ]
                n_in = w
            layers.append(nn.MaxPool2d(2))
        self.conv = nn.Sequential(*layers)
        flat = n_in * (image_size // 2 ** len(widths)) ** 2
        self.fc = nn.Sequential(nn.Linear(flat, fc_dim), nn.ReLU(inplace=True))
        self.head = nn.Linear(fc_dim, n_outputs)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[N, fc_dim]`` (after the ReLU)."""
        if x.dim() != 4 or x.shape[1:] != (3, self.image_size, self.image_size):
            raise ValueError(
                f"classifier expects [N, 3, {self.image_size}, {self.image_size}], got {tuple(x.shape)}"
            )
        return self.fc(self.conv(x).flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
