"""The SeCGAN objective (paper eqs. 1-16) as free functions over one step's :class:`Batch`.

In the manner of stargan-v2's ``compute_d_loss`` / ``compute_g_loss``: each function takes the networks'
forward callables and the batch and returns ``(loss, stats)``; the trainer owns the optimizers, the
gradient exchange between processes and the order of the updates (:mod:`secgan.training.trainer`).
Every ``stats`` value is a detached 0-d tensor, keyed without the network prefix (``adv``, ``cls``,
``gp``, ``rec``, ``sc``, ``loss``...).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from secgan import losses as L
from secgan.config import LossConfig

Stats = dict[str, torch.Tensor]
Forward = Callable[..., torch.Tensor | tuple[torch.Tensor, torch.Tensor]]


@dataclass
class Batch:
    """One step's local mini-batch on the device, with the step's randomness drawn.

    ``x [n, 3, S, S]`` in [-1, 1]; ``y_src`` / ``y_trg [n, n_a]`` in {0, 1}; ``c`` / ``c0 [n, n_a]`` the
    edit and reconstruction conditions; ``alpha_rgb`` / ``alpha_seg [n]`` the gradient-penalty weights;
    ``s_lab [n, S, S]`` long and ``s_in [n, 12, S, S]`` one-hot source masks (concat and secgan modes);
    ``g_in`` G_rgb's input (``x``, or ``concat(x, s_in)`` ``[n, 15, S, S]`` in concat mode).
    """

    x: torch.Tensor
    y_src: torch.Tensor
    y_trg: torch.Tensor
    c: torch.Tensor
    c0: torch.Tensor
    alpha_rgb: torch.Tensor
    g_in: torch.Tensor
    alpha_seg: torch.Tensor | None = None
    s_lab: torch.Tensor | None = None
    s_in: torch.Tensor | None = None


@dataclass(frozen=True)
class Precision:
    """Mixed precision of the step: bfloat16 autocast for the forward passes when ``amp``, float32 for the
    gradient penalty (its double backward)."""

    device_type: str
    amp: bool = False

    def autocast(self) -> contextlib.AbstractContextManager:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=torch.bfloat16)

    def fp32(self) -> contextlib.AbstractContextManager:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device_type, enabled=False)


def native_bf16(device_type: str) -> bool:
    """Whether bf16 has native kernels on this device: always on CUDA; on a CPU only with AVX512-BF16 or
    AMX (elsewhere oneDNN emulates it, and bf16 convolutions with few channels run several times slower
    than float32: docs/speed.md)."""
    if device_type != "cpu":
        return True
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def float32_pass(fn: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[torch.Tensor], torch.Tensor]:
    """``fn`` run in float32 with autocast off, its input ``[N, C, H, W]`` cast up (the gradient flows back
    to the bf16 input): the frozen parser's pass on G_rgb's output where bf16 is not native. The same
    function evaluated more exactly; its output is float32 either way."""

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type=x.device.type, enabled=False):
            return fn(x.float())

    return run


def requires_grad(module: torch.nn.Module | None, flag: bool) -> None:
    """Switch the parameter gradients of ``module`` (``None``: nothing) on or off."""
    if module is not None:
        for p in module.parameters():
            p.requires_grad_(flag)


def prefixed(prefix: str, stats: Stats) -> Stats:
    """``stats`` keyed ``prefix/name`` (the network's name)."""
    return {f"{prefix}/{k}": v for k, v in stats.items()}


def all_finite(stats: Stats) -> bool:
    """Whether every statistic of a step is finite: one host synchronisation for all of them."""
    if not stats:
        return True
    return bool(torch.isfinite(torch.stack([v.float() for v in stats.values()])).all())


def cls_loss(logits: torch.Tensor, target: torch.Tensor, lc: LossConfig) -> tuple[torch.Tensor, Stats]:
    """The attribute-classification loss of the config (eqs. 3, 4)."""
    return L.cls_loss(logits, target, lc.cls_loss, lc.cls_reduction)


def critic_loss(
    critic: Forward,
    critic_eager: torch.nn.Module,
    real: torch.Tensor,
    fake: torch.Tensor,
    y_src: torch.Tensor,
    alpha: torch.Tensor,
    lc: LossConfig,
    precision: Precision,
) -> tuple[torch.Tensor, Stats]:
    """A critic's loss (eq. 13 for D_rgb, eq. 15 for D_seg): WGAN-GP + classification of the real images.

    ``critic`` runs the adversarial and classification passes (possibly compiled); ``critic_eager`` the
    gradient penalty (its double backward needs the eager module). ``real`` / ``fake [n, C, S, S]``
    (``fake`` is detached here); ``alpha [n]`` the interpolation weights.
    """
    n = real.shape[0]
    with precision.autocast():
        adv, cls = critic(torch.cat([real, fake.detach()]))
    loss_adv, stats_adv = L.d_adv_loss(adv[:n], adv[n:])
    loss_cls, stats_cls = cls_loss(cls[:n], y_src, lc)
    with precision.fp32():
        loss_gp, stats_gp = L.gradient_penalty(lambda z: critic_eager(z)[0], real, fake, alpha)
    loss = loss_adv + lc.lambda_cls_d * loss_cls + lc.lambda_gp * loss_gp
    return loss, {**stats_adv, **stats_cls, **stats_gp, "loss": loss.detach().float()}


def generator_losses(
    fwd: Mapping[str, Forward],
    batch: Batch,
    x_fake: torch.Tensor,
    s_fake: torch.Tensor | None,
    lc: LossConfig,
    precision: Precision,
    parser_log_probs: Callable[[torch.Tensor], torch.Tensor] | None = None,
    s_fake_log: torch.Tensor | None = None,
) -> tuple[torch.Tensor, Stats, torch.Tensor | None, Stats]:
    """The generator objectives of the step (eqs. 14 and 16) on the same mini-batch.

    ``fwd`` holds the forward callables ``G_rgb``, ``D_rgb`` and, in secgan mode (``s_fake`` given),
    ``G_seg`` and ``D_seg``; ``parser_log_probs`` is P's ``log_probs12`` and ``s_fake_log`` G_seg's
    log-probabilities beside its probabilities ``s_fake`` (secgan mode): the cross-entropies of eqs. 10-12
    are taken in log space, never as ``log(probs)``, so the most inconsistent pixels keep their gradient. Returns ``(loss_rgb,
    stats_rgb, loss_seg | None, stats_seg)``. ``loss_rgb`` depends on G_seg only through ``argmax s_out``
    and ``loss_seg`` on G_rgb only through ``argmax P(x_out)``: neither carries a gradient into the other
    generator. The caller freezes the critics (no parameter gradients).
    """
    secgan = s_fake is not None
    if secgan and (s_fake_log is None or parser_log_probs is None):
        raise ValueError("secgan mode needs G_seg's log-probabilities (s_fake_log) and P's log_probs12")
    with precision.autocast():
        adv, cls = fwd["D_rgb"](x_fake)
        x_rec = fwd["G_rgb"](batch.g_in, batch.c0)
        p_out = parser_log_probs(x_fake) if secgan else None  # log P(x_out) [B, 12, S, S]
    loss_adv, stats_adv = L.g_adv_loss(adv)
    loss_cls, stats_cls = cls_loss(cls, batch.y_trg, lc)
    loss_rec, stats_rec = L.rec_l1_loss(batch.x, x_rec)
    loss_rgb = loss_adv + lc.lambda_cls_g * loss_cls + lc.lambda_rec * loss_rec
    stats_rgb = {**stats_adv, **stats_cls, **stats_rec}
    loss_seg, stats_seg = None, {}
    if secgan:
        loss_sc, stats_sc = L.sc_loss_rgb(s_fake, p_out)  # eq. 11: through P into G_rgb
        loss_rgb = loss_rgb + lc.lambda_sc * loss_sc
        stats_rgb.update(stats_sc)
        with precision.autocast():
            adv_seg, cls_seg = fwd["D_seg"](s_fake)
            _, s_rec_log = fwd["G_seg"](batch.s_in, batch.c0, with_log_probs=True)
        seg_adv, seg_stats_adv = L.g_adv_loss(adv_seg)
        seg_cls, seg_stats_cls = cls_loss(cls_seg, batch.y_trg, lc)
        seg_rec, seg_stats_rec = L.rec_mask_loss(batch.s_lab, s_rec_log)  # eq. 10
        seg_sc, seg_stats_sc = L.sc_loss_seg(p_out, s_fake_log)  # eq. 12
        loss_seg = seg_adv + lc.lambda_cls_g * seg_cls + lc.lambda_rec * seg_rec + lc.lambda_sc * seg_sc
        stats_seg = {
            **seg_stats_adv, **seg_stats_cls, **seg_stats_rec, **seg_stats_sc,
            "loss": loss_seg.detach().float(),
        }  # fmt: skip
    stats_rgb["loss"] = loss_rgb.detach().float()
    return loss_rgb, stats_rgb, loss_seg, stats_seg
