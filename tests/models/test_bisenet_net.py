"""BiSeNet: the public checkpoint's exact key set and shapes, forward shapes, no download."""

from __future__ import annotations

import socket

import pytest
import torch
from bisenet_keys import public_bisenet_shapes

from secgan.errors import ConfigError
from secgan.models.bisenet import BiSeNet


def test_state_dict_matches_public_checkpoint_layout():
    sd = BiSeNet(19).state_dict()
    expected = public_bisenet_shapes(19)
    assert set(sd) == set(expected)
    assert {k: tuple(v.shape) for k, v in sd.items()} == expected


def test_strict_load_of_a_public_layout_state_dict():
    g = torch.Generator().manual_seed(0)
    state = {
        k: (torch.tensor(7) if k.endswith("num_batches_tracked") else torch.randn(s, generator=g))
        for k, s in public_bisenet_shapes(19).items()
    }
    net = BiSeNet(19)
    net.load_state_dict(state, strict=True)
    torch.testing.assert_close(net.state_dict()["ffm.conv2.weight"], state["ffm.conv2.weight"])


def test_forward_shapes_any_size_and_small_width_keeps_keys():
    net = BiSeNet(19, base_width=8).eval()
    outs = net(torch.randn(2, 3, 48, 40))
    assert [tuple(o.shape) for o in outs] == [(2, 19, 48, 40)] * 3
    assert set(net.state_dict()) == set(public_bisenet_shapes(19))
    with pytest.raises(ConfigError):
        BiSeNet(19, base_width=6)


def test_constructor_never_touches_the_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    BiSeNet(19)
