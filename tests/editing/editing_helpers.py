"""Tiny model folders for the editing tests (freshly initialised networks at small widths and sizes)."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.models.attgan import AttGANGenerator
from secgan.models.bisenet import BiSeNet
from secgan.models.classifier import AttributeClassifier
from secgan.models.export import save_pretrained
from secgan.models.stargan import StarGANGenerator
from tiny_fixtures import tiny_parser as shared_tiny_parser


def tiny_stargan(n_attrs: int = 13, in_channels: int = 3, seed: int = 0) -> StarGANGenerator:
    torch.manual_seed(seed)
    G = StarGANGenerator(in_channels=in_channels, n_attrs=n_attrs, conv_dim=8, n_res=1, n_down=2)
    _randomise_norms(G, seed)
    return G


def tiny_attgan(n_attrs: int = 13, seed: int = 0) -> AttGANGenerator:
    torch.manual_seed(seed)
    G = AttGANGenerator(n_attrs=n_attrs, enc_dim=4, dec_dim=4, n_layers=3, max_dim=16)
    _randomise_norms(G, seed)
    return G


def _randomise_norms(net: torch.nn.Module, seed: int) -> None:
    """Non-trivial affine parameters and running statistics, so that train/eval differences show."""
    g = torch.Generator().manual_seed(seed + 1)
    for m in net.modules():
        if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.InstanceNorm2d)):
            if m.affine:
                m.weight.data = 1 + 0.2 * torch.randn(m.weight.shape, generator=g)
                m.bias.data = 0.2 * torch.randn(m.bias.shape, generator=g)
            if m.track_running_stats:
                m.running_mean.data = 0.3 * torch.randn(m.running_mean.shape, generator=g)
                m.running_var.data = 0.5 + torch.rand(m.running_var.shape, generator=g)


def tiny_classifier(n_outputs: int = 13, size: int = 32) -> AttributeClassifier:
    torch.manual_seed(1)
    return AttributeClassifier(n_outputs=n_outputs, image_size=size, widths=(4, 4, 4, 4, 4), fc_dim=8).eval()


def tiny_parser_net() -> BiSeNet:
    """The bare network of the suite's tiny parser (a model folder stores the network, not the wrapper)."""
    return shared_tiny_parser(seed=2, width=4).net.eval()


def make_model_dir(
    path: Path,
    backbone: str = "stargan",
    size: int = 32,
    attributes: list[str] | None = None,
    conditioning: str = "diff",
    classifier: bool = False,
    parser: bool = False,
    needs_mask: bool = False,
    seed: int = 0,
) -> Path:
    """Write an exported model folder with a fresh generator (and optionally classifier / parser)."""
    attrs = list(attributes or PAPER_ATTRIBUTES)
    if backbone == "stargan":
        G = tiny_stargan(len(attrs), in_channels=15 if needs_mask else 3, seed=seed)
    else:
        G = tiny_attgan(len(attrs), seed=seed)
    nets = {"G": G}
    meta = {
        "attributes": attrs,
        "conditioning": conditioning,
        "target_scale": 0.5,
        "image_size": size,
        "dataset": "synthetic",
        "backbone": backbone,
        "mode": "concat" if needs_mask else "baseline",
        "needs_mask": needs_mask,
    }
    if classifier:
        nets["classifier"] = tiny_classifier(len(attrs), size)
    if parser:
        nets["parser"] = tiny_parser_net()
        meta["parser"] = {"input_size": size}
    return save_pretrained(path, nets, meta)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def served_model(tmp: Path, model_kwargs: dict, **serve_kwargs) -> Iterator[tuple[int, Path]]:
    """``secgan serve`` of a tiny StarGAN model folder (``make_model_dir(tmp / "M", "stargan", size=32,
    **model_kwargs)``) on a free port, caches under ``tmp / "cache"``; yields ``(port, model_dir)``."""
    from secgan.app.web import serve

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp / "cache"))  # example faces and uploads are kept here
        mp.setenv("GRADIO_TEMP_DIR", "")  # unset for serve(); restored afterwards
        model = make_model_dir(tmp / "M", "stargan", size=32, **model_kwargs)
        port = free_port()
        demo = serve(model, port=port, block=False, **serve_kwargs)
        try:
            yield port, model
        finally:
            demo.close()
