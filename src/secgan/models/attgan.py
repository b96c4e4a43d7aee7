"""AttGAN generator and critic (paper Table 3; the PyTorch AttGAN port).

The module layout reproduces the port's state-dict keys (``enc_layers.{i}.layers.{0,1}.*``,
``dec_layers.{i}.layers.{0,1}.*`` for G; ``conv.{i}.layers.{0,1}.*``, ``fc_adv.{0,1}.layers.0.*``,
``fc_cls.{0,1}.layers.0.*`` for D), so its ``weights.{epoch}.pth`` generators load strictly into the
default configuration. As in the port, LeakyReLU uses PyTorch's default slope 0.01 (the TensorFlow
original used 0.2).
"""

from __future__ import annotations

import torch
from torch import nn

from secgan.errors import ConfigError
from secgan.models.stargan import output_activation, probs_and_log_probs


class _ConvBlock(nn.Module):
    """``layers = Sequential(conv, [norm], [activation])``; the conv has a bias only without a norm."""

    def __init__(self, conv: nn.Module, norm: nn.Module | None, act: nn.Module | None) -> None:
        super().__init__()
        self.layers = nn.Sequential(*[m for m in (conv, norm, act) if m is not None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def _enc_block(n_in: int, n_out: int, norm: str) -> _ConvBlock:
    conv = nn.Conv2d(n_in, n_out, 4, stride=2, padding=1, bias=False)
    norm_layer = nn.BatchNorm2d(n_out) if norm == "batch" else nn.InstanceNorm2d(n_out, affine=True)
    return _ConvBlock(conv, norm_layer, nn.LeakyReLU(0.01))


class AttGANGenerator(nn.Module):
    """AttGAN encoder-decoder: ``G(x [N, C_in, H, W], c [N, n_a]) -> [N, C_out, H, W]``.

    Encoder: ``n_layers`` conv4x4 stride 2 (``enc_dim * 2^i`` channels capped at ``max_dim``), BN,
    LeakyReLU. The tiled condition is concatenated at the bottleneck (``H / 2^n_layers``). Decoder:
    ``n_layers - 1`` transposed conv4x4 stride 2 (``dec_dim * 2^(n-1-i)`` capped at ``max_dim``), BN, ReLU;
    after the first ``shortcut_layers`` of them the encoder feature of the same size is concatenated, after
    the first ``inject_layers`` the tiled condition again; a last transposed conv (with bias) gives
    ``C_out`` channels followed by tanh (``[-1, 1]``) or a softmax over channels (12-segment masks).
    ``H`` and ``W`` must be divisible by ``2 ** n_layers``.
    """

    family = "attgan_g"

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        n_attrs: int = 13,
        enc_dim: int = 64,
        dec_dim: int = 64,
        n_layers: int = 5,
        shortcut_layers: int = 1,
        inject_layers: int = 1,
        max_dim: int = 1024,
        output: str = "tanh",
    ) -> None:
        super().__init__()
        if n_layers < 2:
            raise ConfigError(f"AttGAN G: n_layers must be >= 2, got {n_layers}")
        self.spec_kwargs = dict(
            in_channels=in_channels,
            out_channels=out_channels,
            n_attrs=n_attrs,
            enc_dim=enc_dim,
            dec_dim=dec_dim,
            n_layers=n_layers,
            shortcut_layers=shortcut_layers,
            inject_layers=inject_layers,
            max_dim=max_dim,
            output=output,
        )
        self.in_channels, self.n_attrs, self.n_layers, self.output = in_channels, n_attrs, n_layers, output
        self.shortcut_layers = min(shortcut_layers, n_layers - 1)
        self.inject_layers = min(inject_layers, n_layers - 1)

        enc_ch = [min(enc_dim * 2**i, max_dim) for i in range(n_layers)]
        n_in = in_channels
        self.enc_layers = nn.ModuleList()
        for ch in enc_ch:
            self.enc_layers.append(_enc_block(n_in, ch, "batch"))
            n_in = ch

        n_in = enc_ch[-1] + n_attrs
        self.dec_layers = nn.ModuleList()
        for i in range(n_layers - 1):
            n_out = min(dec_dim * 2 ** (n_layers - i - 1), max_dim)
            conv = nn.ConvTranspose2d(n_in, n_out, 4, stride=2, padding=1, bias=False)
            self.dec_layers.append(_ConvBlock(conv, nn.BatchNorm2d(n_out), nn.ReLU()))
            n_in = n_out
            if i < self.shortcut_layers:
                n_in += enc_ch[n_layers - 2 - i]
            if i < self.inject_layers:
                n_in += n_attrs
        last = nn.ConvTranspose2d(n_in, out_channels, 4, stride=2, padding=1, bias=True)
        self.dec_layers.append(_ConvBlock(last, None, output_activation(output)))

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``x [N, C_in, H, W]`` -> encoder features, ``i``-th ``[N, C_i, H / 2^(i+1), W / 2^(i+1)]``."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected x [N, {self.in_channels}, H, W], got {tuple(x.shape)}")
        zs = []
        z = x
        for layer in self.enc_layers:
            z = layer(z)
            zs.append(z)
        return zs

    def decode(
        self, zs: list[torch.Tensor], c: torch.Tensor, with_log_probs: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Encoder features + condition ``c [N, n_a]`` -> output ``[N, C_out, H, W]`` (``with_log_probs``:
        ``(probs, log_probs)`` of a softmax generator, see :meth:`forward`)."""
        if c.shape != (zs[-1].shape[0], self.n_attrs):
            raise ValueError(f"expected c [{zs[-1].shape[0]}, {self.n_attrs}], got {tuple(c.shape)}")
        c4 = c.to(zs[-1].dtype)[:, :, None, None]
        z = torch.cat([zs[-1], c4.expand(-1, -1, *zs[-1].shape[2:])], dim=1)
        last = len(self.dec_layers) - 1
        for i, layer in enumerate(self.dec_layers):
            if i == last and with_log_probs:  # the last conv without its softmax: the logits
                return probs_and_log_probs(layer.layers[0](z), self.output)
            z = layer(z)
            if i < self.shortcut_layers:
                z = torch.cat([z, zs[self.n_layers - 2 - i]], dim=1)
            if i < self.inject_layers:
                z = torch.cat([z, c4.expand(-1, -1, *z.shape[2:])], dim=1)
        return z

    def forward(
        self, x: torch.Tensor, c: torch.Tensor, with_log_probs: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``x [N, C_in, H, W]``, ``c [N, n_a]`` -> ``[N, C_out, H, W]``; ``with_log_probs`` (softmax
        generators): ``(probs, log_probs)``, the log exact from the logits (``log_softmax``)."""
        return self.decode(self.encode(x), c, with_log_probs)


class AttGANDiscriminator(nn.Module):
    """AttGAN critic: ``D(x [N, C, S, S]) -> (adv [N, 1], cls logits [N, n_a])``.

    ``n_layers`` conv4x4 stride 2 (``dim * 2^i`` capped at ``max_dim``), InstanceNorm (affine), LeakyReLU;
    flatten; two heads ``FC fc_dim, ReLU, FC`` (adversarial: 1 output, classification: ``n_a``).
    """

    family = "attgan_d"

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 128,
        n_attrs: int = 13,
        dim: int = 64,
        n_layers: int = 5,
        fc_dim: int = 1024,
        max_dim: int = 1024,
    ) -> None:
        super().__init__()
        if image_size % (2**n_layers) != 0:
            raise ConfigError(
                f"AttGAN D: image_size {image_size} must be divisible by 2**n_layers = {2**n_layers}"
            )
        self.spec_kwargs = dict(
            in_channels=in_channels,
            image_size=image_size,
            n_attrs=n_attrs,
            dim=dim,
            n_layers=n_layers,
            fc_dim=fc_dim,
            max_dim=max_dim,
        )
        self.image_size = image_size
        blocks = []
        n_in = in_channels
        for i in range(n_layers):
            n_out = min(dim * 2**i, max_dim)
            blocks.append(_enc_block(n_in, n_out, "instance"))
            n_in = n_out
        self.conv = nn.Sequential(*blocks)
        flat = n_in * (image_size // 2**n_layers) ** 2
        self.fc_adv = nn.Sequential(
            _ConvBlock(nn.Linear(flat, fc_dim), None, nn.ReLU()), _ConvBlock(nn.Linear(fc_dim, 1), None, None)
        )
        self.fc_cls = nn.Sequential(
            _ConvBlock(nn.Linear(flat, fc_dim), None, nn.ReLU()),
            _ConvBlock(nn.Linear(fc_dim, n_attrs), None, None),
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"AttGAN D expects {self.image_size}x{self.image_size} input, got {tuple(x.shape)}"
            )
        h = self.conv(x).flatten(1)
        return self.fc_adv(h), self.fc_cls(h)
