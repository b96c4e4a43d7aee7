"""Loss terms against hand-computed values (paper eqs. 1-16, paper-notes §2)."""

from __future__ import annotations

import math

import pytest
import torch

from secgan import losses as L
from secgan.errors import ConfigError


def test_d_adv_and_g_adv_are_means():
    real = torch.tensor([[1.0], [2.0], [3.0]])
    fake = torch.tensor([[4.0], [5.0]])
    loss, st = L.d_adv_loss(real, fake)
    assert loss.item() == pytest.approx(4.5 - 2.0)
    assert float(st["wdist"]) == pytest.approx(-2.5)
    g, _ = L.g_adv_loss(torch.full((2, 1, 3, 3), 0.25))
    assert g.item() == pytest.approx(-0.25)


def test_gradient_penalty_of_a_linear_critic_is_closed_form():
    # D(x) = <w, x>: the gradient is w for every interpolate, so GP = (||w|| - 1)^2 whatever alpha is,
    # and d GP / d w = 2 (||w|| - 1) w / ||w||.
    torch.manual_seed(0)
    w = torch.randn(3, 4, 4, requires_grad=True)
    real, fake = torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4)
    gp, st = L.gradient_penalty(lambda x: (x * w).flatten(1).sum(1, keepdim=True), real, fake)
    norm = w.detach().norm()
    assert gp.item() == pytest.approx((norm.item() - 1) ** 2, rel=1e-5)
    assert float(st["grad_norm"]) == pytest.approx(norm.item(), rel=1e-5)
    gp.backward()
    expected = 2 * (norm - 1) * w.detach() / norm
    torch.testing.assert_close(w.grad, expected, rtol=1e-4, atol=1e-6)


def test_gradient_penalty_uses_per_sample_interpolates():
    # D(x) = 0.5 ||x||^2 per sample: grad = x_hat, so GP = mean((||a r + (1-a) f|| - 1)^2).
    real = torch.tensor([[[[3.0]]], [[[0.0]]]])
    fake = torch.tensor([[[[1.0]]], [[[2.0]]]])
    alpha = torch.tensor([0.5, 0.25])
    gp, _ = L.gradient_penalty(lambda x: 0.5 * (x**2).flatten(1).sum(1), real, fake, alpha=alpha)
    x_hat = [0.5 * 3 + 0.5 * 1, 0.25 * 0 + 0.75 * 2]  # 2.0 and 1.5
    expected = sum((abs(v) - 1) ** 2 for v in x_hat) / 2
    assert gp.item() == pytest.approx(expected)


def test_gradient_penalty_sums_patch_outputs():
    # A PatchGAN map [N, 1, 2, 2] of four copies of <w, x>: the gradient of the sum is 4 w.
    w = torch.tensor([0.1, 0.2])
    real, fake = torch.zeros(3, 2, 1, 1), torch.ones(3, 2, 1, 1)

    def critic(x):
        v = (x.flatten(1) * w).sum(1)
        return v.view(-1, 1, 1, 1).expand(-1, 1, 2, 2)

    gp, _ = L.gradient_penalty(critic, real, fake)
    assert gp.item() == pytest.approx((4 * w.norm().item() - 1) ** 2, rel=1e-5)


