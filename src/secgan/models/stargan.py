"""StarGAN generator and critic (paper Table 2; official StarGAN ``model.py``).

The module layout reproduces the official state-dict keys (``main.0`` ... ``main.21`` for G with the
residual blocks at ``main.9``-``main.14``; ``main.{0,2,...,10}``, ``conv1``, ``conv2`` for D), so the
public ``{iter}-G.ckpt`` / ``{iter}-D.ckpt`` files load strictly into the default configuration.

Instance norm: ``affine=True, track_running_stats=True`` as in the official code. The official code never
calls ``eval()``, so its published results use the *per-image* statistics of train mode; ``eval()`` would
switch to the running averages and change the outputs. Inference code that wants the official behaviour
runs the generator in train mode under ``torch.no_grad()`` (the running buffers then keep moving, which
does not affect the outputs of train mode); the buffers exist so official checkpoints load strictly.
"""

from __future__ import annotations

import torch
from torch import nn

from secgan.errors import ConfigError

OUTPUTS = ("tanh", "softmax")


def _norm(ch: int) -> nn.InstanceNorm2d:
    return nn.InstanceNorm2d(ch, affine=True, track_running_stats=True)


def output_activation(output: str) -> nn.Module:
    """The last layer of a generator: ``"tanh"`` (RGB in [-1, 1]) or ``"softmax"`` over channels (masks)."""
    if output == "tanh":
        return nn.Tanh()
    if output == "softmax":
        return nn.Softmax(dim=1)
    raise ConfigError(f"unknown generator output {output!r}; valid: {', '.join(OUTPUTS)}")


def probs_and_log_probs(logits: torch.Tensor, output: str) -> tuple[torch.Tensor, torch.Tensor]:
    """A softmax generator's last pre-activation ``[N, C, H, W]`` -> ``(probs, log_probs)``, both
    ``[N, C, H, W]``: the softmax output and its exact log (``log_softmax``), for losses in log space."""
    if output != "softmax":
        raise ValueError(f"log-probabilities need a softmax generator (output={output!r})")
    return torch.softmax(logits, dim=1), torch.log_softmax(logits, dim=1)


class ResidualBlock(nn.Module):
    """conv3x3-IN-ReLU-conv3x3-IN plus identity; keys ``main.{0,1,3,4}``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=1, bias=False),
            _norm(dim),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, kernel_size=3, stride=1, padding=1, bias=False),
            _norm(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)


class StarGANGenerator(nn.Module):
    """StarGAN generator: ``G(x [N, C_in, H, W], c [N, n_a]) -> [N, C_out, H, W]``.

    The condition is tiled to ``H x W`` and concatenated to the input (``C_in + n_a`` channels in). RGB
    branch: ``in_channels=3, out_channels=3, output="tanh"`` (values in ``[-1, 1]``). Semantic branch:
    ``in_channels=12, out_channels=12, output="softmax"`` (probabilities over the 12 segments).
    ``H`` and ``W`` must be divisible by ``2 ** n_down``.
    """

    family = "stargan_g"

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        n_attrs: int = 13,
        conv_dim: int = 64,
        n_res: int = 6,
        n_down: int = 2,
        output: str = "tanh",
    ) -> None:
        super().__init__()
        self.spec_kwargs = dict(
            in_channels=in_channels,
            out_channels=out_channels,
            n_attrs=n_attrs,
            conv_dim=conv_dim,
            n_res=n_res,
            n_down=n_down,
            output=output,
        )
        self.in_channels, self.n_attrs, self.n_down, self.output = in_channels, n_attrs, n_down, output
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels + n_attrs, conv_dim, kernel_size=7, stride=1, padding=3, bias=False),
            _norm(conv_dim),
            nn.ReLU(inplace=True),
        ]
        dim = conv_dim
        for _ in range(n_down):
            layers += [
                nn.Conv2d(dim, dim * 2, kernel_size=4, stride=2, padding=1, bias=False),
                _norm(dim * 2),
                nn.ReLU(inplace=True),
            ]
            dim *= 2
        layers += [ResidualBlock(dim) for _ in range(n_res)]
        for _ in range(n_down):
            layers += [
                nn.ConvTranspose2d(dim, dim // 2, kernel_size=4, stride=2, padding=1, bias=False),
                _norm(dim // 2),
                nn.ReLU(inplace=True),
            ]
            dim //= 2
        layers += [
            nn.Conv2d(dim, out_channels, kernel_size=7, stride=1, padding=3, bias=False),
            output_activation(output),
        ]
        self.main = nn.Sequential(*layers)

    def forward(
        self, x: torch.Tensor, c: torch.Tensor, with_log_probs: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``x [N, C_in, H, W]``, ``c [N, n_a]`` -> ``[N, C_out, H, W]`` (tanh range or probabilities).

        ``with_log_probs`` (softmax generators): ``(probs, log_probs)``, the log taken exactly from the
        logits (``log_softmax``), so a loss on a tiny probability keeps its gradient."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected x [N, {self.in_channels}, H, W], got {tuple(x.shape)}")
        if c.shape != (x.shape[0], self.n_attrs):
            raise ValueError(f"expected c [{x.shape[0]}, {self.n_attrs}], got {tuple(c.shape)}")
        c_map = c.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        h = torch.cat([x, c_map], dim=1)
        if with_log_probs:
            return probs_and_log_probs(self.main[:-1](h), self.output)
        return self.main(h)


class StarGANDiscriminator(nn.Module):
    """StarGAN critic (PatchGAN): ``D(x [N, C, S, S]) -> (adv [N, 1, S/2^L, S/2^L], cls logits [N, n_a])``.

    ``n_layers`` convs 4x4 stride 2 (``conv_dim * 2^i`` channels, biases on, LeakyReLU 0.01, no norm); the
    adversarial head is a 3x3 conv to 1 channel, the classification head a conv whose kernel covers the
    whole ``S / 2^L`` feature map. The input must be ``image_size`` square.
    """

    family = "stargan_d"

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 128,
        n_attrs: int = 13,
        conv_dim: int = 64,
        n_layers: int = 6,
    ) -> None:
        super().__init__()
        if image_size % (2**n_layers) != 0:
            raise ConfigError(
                f"StarGAN D: image_size {image_size} must be divisible by 2**n_layers = {2**n_layers}"
            )
        self.spec_kwargs = dict(
            in_channels=in_channels,
            image_size=image_size,
            n_attrs=n_attrs,
            conv_dim=conv_dim,
            n_layers=n_layers,
        )
        self.image_size = image_size
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, conv_dim, kernel_size=4, stride=2, padding=1),
            nn.LeakyReLU(0.01),
        ]
        dim = conv_dim
        for _ in range(1, n_layers):
            layers += [nn.Conv2d(dim, dim * 2, kernel_size=4, stride=2, padding=1), nn.LeakyReLU(0.01)]
            dim *= 2
        self.main = nn.Sequential(*layers)
        self.conv1 = nn.Conv2d(dim, 1, kernel_size=3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv2d(dim, n_attrs, kernel_size=image_size // 2**n_layers, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"StarGAN D expects {self.image_size}x{self.image_size} input, got {tuple(x.shape)}"
            )
        h = self.main(x)
        return self.conv1(h), self.conv2(h).flatten(1)
