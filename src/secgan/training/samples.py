"""Sample grids: each input followed by one edit per attribute (and, in secgan mode, the input mask and
G_seg's edited masks beneath, coloured with the 12-segment palette)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch import nn

from secgan.data.masks import colorize
from secgan.data.transforms import tensor_to_image
from secgan.utils.io import atomic_path


@contextlib.contextmanager
def preserved_buffers(*modules: nn.Module) -> Iterator[None]:
    """Run sampling without touching the training state: the norm layers' running statistics (updated by
    train-mode forwards) are restored on exit."""
    saved = [{k: b.detach().clone() for k, b in m.named_buffers()} for m in modules]
    try:
        yield
    finally:
        for m, state in zip(modules, saved):
            for k, b in m.named_buffers():
                b.copy_(state[k])


def compose_grid(
    images: torch.Tensor,
    edits: list[torch.Tensor],
    masks_in: torch.Tensor | None = None,
    masks_out: list[torch.Tensor] | None = None,
    pad: int = 2,
) -> np.ndarray:
    """Grid ``[rows * H + pads, (1 + n_edits) * W + pads, 3]`` uint8.

    ``images [N, 3, H, W]`` and every ``edits[i] [N, 3, H, W]`` in [-1, 1]. With masks (label maps
    ``[N, H, W]`` for the input, and ``[N, H, W]`` per edit), each image row gets a mask row beneath it.
    """
    n, _, h, w = images.shape
    cols = 1 + len(edits)
    rows_per = 2 if masks_in is not None else 1
    grid = np.full((n * rows_per * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, dtype=np.uint8)
    for k in range(n):
        row_imgs = [tensor_to_image(images[k])] + [tensor_to_image(e[k]) for e in edits]
        r0 = k * rows_per * (h + pad) + pad
        for j, im in enumerate(row_imgs):
            c0 = j * (w + pad) + pad
            grid[r0 : r0 + h, c0 : c0 + w] = im
        if masks_in is not None:
            r1 = r0 + h + pad
            row_masks = [colorize(masks_in[k])] + [colorize(m[k]) for m in (masks_out or [])]
            for j, im in enumerate(row_masks):
                c0 = j * (w + pad) + pad
                grid[r1 : r1 + h, c0 : c0 + w] = im
    return grid


def save_png(grid: np.ndarray, path: str | Path) -> None:
    """Write an RGB uint8 array as PNG atomically."""
    from PIL import Image

    with atomic_path(path) as tmp:
        Image.fromarray(grid).save(tmp, format="PNG")
