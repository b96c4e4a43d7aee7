"""The contract every network family of :mod:`secgan.models.registry` keeps (in the manner of diffusers'
model tests): built from its spec it saves, loads back and gives the same outputs; its forward pass is
deterministic in eval mode; its outputs have the documented shapes."""

from __future__ import annotations

import json

import pytest
import torch

from secgan.models.export import load_pretrained, save_pretrained
from secgan.models.registry import FAMILIES, build_model, spec_of

N, S, A = 2, 32, 5  # batch, side, attributes

# family -> (tiny spec kwargs, inputs builder, expected output shapes)
CASES = {
    "stargan_g": (
        {"in_channels": 3, "n_attrs": A, "conv_dim": 4, "n_res": 1, "n_down": 2},
        lambda: (torch.rand(N, 3, S, S) * 2 - 1, torch.randn(N, A)),
        [(N, 3, S, S)],
    ),
    "stargan_d": (
        {"image_size": S, "n_attrs": A, "conv_dim": 4, "n_layers": 3},
        lambda: (torch.rand(N, 3, S, S) * 2 - 1,),
        [(N, 1, S // 8, S // 8), (N, A)],
    ),
    "attgan_g": (
        {"n_attrs": A, "enc_dim": 4, "dec_dim": 4, "n_layers": 3, "max_dim": 16},
        lambda: (torch.rand(N, 3, S, S) * 2 - 1, torch.randn(N, A)),
        [(N, 3, S, S)],
    ),
    "attgan_d": (
        {"image_size": S, "n_attrs": A, "dim": 4, "n_layers": 3, "fc_dim": 8, "max_dim": 16},
        lambda: (torch.rand(N, 3, S, S) * 2 - 1,),
        [(N, 1), (N, A)],
    ),
    "stgan_g": (
        {"n_attrs": A, "enc_dim": 4, "dec_dim": 4, "n_layers": 3, "stu_dim": 4, "max_dim": 16},
        lambda: (torch.rand(N, 3, S, S) * 2 - 1, torch.randn(N, A)),
        [(N, 3, S, S)],
    ),
    "stgan_d": (
        {"image_size": S, "n_attrs": A, "dim": 4, "n_layers": 3, "fc_dim": 8, "max_dim": 16},
        lambda: (torch.rand(N, 3, S, S) * 2 - 1,),
        [(N, 1), (N, A)],
    ),
    "bisenet": (
        {"n_classes": 19, "base_width": 4},
        lambda: (torch.rand(N, 3, S, S),),
        [(N, 19, S, S)] * 3,
    ),
    "unet_parser": (
        {"n_classes": 19, "base_width": 4, "n_down": 3},
        lambda: (torch.rand(N, 3, S, S),),
        [(N, 19, S, S)],
    ),
    "classifier": (
        {"n_outputs": A, "image_size": S, "widths": [4, 4, 4, 4, 4], "fc_dim": 8},
        lambda: (torch.rand(N, 3, S, S) * 2 - 1,),
        [(N, A)],
    ),
}


def test_every_family_has_a_case():
    assert set(CASES) == set(FAMILIES)


def _outputs(net: torch.nn.Module, inputs: tuple) -> list[torch.Tensor]:
    with torch.no_grad():
        out = net(*inputs)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _randomise_buffers(net: torch.nn.Module) -> None:
    """Non-trivial running statistics, so that a lost buffer shows in the outputs."""
    g = torch.Generator().manual_seed(3)
    for name, buf in net.named_buffers():
        if name.endswith("running_mean"):
            buf.copy_(0.1 * torch.randn(buf.shape, generator=g))
        elif name.endswith("running_var"):
            buf.copy_(0.5 + torch.rand(buf.shape, generator=g))


@pytest.mark.parametrize("family", sorted(CASES))
def test_build_save_load_same_output(family, tmp_path):
    kwargs, make_inputs, shapes = CASES[family]
    torch.manual_seed(0)
    net = build_model({"family": family, "kwargs": kwargs}).eval()
    _randomise_buffers(net)
    spec = spec_of(net)
    assert spec["family"] == family and json.loads(json.dumps(spec)) == spec  # JSON-ready
    assert build_model(spec).spec_kwargs == net.spec_kwargs  # the spec rebuilds the same architecture

    inputs = make_inputs()
    out = _outputs(net, inputs)
    assert [tuple(o.shape) for o in out] == shapes
    assert all(torch.isfinite(o).all() for o in out)
    assert all(torch.equal(a, b) for a, b in zip(out, _outputs(net, inputs)))  # deterministic

    save_pretrained(tmp_path / "m", {"net": net}, {"kind": "contract"})
    loaded, meta = load_pretrained(tmp_path / "m")
    assert meta == {"kind": "contract"} and not loaded["net"].training
    for a, b in zip(out, _outputs(loaded["net"], inputs)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
