"""How a generator runs at inference: its normalisation statistics (paper-notes §10).

The StarGAN generator's InstanceNorm layers have ``track_running_stats=True`` (as in the official code, so
its checkpoints load strictly), but the official code never calls ``eval()``: every published StarGAN
result normalises each image with its *own* statistics (train-mode behaviour), and ``eval()`` would switch
to the running averages and change the outputs. Generators normalised by InstanceNorm therefore run with
per-image statistics, without ever updating the stored running buffers (``norm_stats: "input"``).
Generators whose norms are BatchNorm (AttGAN: the PyTorch port tests in ``eval()`` mode) run in eval mode
with their running statistics (``norm_stats: "running"``). A model card may force either. The editor and
the evaluation both prepare their generators here, so they produce the same outputs.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from secgan.errors import WeightsError

NORM_STATS = ("input", "running")


def _instance_norm_input_stats(
    module: nn.modules.instancenorm._InstanceNorm, x: torch.Tensor
) -> torch.Tensor:
    """InstanceNorm with each image's own statistics; the running buffers are neither used nor updated."""
    return F.instance_norm(x, None, None, module.weight, module.bias, True, 0.0, module.eps)


def use_input_statistics(net: nn.Module) -> int:
    """Make every InstanceNorm of ``net`` normalise with per-image statistics in any mode, leaving the
    stored running buffers untouched (the official StarGAN's train-mode behaviour, paper-notes §10). Returns the
    number of layers changed."""
    n = 0
    for m in net.modules():
        if isinstance(m, nn.modules.instancenorm._InstanceNorm):
            m.forward = functools.partial(_instance_norm_input_stats, m)  # type: ignore[method-assign]
            n += 1
    return n


def default_norm_stats(net: nn.Module) -> str:
    """``"input"`` for generators normalised by InstanceNorm (StarGAN), ``"running"`` otherwise."""
    has_in = any(isinstance(m, nn.modules.instancenorm._InstanceNorm) for m in net.modules())
    return "input" if has_in else "running"


def prepare_generator(g: nn.Module, norm_stats: str | None = None) -> str:
    """Put a generator in inference mode: ``eval()``, frozen parameters, and InstanceNorm layers on
    per-image statistics unless ``norm_stats`` is ``"running"`` (``None``: by the network's norms).
    Returns the mode used. Either way the outputs do not depend on the batch."""
    mode = norm_stats or default_norm_stats(g)
    if mode not in NORM_STATS:
        raise WeightsError(f"model card: unknown norm_stats {mode!r}; valid: {', '.join(NORM_STATS)}")
    g.eval()
    for p in g.parameters():
        p.requires_grad_(False)
    if mode == "input":
        use_input_statistics(g)
    return mode
