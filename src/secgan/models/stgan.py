"""STGAN generator and critic (Liu et al., CVPR 2019; the official TensorFlow 1 code, csmliu/STGAN
``models.py`` with the defaults of its ``train.py``).

What was read from the official code (and where it differs from a summary of the paper):

* Encoder ``Genc``: ``n_layers`` conv4x4 stride 2 (``enc_dim * 2^i`` capped at 1024), BatchNorm, LeakyReLU
  0.2 (``tf.nn.leaky_relu``); the conv has no bias (slim drops it under a normaliser). ``multi_inputs=1``:
  no resized copies of the image enter deeper layers.
* Selective transfer units ``Gstu`` (``stu_layers=4, stu_kernel_size=3, stu_norm='none',
  stu_state='stu'``): the state starts as ``concat(deepest feature, a)``; unit ``i`` upsamples the state by
  a transposed conv4x4 stride 2 (with bias) to ``d_i = stu_dim * 2^(n-2-i)`` channels, computes the reset
  and update gates (conv3x3 + sigmoid on ``concat(f_i, state')``), the new state ``r * state'``, the
  candidate ``tanh(conv3x3(concat(f_i, r * state')))`` and the output ``(1 - z) state' + z candidate``. It
  passes the *new state* (``r * state'``, ``pass_state='stu'``) on, and ``a`` is concatenated to the
  state after each of the first ``stu_inject_layers`` units. No normalisation, biases on.
* Decoder ``Gdec``: ``n_layers - 1`` transposed conv4x4 stride 2 (``dec_dim * 2^(n-1-i)`` capped at 1024),
  BatchNorm, ReLU; after the first ``shortcut_layers`` of them the STU output of the same size is
  concatenated, after the first ``inject_layers`` the tiled ``a``; a last transposed conv (with bias) and
  tanh. Defaults: 4 shortcut and 4 injection layers.
* Critic ``D``: ``n_layers`` conv4x4 stride 2 (no bias), InstanceNorm (``tf.contrib.layers.instance_norm``
  defaults: ``center=True, scale=True, epsilon=1e-6``: a learnable scale and shift per channel), LeakyReLU
  0.2; two heads ``FC fc_dim, LeakyReLU 0.2, FC`` (1 and ``n_att`` outputs). The heads use LeakyReLU, where
  AttGAN-PyTorch uses ReLU.
* BatchNorm: ``slim.batch_norm`` with ``scale=True`` (its default is ``False``) and the defaults
  ``center=True, epsilon=1e-3, decay=0.999`` (PyTorch ``momentum=0.001``); tests run in inference mode
  with the moving averages (``is_training=False``).
* Weights: slim's Xavier (Glorot uniform) initialisation, zero biases, BN ``gamma=1, beta=0``.

The layout (fused reset/update gate conv, NCHW flatten before the critic's heads) is ours; the trainable
parameter count equals the official network's (tests/models/test_stgan.py counts it layer by layer).
"""

from __future__ import annotations

import torch
from torch import nn

from secgan.errors import ConfigError
from secgan.models.stargan import output_activation, probs_and_log_probs

BN_EPS, BN_MOMENTUM = 1e-3, 1e-3  # slim.batch_norm: epsilon 0.001, decay 0.999
IN_EPS = 1e-6  # tf.contrib.layers.instance_norm
LRELU_SLOPE = 0.2  # tf.nn.leaky_relu


