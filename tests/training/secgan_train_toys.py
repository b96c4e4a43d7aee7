"""Configs for the trainer tests (CPU, a few seconds), over the suite's shared tiny faces and parser."""

from __future__ import annotations

from secgan.config import Config, apply_overrides, load_config
from secgan.data.attributes import PAPER_ATTRIBUTES
from tiny_fixtures import TinyFaces, tiny_parser

__all__ = ["ATTRS", "ToyFaces", "tiny_config", "tiny_parser"]

ATTRS = PAPER_ATTRIBUTES[:4]  # Bald, Bangs, Black_Hair, Blond_Hair


def ToyFaces(n: int = 24, size: int = 32, attributes=ATTRS, seed: int = 0, masks: bool = True) -> TinyFaces:  # noqa: N802
    """The shared :class:`tiny_fixtures.TinyFaces` labelled with the trainer tests' four attributes."""
    return TinyFaces(n=n, size=size, attributes=attributes, seed=seed, masks=masks)


def tiny_config(backbone: str = "stargan", mode: str = "secgan", *extra: str) -> Config:
    """32-px networks of width 8, batch 4, G every 2 steps, float32, logging every step (pinned here, so the
    tests do not follow the synthetic presets' recipe)."""
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
        "train.amp=false",
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
