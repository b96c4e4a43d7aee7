"""StarGAN / AttGAN generators and critics: parameter counts, shapes, output ranges, reference key layout."""

from __future__ import annotations

import pytest
import torch

from secgan.models.attgan import AttGANDiscriminator, AttGANGenerator
from secgan.models.registry import count_parameters
from secgan.models.stargan import StarGANDiscriminator, StarGANGenerator


def _millions(m: torch.nn.Module) -> float:
    return round(count_parameters(m) / 1e6, 2)


def test_parameter_counts_at_128_px_13_attributes():
    assert _millions(StarGANGenerator()) == 8.46
    assert _millions(StarGANDiscriminator(image_size=128)) == 44.83
    assert _millions(AttGANGenerator(shortcut_layers=1, inject_layers=1)) == 43.46
    assert _millions(AttGANDiscriminator(image_size=128)) == pytest.approx(44.7, abs=0.05)


def test_stargan_generator_shapes_and_ranges():
    torch.manual_seed(0)
    x, c = torch.randn(2, 3, 32, 32), torch.randn(2, 5)
    g = StarGANGenerator(n_attrs=5, conv_dim=8, n_res=1)
    y = g(x, c)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1
    seg = StarGANGenerator(in_channels=12, out_channels=12, n_attrs=5, conv_dim=8, n_res=1, output="softmax")
    p = seg(torch.softmax(torch.randn(2, 12, 32, 32), 1), c)
    assert p.shape == (2, 12, 32, 32) and (p >= 0).all()
    torch.testing.assert_close(p.sum(1), torch.ones(2, 32, 32))
    # the condition matters
    assert not torch.allclose(g(x, c), g(x, torch.zeros_like(c)))


def test_stargan_official_key_layout():
    g = StarGANGenerator(n_attrs=5)
    sd = g.state_dict()
    assert sd["main.0.weight"].shape == (64, 8, 7, 7)
    assert sd["main.4.running_var"].shape == (128,)  # IN with running stats, as the official code
    assert sd["main.9.main.4.weight"].shape == (256,)
    assert sd["main.14.main.3.weight"].shape == (256, 256, 3, 3)
    assert sd["main.18.weight"].shape == (128, 64, 4, 4)  # ConvTranspose2d (in, out, k, k)
    assert sd["main.21.weight"].shape == (3, 64, 7, 7)
    assert not any(k.startswith("main.22") for k in sd)
    d = StarGANDiscriminator(image_size=128, n_attrs=5)
    sd = d.state_dict()
    assert sorted({k.split(".")[1] for k in sd if k.startswith("main.")}, key=int) == [
        "0",
        "2",
        "4",
        "6",
        "8",
        "10",
    ]
    assert sd["main.10.weight"].shape == (2048, 1024, 4, 4) and sd["main.10.bias"].shape == (2048,)
    assert sd["conv1.weight"].shape == (1, 2048, 3, 3) and "conv1.bias" not in sd
    assert sd["conv2.weight"].shape == (5, 2048, 2, 2)


def test_stargan_discriminator_outputs():
    d = StarGANDiscriminator(image_size=64, n_attrs=4, conv_dim=4, n_layers=6)
    adv, cls = d(torch.randn(3, 3, 64, 64))
    assert adv.shape == (3, 1, 1, 1) and cls.shape == (3, 4)
    d12 = StarGANDiscriminator(in_channels=12, image_size=32, n_attrs=4, conv_dim=4, n_layers=3)
    adv, cls = d12(torch.randn(2, 12, 32, 32))
    assert adv.shape == (2, 1, 4, 4) and cls.shape == (2, 4)


def test_attgan_generator_shapes_skip_and_inject():
    torch.manual_seed(0)
    g = AttGANGenerator(
        n_attrs=3, enc_dim=4, dec_dim=4, n_layers=3, shortcut_layers=1, inject_layers=1, max_dim=16
    )
    x, c = torch.randn(2, 3, 32, 32), torch.randn(2, 3)
    zs = g.encode(x)
    assert [tuple(z.shape) for z in zs] == [(2, 4, 16, 16), (2, 8, 8, 8), (2, 16, 4, 4)]
    y = g(x, c)
    assert y.shape == (2, 3, 32, 32) and y.abs().max() <= 1
    # layer 0 reads bottleneck + condition; layer 1 its 16-ch output + the 8-ch encoder skip + condition
    assert g.dec_layers[0].layers[0].in_channels == 16 + 3
    assert g.dec_layers[1].layers[0].in_channels == 16 + 8 + 3
    seg = AttGANGenerator(12, 12, n_attrs=3, enc_dim=4, dec_dim=4, n_layers=3, max_dim=16, output="softmax")
    p = seg(torch.softmax(torch.randn(2, 12, 32, 32), 1), c)
    torch.testing.assert_close(p.sum(1), torch.ones(2, 32, 32))


def test_attgan_reference_key_layout():
    sd = AttGANGenerator().state_dict()
    assert sd["enc_layers.0.layers.0.weight"].shape == (64, 3, 4, 4)
    assert "enc_layers.0.layers.0.bias" not in sd and "enc_layers.4.layers.1.running_mean" in sd
    assert sd["dec_layers.0.layers.0.weight"].shape == (1024 + 13, 1024, 4, 4)
    assert sd["dec_layers.1.layers.0.weight"].shape == (1024 + 512 + 13, 512, 4, 4)  # Table 3: 1536 + n_a
    assert sd["dec_layers.4.layers.0.weight"].shape == (128, 3, 4, 4)
    assert sd["dec_layers.4.layers.0.bias"].shape == (3,)
    dsd = AttGANDiscriminator().state_dict()
    assert dsd["conv.4.layers.0.weight"].shape == (1024, 512, 4, 4)
    assert dsd["conv.4.layers.1.weight"].shape == (1024,) and "conv.4.layers.1.running_mean" not in dsd
    assert dsd["fc_adv.0.layers.0.weight"].shape == (1024, 1024 * 4 * 4)
    assert dsd["fc_adv.1.layers.0.weight"].shape == (1, 1024)
    assert dsd["fc_cls.1.layers.0.weight"].shape == (13, 1024)


def test_attgan_discriminator_outputs():
    d = AttGANDiscriminator(image_size=32, n_attrs=5, dim=4, n_layers=3, fc_dim=8, max_dim=16)
    adv, cls = d(torch.randn(2, 3, 32, 32))
    assert adv.shape == (2, 1) and cls.shape == (2, 5)
    with pytest.raises(ValueError):
        d(torch.randn(2, 3, 64, 64))
