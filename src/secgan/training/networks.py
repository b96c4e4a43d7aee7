"""The four networks of a run (G_rgb, D_rgb and, in secgan mode, G_seg, D_seg) built from the config."""

from __future__ import annotations

from torch import nn

from secgan.config import Config
from secgan.data.attributes import PAPER_ATTRIBUTES, RAFD_EXPRESSIONS
from secgan.data.masks import NUM_SEGMENTS
from secgan.models.attgan import AttGANDiscriminator, AttGANGenerator
from secgan.models.stargan import StarGANDiscriminator, StarGANGenerator

NETWORK_NAMES = ("G_rgb", "D_rgb", "G_seg", "D_seg")


def config_attributes(cfg: Config) -> list[str]:
    """The label names a config trains on without reading any data: ``data.attributes`` or the dataset's
    default (RaFD: the 8 expressions; otherwise the paper's 13)."""
    if cfg.data.attributes:
        return list(cfg.data.attributes)
    if cfg.data.dataset == "rafd":
        return list(RAFD_EXPRESSIONS)
    return list(PAPER_ATTRIBUTES)


def _generator(cfg: Config, in_ch: int, out_ch: int, n_attrs: int, output: str) -> nn.Module:
    m = cfg.model
    if m.backbone == "stargan":
        return StarGANGenerator(
            in_channels=in_ch,
            out_channels=out_ch,
            n_attrs=n_attrs,
            conv_dim=m.g_conv_dim,
            n_res=m.g_n_res,
            n_down=m.g_n_down,
            output=output,
        )
    return AttGANGenerator(
        in_channels=in_ch,
        out_channels=out_ch,
        n_attrs=n_attrs,
        enc_dim=m.g_conv_dim,
        dec_dim=m.g_conv_dim,
        n_layers=m.g_n_layers,
        shortcut_layers=m.g_shortcut_layers,
        inject_layers=m.g_inject_layers,
        max_dim=m.g_max_dim,
        output=output,
    )


def _discriminator(cfg: Config, in_ch: int, n_attrs: int) -> nn.Module:
    m = cfg.model
    size = cfg.data.image_size
    if m.backbone == "stargan":
        return StarGANDiscriminator(
            in_channels=in_ch, image_size=size, n_attrs=n_attrs, conv_dim=m.d_conv_dim, n_layers=m.d_n_layers
        )
    return AttGANDiscriminator(
        in_channels=in_ch,
        image_size=size,
        n_attrs=n_attrs,
        dim=m.d_conv_dim,
        n_layers=m.d_n_layers,
        fc_dim=m.d_fc_dim,
        max_dim=m.d_max_dim,
    )


def build_networks(cfg: Config, n_attrs: int | None = None) -> dict[str, nn.Module]:
    """``{"G_rgb", "D_rgb"}`` plus ``{"G_seg", "D_seg"}`` in secgan mode.

    G_rgb maps RGB ``[N, 3, S, S]`` (concat mode: ``[N, 3 + 12, S, S]``, the image and the one-hot source
    mask) to RGB in ``[-1, 1]``; G_seg maps one-hot masks ``[N, 12, S, S]`` to probabilities over the 12
    segments; the critics take ``[N, 3, S, S]`` / ``[N, 12, S, S]``.
    """
    n_attrs = n_attrs if n_attrs is not None else len(config_attributes(cfg))
    rgb_in = 3 + (NUM_SEGMENTS if cfg.model.mode == "concat" else 0)
    nets = {
        "G_rgb": _generator(cfg, rgb_in, 3, n_attrs, "tanh"),
        "D_rgb": _discriminator(cfg, 3, n_attrs),
    }
    if cfg.model.mode == "secgan":
        nets["G_seg"] = _generator(cfg, NUM_SEGMENTS, NUM_SEGMENTS, n_attrs, "softmax")
        nets["D_seg"] = _discriminator(cfg, NUM_SEGMENTS, n_attrs)
    return nets


def parameter_counts(nets: dict[str, nn.Module]) -> dict[str, int]:
    """Parameters of each of the four networks (0 for a network the mode does not use)."""
    return {
        name: sum(p.numel() for p in nets[name].parameters()) if name in nets else 0 for name in NETWORK_NAMES
    }
