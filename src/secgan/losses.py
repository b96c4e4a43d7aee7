"""SeCGAN's loss terms (paper eqs. 1-16, paper-notes §2) as pure functions.

Every function returns ``(loss, stats)``: ``loss`` is a scalar tensor to back-propagate and ``stats`` a
dict of *detached 0-dim tensors* (call ``float()`` on them). Keeping the statistics on the device lets the
trainer read every statistic of a step with a single host synchronisation (one ``torch.stack(...).tolist()``),
which also serves its NaN/Inf check; a ``.item()`` per term would stall a GPU several times per step.

Conventions: images ``[N, 3, H, W]`` in ``[-1, 1]``; labels ``[N, n_a]`` in {0, 1}; masks either label
maps ``[N, H, W]`` (long, 12 segments) or probabilities / one-hot ``[N, 12, H, W]`` (channels sum to 1).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from secgan.errors import ConfigError

Stats = dict[str, torch.Tensor]
CLS_REDUCTIONS = ("sum_over_attrs_mean_over_batch", "mean")


def _d(t: torch.Tensor) -> torch.Tensor:
    return t.detach().float()


# --------------------------------------------------------------------------------------------- adversarial
def d_adv_loss(real_adv: torch.Tensor, fake_adv: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """WGAN critic loss ``E[D(fake)] - E[D(real)]`` (eq. 1 without the penalty).

    ``real_adv``/``fake_adv``: critic outputs of any shape (``[N, 1, h, w]`` PatchGAN maps or ``[N, 1]``);
    the mean runs over every element, as in the official StarGAN code.
    """
    real, fake = real_adv.float().mean(), fake_adv.float().mean()
    loss = fake - real
    return loss, {"d_real": _d(real), "d_fake": _d(fake), "wdist": _d(real - fake)}


def g_adv_loss(fake_adv: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """WGAN generator loss ``-E[D(G(x, c))]`` (eqs. 2 and 7)."""
    loss = -fake_adv.float().mean()
    return loss, {"g_adv": _d(loss)}


def interpolate(
    real: torch.Tensor,
    fake: torch.Tensor,
    alpha: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Per-sample uniform interpolates ``alpha * real + (1 - alpha) * fake`` with ``alpha ~ U[0, 1]`` of shape
    ``[N, 1, 1, 1]`` (drawn from ``generator`` unless given). ``fake`` is detached."""
    if alpha is None:
        alpha = torch.rand(real.shape[0], generator=generator, device="cpu").to(real.device)
    alpha = alpha.to(device=real.device, dtype=real.dtype).view(-1, *([1] * (real.dim() - 1)))
    return alpha * real.detach() + (1 - alpha) * fake.detach()


def gradient_penalty(
    critic: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    alpha: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, Stats]:
    """WGAN-GP penalty ``E[(||grad_x~ D(x~)||_2 - 1)^2]`` on per-sample uniform interpolates (eqs. 1, 6).

    Args:
        critic: maps ``x~ [N, C, H, W]`` to the adversarial output (any shape; its sum is differentiated,
            i.e. ``grad_outputs`` of ones, as in the official StarGAN code).
        real, fake: ``[N, C, H, W]`` (fake is detached).
        alpha: optional ``[N]`` interpolation weights in ``[0, 1]``; drawn from ``generator`` otherwise.

    The penalty is always computed in float32 (inputs are cast; callers running under autocast should
    call this with autocast disabled), with ``create_graph=True`` so its gradient reaches the critic.
    """
    x_hat = interpolate(real.float(), fake.float(), alpha, generator).requires_grad_(True)
    out = critic(x_hat).float()
    (grad,) = torch.autograd.grad(
        outputs=out, inputs=x_hat, grad_outputs=torch.ones_like(out), create_graph=True
    )
    norm = grad.flatten(1).norm(2, dim=1)
    loss = ((norm - 1) ** 2).mean()
    return loss, {"gp": _d(loss), "grad_norm": _d(norm.mean())}


# ------------------------------------------------------------------------------------------ classification
def bce_cls_loss(
    logits: torch.Tensor, target: torch.Tensor, reduction: str = "sum_over_attrs_mean_over_batch"
) -> tuple[torch.Tensor, Stats]:
    """Attribute classification: binary cross-entropy of ``logits [N, n_a]`` against ``target [N, n_a]``
    in {0, 1} (the paper's eqs. 3/4/8/9 with the typo fixed, paper-notes §2).

    ``reduction``: ``"sum_over_attrs_mean_over_batch"`` (official StarGAN: summed over attributes, divided
    by the batch size) or ``"mean"`` (PyTorch AttGAN: mean over every element).
    """
    per = F.binary_cross_entropy_with_logits(logits.float(), target.float(), reduction="none")
    if reduction == "sum_over_attrs_mean_over_batch":
        loss = per.sum() / logits.shape[0]
    elif reduction == "mean":
        loss = per.mean()
    else:
        raise ConfigError(
            f"unknown classification reduction {reduction!r}; valid: {', '.join(CLS_REDUCTIONS)}"
        )
    acc = ((logits.detach() > 0).float() == target.float()).float().mean()
    return loss, {"cls": _d(loss), "cls_acc": acc}


