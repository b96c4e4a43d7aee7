"""The suite's shared tiny data and networks: one face-like dataset and one frozen parser.

Importable from every test folder as ``tiny_fixtures`` (pytest puts ``tests/`` on the path for the
suite-wide ``conftest.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.utils.data import Dataset

# segment ids (SEGMENTS_12): 0 skin, 2 eyes, 7 mouth, 10 hair, 11 others
COLOURS = {
    0: (0.8, 0.4, 0.2),
    2: (-0.9, -0.9, 0.6),
    7: (0.2, -0.8, -0.5),
    10: (-0.6, -0.7, -0.8),
    11: (0.1, 0.5, 0.1),
}
DEFAULT_ATTRIBUTES = ("Has_Hair", "Big_Mouth")


class TinyFaces(Dataset):
    """``n`` images ``[3, S, S]`` in ``[-1, 1]``: a background, a skin ellipse, two eyes, a mouth and (when
    the first label is set) a hair cap, with their 12-segment masks ``[S, S]`` (long). Deterministic given
    ``seed``; items as ``build_dataset``'s (``image``, ``label``, ``index``, ``name``, ``mask``).

    Labels ``[n_a]`` in {0, 1}: the first column is drawn (has hair), the second is the mouth's size; any
    further ``attributes`` are random labels from a side stream (so the images do not depend on them).
    ``one_hot``: two exclusive classes (``expr_a`` = big mouth, ``expr_b`` = small). ``masks=False``:
    items without masks (the trainer then parses its own).
    """

    def __init__(
        self,
        n: int = 24,
        size: int = 32,
        attributes: Sequence[str] | None = None,
        seed: int = 0,
        masks: bool = True,
        one_hot: bool = False,
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        side = torch.Generator().manual_seed(seed + 10_000)
        self.size, self.flip, self.image_size = size, False, size
        self.names = [f"{seed}_{i:04d}.png" for i in range(n)]
        if one_hot:
            self.attributes = ["expr_a", "expr_b"]
        else:
            self.attributes = list(attributes or DEFAULT_ATTRIBUTES)
        extra = max(0, len(self.attributes) - 2)
        yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
        self.items = []
        for i in range(n):
            hair, big = bool(torch.rand((), generator=g) < 0.5), bool(torch.rand((), generator=g) < 0.5)
            cx, cy = (torch.rand(2, generator=g) - 0.5) * 0.2
            mask = torch.full((size, size), 11, dtype=torch.long)
            mask[((xx - cx) / 0.6) ** 2 + ((yy - cy) / 0.75) ** 2 < 1] = 0
            if hair:
                mask[(((xx - cx) / 0.7) ** 2 + ((yy - cy + 0.2) / 0.75) ** 2 < 1) & (yy < cy - 0.45)] = 10
            for ex in (-0.25, 0.25):
                mask[((xx - cx - ex) ** 2 + (yy - cy + 0.1) ** 2) < 0.012] = 2
            mw = 0.35 if big else 0.15
            mask[((xx - cx).abs() < mw) & ((yy - cy - 0.4).abs() < 0.08)] = 7
            img = torch.zeros(3, size, size)
            for seg, col in COLOURS.items():
                img[:, mask == seg] = torch.tensor(col)[:, None]
            img = (img + 0.08 * torch.randn(3, size, size, generator=g)).clamp(-1, 1)
            if one_hot:
                label = torch.tensor([1.0, 0.0]) if big else torch.tensor([0.0, 1.0])
            else:
                drawn = (torch.rand(extra, generator=side) < 0.5).float()
                label = torch.cat([torch.tensor([float(hair), float(big)]), drawn])[: len(self.attributes)]
            item = {"image": img, "label": label, "index": i, "name": self.names[i]}
            if masks:
                item["mask"] = mask
            self.items.append(item)
        self.labels = torch.stack([it["label"] for it in self.items])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return dict(self.items[i])


def tiny_parser(size: int = 32, seed: int = 123, width: int = 8):
    """A randomly initialised, frozen BiSeNet of ``width`` running at ``size`` px (the real
    :class:`~secgan.auxiliary.parser.FrozenParser`; ``.net`` is the bare network). The global random
    state is left as it was."""
    from secgan.auxiliary.parser import FrozenParser
    from secgan.models.bisenet import BiSeNet

    state = torch.get_rng_state()
    torch.manual_seed(seed)
    parser = FrozenParser(BiSeNet(n_classes=19, base_width=width), input_size=size)
    torch.set_rng_state(state)
    return parser
