"""STGAN against the official TensorFlow code (csmliu/STGAN ``models.py``, ``train.py`` defaults): parameter
counts at 128 px with 13 attributes, the selective transfer units against a literal transcription of the
official ``ConvGRUCell`` / ``Gstu``, the critic's norms and heads, and a few training steps in secgan mode."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from secgan.models.registry import count_parameters
from secgan.models.stgan import STGANDiscriminator, STGANGenerator

A = 13  # the paper's (and train.py's default) attributes


def _official_g_params(n_att: int = A) -> int:
    """Trainable parameters of the official G (enc_dim = dec_dim = stu_dim = 64, 5 layers, 4 STUs, 4
    shortcut and 4 injection layers), counted from the layer definitions of ``models.py``:

    * ``Genc``: 5 x ``conv(4x4, stride 2)`` with slim's BatchNorm (no conv bias under a normaliser;
      ``scale=True`` as models.py sets it, and the default ``center=True``: gamma and beta)
      -> ``16 * in * out + 2 * out``.
    * ``Gstu``: per unit ``i`` (width ``d = 512, 256, 128, 64``; its skip feature has ``f = d`` channels;
      the state has ``s = 1024 + 13`` channels at the first unit, ``d_prev + 13`` after, as ``a`` is
      injected after every unit): ``dconv(state, d, 4, 2)`` with bias -> ``16 * s * d + d``; reset gate,
      update gate and candidate are ``conv(concat(f, d), d, 3)`` with bias -> ``3 * (9 * (f + d) * d + d)``.
    * ``Gdec``: 4 x ``dconv(4x4, stride 2)`` + BN (widths 1024, 512, 256, 128) -> ``16 * in * out + 2 * out``,
      the input of layer 0 is ``1024 + 13``, of layer ``i > 0`` the previous width + the STU output of that
      size + 13; last ``dconv(205, 3, 4, 2)`` with bias -> ``16 * 205 * 3 + 3``.
    """
    enc = [64, 128, 256, 512, 1024]
    total, n_in = 0, 3
    for c in enc:
        total += 16 * n_in * c + 2 * c
        n_in = c
    state = 1024 + n_att
    for i, d in enumerate([512, 256, 128, 64]):
        f = enc[3 - i]
        total += 16 * state * d + d + 3 * (9 * (f + d) * d + d)
        state = d + n_att
    n_in = 1024 + n_att
    for d, skip in zip([1024, 512, 256, 128], [512, 256, 128, 64]):
        total += 16 * n_in * d + 2 * d
        n_in = d + skip + n_att
    return total + 16 * n_in * 3 + 3


def _official_d_params(n_att: int = A, size: int = 128) -> int:
    """The official D (dis_dim 64, 5 layers, dis_fc_dim 1024): 5 x ``conv(4x4, stride 2)`` with
    ``slim.instance_norm`` (defaults ``center=True, scale=True``: beta and gamma, no conv bias) ->
    ``16 * in * out + 2 * out``; two heads on the flattened ``1024 x 4 x 4``: ``fc(16384, 1024)`` +
    ``fc(1024, 1)`` and ``fc(16384, 1024)`` + ``fc(1024, n_att)``, each with bias."""
    total, n_in = 0, 3
    for c in [64, 128, 256, 512, 1024]:
        total += 16 * n_in * c + 2 * c
        n_in = c
    flat = 1024 * (size // 32) ** 2
    return total + 2 * (flat * 1024 + 1024) + (1024 + 1) + (1024 * n_att + n_att)


def test_parameter_counts_equal_the_official_network():
    g, d = STGANGenerator(n_attrs=A), STGANDiscriminator(image_size=128, n_attrs=A)
    assert _official_g_params() == 74_998_771 and _official_d_params() == 44_718_990
    assert count_parameters(g) == 74_998_771 and count_parameters(d) == 44_718_990
    assert all(p.requires_grad for p in [*g.parameters(), *d.parameters()])


def _official_cell(stu, f: torch.Tensor, state: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``ConvGRUCell(pass_state='stu', norm='none')`` of models.py, written out with the unit's weights
    (reset and update gate: the first and second half of the fused gate conv)."""
    d = stu.out_ch
    w, b = stu.gates.weight, stu.gates.bias
    state_ = F.conv_transpose2d(state, stu.upsample.weight, stu.upsample.bias, stride=2, padding=1)
    reset_gate = torch.sigmoid(F.conv2d(torch.cat([f, state_], 1), w[:d], b[:d], padding=1))
    update_gate = torch.sigmoid(F.conv2d(torch.cat([f, state_], 1), w[d:], b[d:], padding=1))
    new_state = reset_gate * state_
    new_info = torch.tanh(stu.info(torch.cat([f, new_state], 1)))
    output = (1 - update_gate) * state_ + update_gate * new_info
    return output, new_state