def _bn(ch: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(ch, eps=BN_EPS, momentum=BN_MOMENTUM)


def _init_like_slim(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every conv / transposed conv / linear layer (slim's)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def _tile(c: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """``c [N, n_a]`` -> ``[N, n_a, H, W]`` with the spatial size of ``like``."""
    return c[:, :, None, None].expand(-1, -1, *like.shape[2:])


class SelectiveTransferUnit(nn.Module):
    """One STU (a ConvGRU-style cell): ``(f [N, C_f, 2H, 2W], state [N, C_s, H, W]) -> (out, new_state)``,
    both ``[N, C_out, 2H, 2W]``. The reset and update gates are one conv with ``2 C_out`` outputs (reset
    first), which has exactly the parameters of the official two convs."""

    def __init__(self, f_ch: int, state_ch: int, out_ch: int, kernel: int = 3) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise ConfigError(f"STGAN: stu_kernel must be odd (SAME padding), got {kernel}")
        self.out_ch = out_ch
        self.upsample = nn.ConvTranspose2d(state_ch, out_ch, 4, stride=2, padding=1)
        self.gates = nn.Conv2d(f_ch + out_ch, 2 * out_ch, kernel, padding=kernel // 2)
        self.info = nn.Conv2d(f_ch + out_ch, out_ch, kernel, padding=kernel // 2)

    def forward(self, f: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.upsample(state)  # [N, C_out, 2H, 2W]
        reset, update = torch.sigmoid(self.gates(torch.cat([f, s], dim=1))).split(self.out_ch, dim=1)
        new_state = reset * s
        info = torch.tanh(self.info(torch.cat([f, new_state], dim=1)))
        return (1 - update) * s + update * info, new_state


class STGANGenerator(nn.Module):
    """STGAN: ``G(x [N, C_in, H, W], c [N, n_a]) -> [N, C_out, H, W]`` (tanh range, or probabilities over
    channels for the semantic branch: ``output="softmax"``). ``H`` and ``W`` must be divisible by
    ``2 ** n_layers``. ``stu_layers`` is at most ``shortcut_layers`` (an STU output nobody reads would be an
    unused parameter); the official default uses 4 of each with ``n_layers = 5``."""

    family = "stgan_g"

    def __init__(
        self,
        in_channels: int = 3,
        out_channels: int = 3,
        n_attrs: int = 13,
        enc_dim: int = 64,
        dec_dim: int = 64,
        n_layers: int = 5,
        shortcut_layers: int = 4,
        inject_layers: int = 4,
        stu_dim: int = 64,
        stu_layers: int = 4,
        stu_inject_layers: int = 4,
        stu_kernel: int = 3,
        max_dim: int = 1024,
        output: str = "tanh",
    ) -> None:
        super().__init__()
        if n_layers < 2:
            raise ConfigError(f"STGAN G: n_layers must be >= 2, got {n_layers}")
        self.spec_kwargs = dict(
            in_channels=in_channels,
            out_channels=out_channels,
            n_attrs=n_attrs,
            enc_dim=enc_dim,
            dec_dim=dec_dim,
            n_layers=n_layers,
            shortcut_layers=shortcut_layers,
            inject_layers=inject_layers,
            stu_dim=stu_dim,
            stu_layers=stu_layers,
            stu_inject_layers=stu_inject_layers,
            stu_kernel=stu_kernel,
            max_dim=max_dim,
            output=output,
        )
        self.in_channels, self.n_attrs, self.n_layers, self.output = in_channels, n_attrs, n_layers, output
        self.shortcut_layers = min(shortcut_layers, n_layers - 1)
        self.inject_layers = min(inject_layers, n_layers - 1)
        self.stu_layers = min(stu_layers, self.shortcut_layers)
        self.stu_inject_layers = stu_inject_layers

        enc_ch = [min(enc_dim * 2**i, max_dim) for i in range(n_layers)]
        self.enc_layers = nn.ModuleList()
        n_in = in_channels
        for ch in enc_ch:
            conv = nn.Conv2d(n_in, ch, 4, stride=2, padding=1, bias=False)
            self.enc_layers.append(nn.Sequential(conv, _bn(ch), nn.LeakyReLU(LRELU_SLOPE)))
            n_in = ch

        # skip feature i of the decoder is encoder level n-2-i; the first stu_layers go through an STU
        skip_ch = [enc_ch[n_layers - 2 - i] for i in range(n_layers - 1)]
        self.stus = nn.ModuleList()
        state_ch = enc_ch[-1] + n_attrs
        for i in range(self.stu_layers):
            d = min(stu_dim * 2 ** (n_layers - 2 - i), max_dim)
            self.stus.append(SelectiveTransferUnit(skip_ch[i], state_ch, d, stu_kernel))
            skip_ch[i] = d
            state_ch = d + (n_attrs if i < stu_inject_layers else 0)

        self.dec_layers = nn.ModuleList()
        n_in = enc_ch[-1] + n_attrs
        for i in range(n_layers - 1):
            n_out = min(dec_dim * 2 ** (n_layers - 1 - i), max_dim)
            conv = nn.ConvTranspose2d(n_in, n_out, 4, stride=2, padding=1, bias=False)
            self.dec_layers.append(nn.Sequential(conv, _bn(n_out), nn.ReLU()))
            n_in = n_out + (skip_ch[i] if i < self.shortcut_layers else 0)
            n_in += n_attrs if i < self.inject_layers else 0
        self.last = nn.ConvTranspose2d(n_in, out_channels, 4, stride=2, padding=1)
        self.out_act = output_activation(output)
        _init_like_slim(self)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``x [N, C_in, H, W]`` -> encoder features, ``i``-th ``[N, C_i, H / 2^(i+1), W / 2^(i+1)]``."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"expected x [N, {self.in_channels}, H, W], got {tuple(x.shape)}")
        zs = []
        for layer in self.enc_layers:
            x = layer(x)
            zs.append(x)
        return zs

    def transfer(self, zs: list[torch.Tensor], c: torch.Tensor) -> list[torch.Tensor]:
        """The decoder's skip features, deepest first: ``zs[n-2-i]`` through STU ``i`` for the first
        ``stu_layers``, the encoder feature itself beyond."""
        skips = [zs[self.n_layers - 2 - i] for i in range(self.n_layers - 1)]
        state = torch.cat([zs[-1], _tile(c, zs[-1])], dim=1)
        for i, stu in enumerate(self.stus):
            skips[i], state = stu(skips[i], state)
            if i < self.stu_inject_layers:
                state = torch.cat([state, _tile(c, state)], dim=1)
        return skips

    def forward(
        self, x: torch.Tensor, c: torch.Tensor, with_log_probs: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """``x [N, C_in, H, W]``, ``c [N, n_a]`` (the difference label) -> ``[N, C_out, H, W]``;
        ``with_log_probs`` (softmax generators): ``(probs, log_probs)``, the log exact from the logits."""
        if c.shape != (x.shape[0], self.n_attrs):
            raise ValueError(f"expected c [{x.shape[0]}, {self.n_attrs}], got {tuple(c.shape)}")
        zs = self.encode(x)
        c = c.to(zs[-1].dtype)
        skips = self.transfer(zs, c)
        z = torch.cat([zs[-1], _tile(c, zs[-1])], dim=1)
        for i, layer in enumerate(self.dec_layers):
            z = layer(z)
            if i < self.shortcut_layers:
                z = torch.cat([z, skips[i]], dim=1)
            if i < self.inject_layers:
                z = torch.cat([z, _tile(c, z)], dim=1)
        logits = self.last(z)
        if with_log_probs:
            return probs_and_log_probs(logits, self.output)
        return self.out_act(logits)


class STGANDiscriminator(nn.Module):
    """STGAN critic: ``D(x [N, C, S, S]) -> (adv [N, 1], cls logits [N, n_a])``; the input must be
    ``image_size`` square, divisible by ``2 ** n_layers``."""

    family = "stgan_d"

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
                f"STGAN D: image_size {image_size} must be divisible by 2**n_layers = {2**n_layers}"
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
        blocks: list[nn.Module] = []
        n_in = in_channels
        for i in range(n_layers):
            n_out = min(dim * 2**i, max_dim)
            blocks += [
                nn.Conv2d(n_in, n_out, 4, stride=2, padding=1, bias=False),
                nn.InstanceNorm2d(n_out, affine=True, eps=IN_EPS),
                nn.LeakyReLU(LRELU_SLOPE),
            ]
            n_in = n_out
        self.conv = nn.Sequential(*blocks)
        flat = n_in * (image_size // 2**n_layers) ** 2
        self.fc_adv = nn.Sequential(nn.Linear(flat, fc_dim), nn.LeakyReLU(LRELU_SLOPE), nn.Linear(fc_dim, 1))
        self.fc_cls = nn.Sequential(
            nn.Linear(flat, fc_dim), nn.LeakyReLU(LRELU_SLOPE), nn.Linear(fc_dim, n_attrs)
        )
        _init_like_slim(self)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"STGAN D expects {self.image_size}x{self.image_size} input, got {tuple(x.shape)}"
            )
        h = self.conv(x).flatten(1)
        return self.fc_adv(h), self.fc_cls(h)
