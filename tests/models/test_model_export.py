"""Model registry (spec <-> module) and exported model folders (safetensors + config.json)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file, save_file

from secgan.errors import ConfigError, WeightsError
from secgan.models.attgan import AttGANDiscriminator, AttGANGenerator
from secgan.models.bisenet import BiSeNet
from secgan.models.classifier import AttributeClassifier
from secgan.models.export import load_pretrained, save_pretrained
from secgan.models.registry import FAMILIES, build_model, spec_of
from secgan.models.stargan import StarGANDiscriminator, StarGANGenerator
from secgan.models.stgan import STGANDiscriminator, STGANGenerator

TINY = [
    StarGANGenerator(n_attrs=3, conv_dim=4, n_res=1),
    StarGANGenerator(12, 12, n_attrs=3, conv_dim=4, n_res=1, output="softmax"),
    StarGANDiscriminator(image_size=16, n_attrs=3, conv_dim=4, n_layers=2),
    AttGANGenerator(n_attrs=3, enc_dim=4, dec_dim=4, n_layers=3, max_dim=16),
    AttGANDiscriminator(image_size=16, n_attrs=3, dim=4, n_layers=2, fc_dim=8),
    BiSeNet(19, base_width=4),
    AttributeClassifier(3, image_size=16, widths=(4, 8), fc_dim=8),
    STGANGenerator(n_attrs=3, enc_dim=4, dec_dim=4, stu_dim=4, n_layers=3, max_dim=16),
    STGANDiscriminator(image_size=16, n_attrs=3, dim=4, n_layers=2, fc_dim=8),
]


def test_every_family_is_registered_and_rebuilds_from_its_spec():
    # (the exact list of families is checked by test_family_contract.py: every family has a case there)
    assert {
        "stargan_g",
        "stargan_d",
        "attgan_g",
        "attgan_d",
        "stgan_g",
        "stgan_d",
        "bisenet",
        "classifier",
    } <= set(FAMILIES)
    for net in TINY:
        spec = spec_of(net)
        spec = json.loads(json.dumps(spec))  # survives JSON
        rebuilt = build_model(spec)
        assert type(rebuilt) is type(net)
        assert spec_of(rebuilt) == spec
        assert {k: v.shape for k, v in rebuilt.state_dict().items()} == {
            k: v.shape for k, v in net.state_dict().items()
        }


def test_build_model_errors_list_valid_choices():
    with pytest.raises(ConfigError, match="stargan_g"):
        build_model({"family": "resnet", "kwargs": {}})
    with pytest.raises(ConfigError, match="conv_dim"):
        build_model({"family": "stargan_g", "kwargs": {"width": 3}})


def _run(net: torch.nn.Module) -> torch.Tensor | tuple:
    torch.manual_seed(1)
    if isinstance(net, (StarGANGenerator, AttGANGenerator, STGANGenerator)):
        return net(torch.randn(2, net.in_channels, 16, 16), torch.randn(2, net.n_attrs))
    return net(torch.randn(2, 3, 16, 16))


def test_save_load_round_trip(tmp_path):
    torch.manual_seed(0)
    nets = {f"n{i}": net for i, net in enumerate(TINY)}
    for net in nets.values():  # move BN/IN running stats and counters away from their defaults
        net.train()
        _run(net)
        net.eval()
    meta = {"attributes": ["a", "b", "c"], "image_size": 16, "conditioning": "diff"}
    save_pretrained(tmp_path, nets, meta)
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["format"] == "secgan-model" and config["version"] == 1
    assert config["networks"]["n0"]["family"] == "stargan_g" and config["attributes"] == ["a", "b", "c"]
    loaded, meta2 = load_pretrained(tmp_path)
    assert meta2 == meta and set(loaded) == set(nets)
    for name, net in nets.items():
        for k, v in net.state_dict().items():
            assert torch.equal(loaded[name].state_dict()[k], v), (name, k)
        out_a, out_b = _run(net), _run(loaded[name])
        for a, b in zip(
            out_a if isinstance(out_a, tuple) else (out_a,), out_b if isinstance(out_b, tuple) else (out_b,)
        ):
            torch.testing.assert_close(a, b)
    assert load_file(str(tmp_path / "n5.safetensors"))["cp.resnet.bn1.num_batches_tracked"].item() == 1
    only, _ = load_pretrained(tmp_path, names=["n6"])
    assert list(only) == ["n6"]


def test_load_errors_name_the_file(tmp_path):
    save_pretrained(tmp_path, {"G": TINY[0]}, {})
    # another architecture under the same name: shape mismatch
    other = StarGANGenerator(n_attrs=3, conv_dim=8, n_res=1)
    save_file({k: v.contiguous() for k, v in other.state_dict().items()}, str(tmp_path / "G.safetensors"))
    with pytest.raises(WeightsError, match=r"G\.safetensors.*another architecture"):
        load_pretrained(tmp_path)
    # a missing key
    state = {k: v.contiguous() for k, v in TINY[0].state_dict().items()}
    state.pop("main.0.weight")
    save_file(state, str(tmp_path / "G.safetensors"))
    with pytest.raises(WeightsError, match="missing key"):
        load_pretrained(tmp_path)
    # an unexpected key
    state = {k: v.contiguous() for k, v in TINY[0].state_dict().items()}
    state["extra.weight"] = torch.zeros(1)
    save_file(state, str(tmp_path / "G.safetensors"))
    with pytest.raises(WeightsError, match="unexpected key"):
        load_pretrained(tmp_path)
    (tmp_path / "G.safetensors").unlink()
    with pytest.raises(WeightsError, match="G.safetensors"):
        load_pretrained(tmp_path)
    with pytest.raises(WeightsError, match="config.json"):
        load_pretrained(tmp_path / "nowhere")
    with pytest.raises(WeightsError, match="no network"):
        load_pretrained(tmp_path, names=["D"])


def test_shared_storage_tensors_are_saved(tmp_path):
    net = AttributeClassifier(3, image_size=16, widths=(4, 8), fc_dim=8)
    net.head.bias = torch.nn.Parameter(net.fc[0].bias[:3])  # a view sharing storage with another parameter
    save_pretrained(tmp_path, {"classifier": net}, {})
    loaded, _ = load_pretrained(tmp_path)
    torch.testing.assert_close(loaded["classifier"].head.bias, net.head.bias)
