"""Sample grids: each input followed by one edit per attribute (and, in secgan mode, the input mask and
G_seg's edited masks beneath, coloured with the 12-segment palette)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from secgan.data.attributes import attribute_edit_targets
from secgan.data.masks import NUM_SEGMENTS, colorize, one_hot
from secgan.data.transforms import tensor_to_image
from secgan.models.conditioning import make_condition
from secgan.models.export import generator_input
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


def sample_batch(
    dataset: Any,
    n: int,
    device: torch.device,
    source_masks: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor] | None = None,
) -> dict[str, torch.Tensor] | None:
    """The fixed inputs of every grid: ``n`` items spread evenly over the dataset -> ``x [n, 3, S, S]``,
    ``y [n, n_a]`` and, with ``source_masks`` (the trainer's: the dataset's masks or the parser's),
    ``s_lab [n, S, S]``. ``None`` when ``n <= 0``."""
    n = min(n, len(dataset))
    if n <= 0:
        return None
    idx = torch.linspace(0, len(dataset) - 1, n).round().long().tolist()
    items = [dataset[i] for i in idx]
    x = torch.stack([it["image"] for it in items]).to(device).float()
    y = torch.stack([torch.as_tensor(it["label"]) for it in items]).to(device).float()
    sb = {"x": x, "y": y}
    if source_masks is not None:
        masks = [it.get("mask") for it in items]
        mask = torch.stack(masks) if all(m is not None for m in masks) else None
        sb["s_lab"] = source_masks(x, mask)
    return sb


@torch.no_grad()
def draw_sample_grid(
    sb: dict[str, torch.Tensor],
    g_rgb: nn.Module,
    g_seg: nn.Module | None,
    attributes: Sequence[str],
    conditioning: str,
    target_scale: float,
    concat: bool,
    onehot: bool = False,
) -> np.ndarray:
    """The grid of one training step: rows of input | one edit per attribute, with the input mask and
    G_seg's edited masks beneath when there is a G_seg. The networks' buffers are left untouched."""
    targets = attribute_edit_targets(sb["y"], attributes, onehot=onehot)
    s_in = one_hot(sb["s_lab"], NUM_SEGMENTS) if "s_lab" in sb else None
    g_in = generator_input(sb["x"], s_in if concat else None)
    mods = [g_rgb] + ([g_seg] if g_seg is not None else [])
    edits, mask_edits = [], []
    with preserved_buffers(*mods):
        for y_t in targets:
            c = make_condition(sb["y"], y_t, conditioning, scale=target_scale)
            edits.append(g_rgb(g_in, c).float().cpu())
            if g_seg is not None:
                mask_edits.append(g_seg(s_in, c).argmax(dim=1).cpu())
    return compose_grid(
        sb["x"].cpu(),
        edits,
        masks_in=sb["s_lab"].cpu() if g_seg is not None else None,
        masks_out=mask_edits or None,
    )