def test_stus_follow_the_official_gstu():
    torch.manual_seed(0)
    g = STGANGenerator(n_attrs=3, enc_dim=4, dec_dim=4, stu_dim=4, n_layers=4, max_dim=64).eval()
    x, a = torch.randn(2, 3, 32, 32), torch.randn(2, 3)
    zs = g.encode(x)
    with torch.no_grad():
        got = g.transfer(zs, a)
        # Gstu: state = concat(zs[-1], a); unit i on zs[n-2-i]; a concatenated to the passed state each time
        tile = lambda t: a[:, :, None, None].expand(-1, -1, *t.shape[2:])  # noqa: E731
        state = torch.cat([zs[-1], tile(zs[-1])], 1)
        want = []
        for i, stu in enumerate(g.stus):
            out, new_state = _official_cell(stu, zs[2 - i], state)
            want.append(out)
            state = torch.cat([new_state, tile(new_state)], 1)
    assert len(got) == len(want) == 3
    for gt, wt in zip(got, want):
        torch.testing.assert_close(gt, wt, rtol=1e-5, atol=1e-6)
    # (the reference passes r * state' on, as pass_state='stu'; passing the output would not match)
    assert [tuple(t.shape) for t in got] == [(2, 16, 4, 4), (2, 8, 8, 8), (2, 4, 16, 16)]


def test_update_gate_closed_form():
    """With the update gate shut (z = 0) a unit's output is the upsampled state; fully open with a zero
    candidate, it is 0."""
    torch.manual_seed(1)
    g = STGANGenerator(n_attrs=2, enc_dim=4, dec_dim=4, stu_dim=4, n_layers=3, max_dim=16)
    stu = g.stus[0]
    d = stu.out_ch
    f, state = torch.randn(1, 8, 8, 8), torch.randn(1, 16 + 2, 4, 4)
    with torch.no_grad():
        stu.gates.weight.zero_()
        stu.gates.bias[d:] = -1e4  # update gate -> 0
        out, _ = stu(f, state)
        torch.testing.assert_close(out, stu.upsample(state))
        stu.gates.bias[d:] = 1e4  # update gate -> 1
        stu.info.weight.zero_()
        stu.info.bias.zero_()
        out, new_state = stu(f, state)
    assert out.abs().max() == 0
    torch.testing.assert_close(new_state, 0.5 * stu.upsample(state))  # reset gate sigmoid(0) = 0.5


def test_generator_uses_condition_skips_and_softmax():
    torch.manual_seed(0)
    g = STGANGenerator(n_attrs=5, enc_dim=4, dec_dim=4, stu_dim=4, n_layers=3, max_dim=16)
    x, c = torch.rand(2, 3, 32, 32) * 2 - 1, torch.randn(2, 5)
    y = g(x, c)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1
    assert not torch.allclose(y, g(x, torch.zeros_like(c)))
    # the decoder's inputs: previous width + STU output (shortcut) + 5 (injection)
    assert [layer[0].in_channels for layer in g.dec_layers] == [16 + 5, 16 + 8 + 5]
    assert g.last.in_channels == 8 + 4 + 5
    seg = STGANGenerator(
        in_channels=12,
        out_channels=12,
        n_attrs=5,
        enc_dim=4,
        dec_dim=4,
        stu_dim=4,
        n_layers=3,
        output="softmax",
    )
    s = torch.softmax(torch.randn(2, 12, 32, 32), 1)
    p, logp = seg(s, c, with_log_probs=True)
    torch.testing.assert_close(p.sum(1), torch.ones(2, 32, 32))
    torch.testing.assert_close(logp.exp(), p)
    torch.testing.assert_close(seg(s, c), p)


def test_discriminator_norms_and_heads():
    d = STGANDiscriminator(in_channels=12, image_size=32, n_attrs=4, dim=4, n_layers=3, fc_dim=8, max_dim=16)
    norms = [m for m in d.modules() if isinstance(m, torch.nn.InstanceNorm2d)]
    # instance_norm's defaults: scale and shift, epsilon 1e-6, statistics of each image (no running buffers)
    assert [(n.affine, n.eps, n.track_running_stats) for n in norms] == [(True, 1e-6, False)] * 3
    assert all(m.bias is None for m in d.conv if isinstance(m, torch.nn.Conv2d))
    adv, cls = d(torch.randn(3, 12, 32, 32))
    assert adv.shape == (3, 1) and cls.shape == (3, 4)
    # LeakyReLU 0.2 (tf.nn.leaky_relu), on the convs and in both heads
    slopes = {m.negative_slope for m in d.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.2} and sum(isinstance(m, torch.nn.LeakyReLU) for m in d.modules()) == 3 + 2
    # the critic's outputs do not depend on the batch in eval mode or train mode (instance statistics)
    x = torch.randn(4, 12, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(d(x)[1][:1], d(x[:1])[1])


def test_untrusted_specs_are_bounded(tmp_path):
    """An exported STGAN's spec from someone else's config.json: its own arguments are bounded too."""
    from secgan.errors import WeightsError
    from secgan.models.spec_checks import build_checked, check_spec

    for key, value in [("stu_kernel", 99), ("stu_dim", 10**6), ("stu_layers", 100), ("stu_kernel", 3.0)]:
        with pytest.raises(WeightsError, match=f"kwargs.{key} = "):
            check_spec("G", {"family": "stgan_g", "kwargs": {key: value}}, tmp_path)
    even = {"family": "stgan_g", "kwargs": {"stu_kernel": 4}}
    check_spec("G", even, tmp_path)
    with pytest.raises(WeightsError, match="cannot be built: STGAN: stu_kernel must be odd"):
        build_checked(even, "G", tmp_path)
    assert isinstance(build_checked({"family": "stgan_g", "kwargs": {}}, "G", tmp_path), STGANGenerator)
