"""The four networks of a run (G_rgb, D_rgb and, in secgan mode, G_seg, D_seg) built from the config through
the backbone table (:mod:`secgan.models.backbones`)."""

from __future__ import annotations

from torch import nn

from secgan.config import Config
from secgan.data.masks import NUM_SEGMENTS
from secgan.data.registry import get_dataset
from secgan.models.backbones import get_backbone

NETWORK_NAMES = ("G_rgb", "D_rgb", "G_seg", "D_seg")


def config_attributes(cfg: Config) -> list[str]:
    """The label names a config trains on without reading any data: ``data.attributes`` or the dataset's
    default from its entry in the dataset table (RaFD: the 8 expressions; otherwise the paper's 13)."""
    if cfg.data.attributes:
        return list(cfg.data.attributes)
    return list(get_dataset(cfg.data.dataset, "data.dataset").default_attributes)


def build_networks(cfg: Config, n_attrs: int | None = None) -> dict[str, nn.Module]:
    """``{"G_rgb", "D_rgb"}`` plus ``{"G_seg", "D_seg"}`` in secgan mode.

    G_rgb maps RGB ``[N, 3, S, S]`` (concat mode: ``[N, 3 + 12, S, S]``, the image and the one-hot source
    mask) to RGB in ``[-1, 1]``; G_seg maps one-hot masks ``[N, 12, S, S]`` to probabilities over the 12
    segments; the critics take ``[N, 3, S, S]`` / ``[N, 12, S, S]``.
    """
    n_attrs = n_attrs if n_attrs is not None else len(config_attributes(cfg))
    m, size = cfg.model, cfg.data.image_size
    backbone = get_backbone(m.backbone)  # the backbone table: one line naming the valid choices if unknown
    rgb_in = 3 + (NUM_SEGMENTS if m.mode == "concat" else 0)
    nets = {
        "G_rgb": backbone.build_g(m, n_attrs, in_channels=rgb_in),
        "D_rgb": backbone.build_d(m, size, n_attrs),
    }
    if m.mode == "secgan":
        nets["G_seg"] = backbone.build_g_seg(m, n_attrs, NUM_SEGMENTS)
        nets["D_seg"] = backbone.build_d_seg(m, size, n_attrs, NUM_SEGMENTS)
    return nets


def parameter_counts(nets: dict[str, nn.Module]) -> dict[str, int]:
    """Parameters of each of the four networks (0 for a network the mode does not use)."""
    return {
        name: sum(p.numel() for p in nets[name].parameters()) if name in nets else 0 for name in NETWORK_NAMES
    }