def ce_cls_loss(logits: torch.Tensor, target_onehot: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """Expression classification (RaFD, one-hot labels): softmax cross-entropy of ``logits [N, K]``
    against ``argmax target_onehot [N, K]``, averaged over the batch (official StarGAN for RaFD)."""
    idx = target_onehot.argmax(dim=1)
    loss = F.cross_entropy(logits.float(), idx)
    acc = (logits.detach().argmax(dim=1) == idx).float().mean()
    return loss, {"cls": _d(loss), "cls_acc": acc}


def cls_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    kind: str = "bce",
    reduction: str = "sum_over_attrs_mean_over_batch",
) -> tuple[torch.Tensor, Stats]:
    """Dispatch: ``kind="bce"`` (multi-label attributes) or ``"ce"`` (one-hot expressions)."""
    if kind == "bce":
        return bce_cls_loss(logits, target, reduction)
    if kind == "ce":
        return ce_cls_loss(logits, target)
    raise ConfigError(f"unknown classification loss {kind!r}; valid: bce, ce")


# ---------------------------------------------------------------------------------------- reconstruction
def rec_l1_loss(x: torch.Tensor, x_rec: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """RGB reconstruction ``E|x - G(x, 0)|`` (eq. 5), the mean absolute error over every element."""
    loss = (x.float() - x_rec.float()).abs().mean()
    return loss, {"rec": _d(loss)}


def mask_ce(target: torch.Tensor, log_probs: torch.Tensor) -> torch.Tensor:
    """Per-pixel cross-entropy ``-1/(N H W) sum_{n,i,j} target_{n,i,j} . log_probs_{n,i,j}``.

    ``target``: label map ``[N, H, W]`` (long) or one-hot/soft ``[N, 12, H, W]``; ``log_probs``:
    log-probabilities ``[N, 12, H, W]`` computed in log space (G_seg's ``log_softmax``, the parser's
    ``log_probs12``), never ``log(probs)``: a pixel whose target probability is tiny (the most inconsistent
    pixels of eqs. 10-12) keeps its gradient instead of hitting a clamp.
    """
    logp = log_probs.float()
    if target.dim() == 3:
        return -logp.gather(1, target.long().unsqueeze(1)).mean()
    return -(target.float() * logp).sum(dim=1).mean()


def rec_mask_loss(s_in: torch.Tensor, log_s_rec: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """Semantic reconstruction (eq. 10): ``CE(s_in, G_seg(s_in, 0))``; ``s_in`` label map ``[N, H, W]`` or
    one-hot ``[N, 12, H, W]``, ``log_s_rec`` G_seg's log-probabilities ``[N, 12, H, W]``."""
    loss = mask_ce(s_in, log_s_rec)
    return loss, {"rec": _d(loss)}


# ------------------------------------------------------------------------------------ semantic consistency
def sc_loss_rgb(s_out: torch.Tensor, log_p_x_out: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """Eq. 11, the consistency term of G_rgb: target ``onehot(argmax s_out)`` (no gradient), prediction
    ``P(x_out)``.

    ``s_out``: G_seg's probabilities (or log-probabilities) ``[N, 12, H, W]``; ``log_p_x_out``: the frozen
    parser's log-probabilities on G_rgb's output ``[N, 12, H, W]`` (``log_probs12``), still attached to the
    graph so the gradient flows through the parser (whose weights do not require grad) into G_rgb.
    """
    target = s_out.detach().argmax(dim=1)
    loss = mask_ce(target, log_p_x_out)
    agree = (log_p_x_out.detach().argmax(dim=1) == target).float().mean()
    return loss, {"sc": _d(loss), "sc_agree": agree}


def sc_loss_seg(p_x_out: torch.Tensor, log_s_out: torch.Tensor) -> tuple[torch.Tensor, Stats]:
    """Eq. 12, the consistency term of G_seg: target ``onehot(argmax P(x_out))`` (no gradient; ``p_x_out``
    the parser's probabilities or log-probabilities), prediction G_seg's log-probabilities ``log_s_out``
    ``[N, 12, H, W]``."""
    target = p_x_out.detach().argmax(dim=1)
    loss = mask_ce(target, log_s_out)
    agree = (log_s_out.detach().argmax(dim=1) == target).float().mean()
    return loss, {"sc": _d(loss), "sc_agree": agree}
