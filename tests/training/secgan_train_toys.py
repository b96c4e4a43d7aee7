"""Tiny in-memory data, parser and configs for the trainer tests (CPU, a few seconds)."""

from __future__ import annotations

import torch
from torch.utils.data import Dataset

from secgan.config import Config, apply_overrides, load_config
from secgan.data.attributes import PAPER_ATTRIBUTES

ATTRS = PAPER_ATTRIBUTES[:4]  # Bald, Bangs, Black_Hair, Blond_Hair


class ToyFaces(Dataset):
    """``n`` random images ``[3, S, S]`` in [-1, 1] with random labels and 12-segment masks."""

    def __init__(
        self, n: int = 24, size: int = 32, attributes=ATTRS, seed: int = 0, masks: bool = True
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        self.attributes = list(attributes)
        self.images = torch.rand(n, 3, size, size, generator=g) * 2 - 1
        self._labels = (torch.rand(n, len(self.attributes), generator=g) > 0.5).float()
        self.masks = torch.randint(0, 12, (n, size, size), generator=g) if masks else None
        self.names = [f"{i:06d}.jpg" for i in range(n)]

    @property
    def labels(self) -> torch.Tensor:
        return self._labels

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> dict:
        item = {"image": self.images[i], "label": self._labels[i], "index": i, "name": self.names[i]}
        if self.masks is not None:
            item["mask"] = self.masks[i]
        return item


def tiny_parser(size: int = 32, seed: int = 123):
    """A randomly initialised, frozen BiSeNet of width 8 (the real FrozenParser wrapper)."""
    from secgan.auxiliary.parser import FrozenParser
    from secgan.models.bisenet import BiSeNet

    state = torch.get_rng_state()
    torch.manual_seed(seed)
    p = FrozenParser(BiSeNet(base_width=8), input_size=size)
    torch.set_rng_state(state)
    return p


def tiny_config(backbone: str = "stargan", mode: str = "secgan", *extra: str) -> Config:
    """32-px networks of width 8, batch 4, G every 2 steps, logging every step."""
    base = load_config(f"synthetic-{backbone}-64-{mode}")
    common = [
        "data.image_size=32",
        "data.attributes=" + ",".join(ATTRS),
        "data.num_workers=0",
        "model.g_conv_dim=8",
        "model.d_conv_dim=8",
        "model.d_n_layers=3",
        "train.batch_size=4",
        "train.n_critic=2",
        "train.iterations=6",
        "train.decay_start=3",
        "log.log_every=1",
        "log.sample_every=1000",
        "log.checkpoint_every=1000",
        "log.n_samples=2",
        "log.tensorboard=false",
    ]
    if backbone == "stargan":
        common += ["model.g_n_res=1"]
    else:
        common += ["model.g_n_layers=3", "model.g_max_dim=32", "model.d_fc_dim=16", "model.d_max_dim=32"]
    return apply_overrides(base, [*common, *extra])
