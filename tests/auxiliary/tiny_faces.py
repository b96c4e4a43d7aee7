"""A tiny in-memory face-like dataset with the item format of ``build_dataset`` (for trainer tests)."""

from __future__ import annotations

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


class TinyFaces(Dataset):
    """``n`` images ``[3, S, S]`` in ``[-1, 1]``: a background, a skin ellipse, two eyes, a mouth and
    (for label 0 = "dark hair" set) a hair cap. Labels ``[2]``: (has hair, big mouth). Masks: 12-segment
    ids. Deterministic given ``seed``."""

    def __init__(self, n: int = 24, size: int = 32, seed: int = 0, one_hot: bool = False) -> None:
        g = torch.Generator().manual_seed(seed)
        self.size, self.flip, self.image_size = size, False, size
        self.names = [f"{seed}_{i:04d}.png" for i in range(n)]
        self.attributes = ["expr_a", "expr_b"] if one_hot else ["Has_Hair", "Big_Mouth"]
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
            label = torch.tensor([float(hair), float(big)])
            if one_hot:
                label = torch.tensor([1.0, 0.0]) if big else torch.tensor([0.0, 1.0])
            self.items.append({"image": img, "label": label, "index": i, "name": self.names[i], "mask": mask})
        self.labels = torch.stack([it["label"] for it in self.items])

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict:
        return dict(self.items[i])