def test_bce_reductions():
    logits = torch.zeros(2, 3)
    target = torch.tensor([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    s, _ = L.bce_cls_loss(logits, target, "sum_over_attrs_mean_over_batch")
    m, _ = L.bce_cls_loss(logits, target, "mean")
    assert s.item() == pytest.approx(3 * math.log(2))
    assert m.item() == pytest.approx(math.log(2))
    # logit 2 with target 1 -> log(1 + e^-2); logit 2 with target 0 -> log(1 + e^2)
    s2, st = L.bce_cls_loss(torch.tensor([[2.0, 2.0]]), torch.tensor([[1.0, 0.0]]))
    assert s2.item() == pytest.approx(math.log1p(math.exp(-2)) + math.log1p(math.exp(2)))
    assert float(st["cls_acc"]) == pytest.approx(0.5)
    with pytest.raises(ConfigError, match="reduction"):
        L.bce_cls_loss(logits, target, "sum")


def test_ce_for_one_hot_expressions():
    logits = torch.zeros(3, 4)
    target = torch.eye(4)[[0, 2, 3]]
    loss, _ = L.ce_cls_loss(logits, target)
    assert loss.item() == pytest.approx(math.log(4))
    logits = torch.tensor([[math.log(3.0), 0.0]])  # softmax = (0.75, 0.25)
    loss, st = L.cls_loss(logits, torch.tensor([[0.0, 1.0]]), kind="ce")
    assert loss.item() == pytest.approx(-math.log(0.25))
    assert float(st["cls_acc"]) == 0.0


def test_rec_l1():
    x = torch.zeros(2, 3, 2, 2)
    y = torch.full((2, 3, 2, 2), 0.5)
    y[0, 0, 0, 0] = -1.5
    loss, _ = L.rec_l1_loss(x, y)
    assert loss.item() == pytest.approx((23 * 0.5 + 1.5) / 24)


def test_mask_ce_label_map_and_one_hot_agree():
    probs = torch.full((2, 12, 3, 3), 1 / 12)
    labels = torch.randint(0, 12, (2, 3, 3))
    loss, _ = L.rec_mask_loss(labels, probs.log())
    assert loss.item() == pytest.approx(math.log(12), rel=1e-6)
    # half of the mass on the right class everywhere -> log 2
    probs = torch.full((1, 12, 2, 2), 0.5 / 11)
    lab = torch.tensor([[[0, 3], [11, 5]]])
    for i in range(2):
        for j in range(2):
            probs[0, lab[0, i, j], i, j] = 0.5
    a = L.mask_ce(lab, probs.log())
    b = L.mask_ce(torch.nn.functional.one_hot(lab, 12).permute(0, 3, 1, 2).float(), probs.log())
    assert a.item() == pytest.approx(math.log(2), rel=1e-6)
    assert b.item() == pytest.approx(a.item(), rel=1e-6)


class _TinyParser(torch.nn.Module):
    """A frozen 1x1 conv + softmax over 12 segments (stands in for P)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 12, 1)
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x):
        return torch.log_softmax(self.conv(x), dim=1)  # log-probabilities, as P.log_probs12


def test_sc_rgb_flows_through_frozen_parser_only_into_g_rgb():
    torch.manual_seed(0)
    P = _TinyParser()
    x_out = torch.randn(2, 3, 4, 4, requires_grad=True)  # stands for G_rgb's output
    s_out = torch.softmax(torch.randn(2, 12, 4, 4), 1).requires_grad_(True)  # G_seg's output
    logp = P(x_out)
    loss, _ = L.sc_loss_rgb(s_out, logp)
    target = s_out.detach().argmax(1)
    expected = -logp.detach().gather(1, target[:, None]).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert x_out.grad is not None and x_out.grad.abs().sum() > 0
    assert s_out.grad is None  # the target is one-hot(argmax): no gradient into G_seg
    assert all(q.grad is None for q in P.parameters())  # the parser never learns


def test_sc_seg_targets_the_parser_argmax():
    torch.manual_seed(1)
    p = torch.softmax(torch.randn(2, 12, 3, 3), 1).requires_grad_(True)
    s_out_logits = torch.randn(2, 12, 3, 3, requires_grad=True)
    s_out = torch.softmax(s_out_logits, 1)
    loss, st = L.sc_loss_seg(p, torch.log_softmax(s_out_logits, 1))
    target = p.detach().argmax(1)
    expected = -s_out.detach().log().gather(1, target[:, None]).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert p.grad is None
    assert s_out_logits.grad is not None
    assert 0.0 <= float(st["sc_agree"]) <= 1.0


# ------------------------------------------------------------------------------------------- log space
def _clamped_ce(target: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """The former form: ``-log(clamp(probs, 1e-8))`` at the target class, averaged over pixels."""
    return -probs.clamp_min(1e-8).log().gather(1, target[:, None]).mean()


def test_log_space_ce_equals_the_clamped_form_where_the_clamp_is_inactive():
    torch.manual_seed(2)
    logits = torch.randn(2, 12, 5, 5) * 3
    target = torch.randint(0, 12, (2, 5, 5))
    probs = torch.softmax(logits, 1)
    assert probs.min() > 1e-8  # the clamp is inactive everywhere
    got = L.mask_ce(target, torch.log_softmax(logits, 1))
    assert got.item() == pytest.approx(_clamped_ce(target, probs).item(), rel=1e-6)


def test_a_pixel_at_probability_1e_12_still_gets_a_gradient():
    # G_seg's output: the target class at ~1e-12 on one pixel (an inconsistent pixel of eqs. 10-12)
    logits = torch.zeros(1, 12, 1, 2)
    logits[0, 0, 0, 0] = 30.0  # segment 0 dominates pixel 0; segment 5 there has p ~ e^-30 ~ 1e-13
    logits.requires_grad_(True)
    target = torch.tensor([[[5, 0]]])
    probs = torch.softmax(logits, 1)
    assert 1e-14 < probs[0, 5, 0, 0].item() < 1e-11
    loss = L.mask_ce(target, torch.log_softmax(logits, 1))
    loss.backward()
    g = logits.grad[0, :, 0, 0]
    assert g[5].item() == pytest.approx(-0.5, rel=1e-6)  # d/dz_t of -log p_t / 2 pixels = (p_t - 1) / 2
    assert g[0].item() == pytest.approx(0.5, rel=1e-6)
    # the clamped form gives that pixel a constant and no gradient at all
    logits.grad = None
    _clamped_ce(target, torch.softmax(logits, 1)).backward()
    assert logits.grad[0, :, 0, 0].abs().max().item() < 1e-6


def test_g_seg_log_probs_and_parser_log_probs_in_log_space():
    from secgan.data.masks import LUT_19_TO_12, log_soft_19_to_12, soft_19_to_12
    from secgan.models.attgan import AttGANGenerator
    from secgan.models.stargan import StarGANGenerator

    torch.manual_seed(3)
    s_in = torch.softmax(torch.randn(2, 12, 16, 16), 1)
    c = torch.randn(2, 3)
    for g in (
        StarGANGenerator(12, 12, 3, conv_dim=4, n_res=1, n_down=2, output="softmax"),
        AttGANGenerator(12, 12, 3, enc_dim=4, dec_dim=4, n_layers=3, max_dim=16, output="softmax"),
    ):
        g.eval()
        probs, logp = g(s_in, c, with_log_probs=True)
        torch.testing.assert_close(probs, g(s_in, c))  # the same softmax output
        torch.testing.assert_close(logp.exp(), probs)
        with pytest.raises(ValueError, match="softmax generator"):
            StarGANGenerator(3, 3, 3, conv_dim=4, n_res=1)(
                torch.zeros(1, 3, 8, 8), c[:1], with_log_probs=True
            )
    # parser: logsumexp over the merged classes of the 19-class log-softmax
    z = torch.randn(2, 19, 3, 3) * 4
    want = soft_19_to_12(torch.softmax(z.double(), 1)).log()
    torch.testing.assert_close(
        log_soft_19_to_12(torch.log_softmax(z, 1)).double(), want, rtol=1e-5, atol=1e-5
    )
    # a merged segment (eyes: two classes) at ~1e-13 keeps its value and its gradient
    z = torch.zeros(1, 19, 1, 1)
    z[0, 0] = 31.0
    z.requires_grad_(True)
    eyes = [k for k, seg in enumerate(LUT_19_TO_12) if seg == 2]
    logp12 = log_soft_19_to_12(torch.log_softmax(z, 1))
    assert logp12[0, 2].item() == pytest.approx(math.log(2) - math.log(18 + math.exp(31)), abs=1e-4)  # ~7e-14
    (-logp12[0, 2]).sum().backward()
    assert all(z.grad[0, k].item() < -0.4 for k in eyes)  # pushed up, not clamped away
