"""Held-out reconstruction: how closely the generator, asked for no change (``G(x, c0)``), returns its input.

Per image: L1 on the [-1, 1] scale (mean over pixels and channels) and PSNR on the [0, 1] scale
(``10 log10(1 / MSE)``, the MSE floored at 1e-10, so an exact copy scores 100 dB); ``summary()`` gives the
means over images. This is the "held-out reconstruction PSNR G(x, 0)" of the synthetic benchmark's targets
(docs/synthetic-benchmark.md)."""

from __future__ import annotations

import torch

DEFINITION = (
    "G(x, no change) against x on the evaluated test images: L1 on [-1, 1] and PSNR on [0, 1] "
    "(10 log10(1 / MSE)), each the mean over images"
)


def reconstruction_errors(x: torch.Tensor, x_rec: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``x``, ``x_rec``: ``[B, 3, S, S]`` in [-1, 1] -> per-image ``(L1 [B], PSNR in dB [B])``."""
    diff = (x_rec.float() - x.float()).flatten(1)
    l1 = diff.abs().mean(1)
    mse = (diff / 2).pow(2).mean(1).clamp_min(1e-10)  # on the [0, 1] scale
    return l1, 10 * torch.log10(1.0 / mse)


class ReconstructionMeter:
    """Sums of per-image L1 and PSNR over batches."""

    def __init__(self) -> None:
        self.l1 = 0.0
        self.psnr = 0.0
        self.n = 0

    def update(self, x: torch.Tensor, x_rec: torch.Tensor) -> None:
        l1, psnr = reconstruction_errors(x, x_rec)
        self.l1 += float(l1.sum())
        self.psnr += float(psnr.sum())
        self.n += int(l1.numel())

    def summary(self) -> dict | None:
        if not self.n:
            return None
        return {
            "l1": self.l1 / self.n,
            "psnr": self.psnr / self.n,
            "images": self.n,
            "definition": DEFINITION,
        }
