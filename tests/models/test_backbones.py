"""The backbone table (secgan.models.backbones): the one place a backbone is declared. The config's choices,
the networks a run builds, the registry's families and the base presets all follow it."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import torch

import secgan
from secgan.config import BACKBONES, LossConfig, ModelConfig, apply_overrides, load_config
from secgan.errors import ConfigError
from secgan.models.backbones import BACKBONES as TABLE
from secgan.models.backbones import get_backbone
from secgan.models.registry import FAMILIES
from secgan.training.networks import build_networks
from tiny_fixtures import TinyFaces, tiny_parser

ATTRS = ("Bald", "Bangs", "Black_Hair", "Blond_Hair")


def test_config_choices_and_families_derive_from_the_table():
    assert BACKBONES == tuple(TABLE) == ("stargan", "attgan", "stgan")
    for b in TABLE.values():
        assert (
            FAMILIES[b.generator.family] is b.generator
            and FAMILIES[b.discriminator.family] is b.discriminator
        )
    model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
    loss_fields = {f.name for f in dataclasses.fields(LossConfig)}
    for b in TABLE.values():
        assert set(b.g_args.values()) | set(b.d_args.values()) <= model_fields, b.name
        assert set(b.model_defaults) <= model_fields and set(b.loss_defaults) <= loss_fields, b.name


def test_unknown_backbone_is_one_line_naming_the_choices():
    with pytest.raises(
        ConfigError, match=r"^model.backbone='stylegan' is not valid; .*stargan, attgan, stgan$"
    ):
        get_backbone("stylegan")
    with pytest.raises(ConfigError, match=r"model.backbone='stylegan'.*stargan, attgan, stgan"):
        apply_overrides(load_config("synthetic-stgan-64-secgan"), ["model.backbone=stylegan"])


@pytest.mark.parametrize("name", list(TABLE))
def test_base_preset_states_the_table_defaults(name):
    cfg = load_config(f"_base-{name}")
    b = TABLE[name]
    assert cfg.model.backbone == name
    assert {k: getattr(cfg.model, k) for k in b.model_defaults} == dict(b.model_defaults)
    assert {k: getattr(cfg.loss, k) for k in b.loss_defaults} == dict(b.loss_defaults)


def test_a_yaml_naming_a_backbone_gets_its_defaults(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("model:\n  backbone: stgan\n  g_conv_dim: 32\nloss:\n  lambda_rec: 50\n")
    cfg = load_config(str(path))
    assert cfg.model.g_conv_dim == 32 and cfg.loss.lambda_rec == 50  # the file's own values win
    assert (cfg.model.g_shortcut_layers, cfg.model.g_stu_layers, cfg.model.d_n_layers) == (4, 4, 5)
    assert (cfg.loss.lambda_cls_g, cfg.loss.cls_reduction) == (10.0, "mean")
    path.write_text("model:\n  mode: baseline\n")  # no backbone named: StarGAN, the dataclass default
    cfg = load_config(str(path))
    assert (cfg.model.backbone, cfg.model.d_n_layers, cfg.loss.lambda_rec) == ("stargan", 6, 10.0)


@pytest.mark.parametrize("name", list(TABLE))
def test_networks_are_the_table_classes_in_every_mode(name):
    b = TABLE[name]
    for mode, expected in [("baseline", 2), ("concat", 2), ("secgan", 4)]:
        cfg = apply_overrides(
            load_config(f"synthetic-{name}-64-{mode}"), ["data.attributes=" + ",".join(ATTRS)]
        )
        nets = build_networks(cfg)
        assert len(nets) == expected
        assert type(nets["G_rgb"]) is b.generator and type(nets["D_rgb"]) is b.discriminator
        assert nets["G_rgb"].spec_kwargs["in_channels"] == (15 if mode == "concat" else 3)
        if mode == "secgan":
            assert type(nets["G_seg"]) is b.generator and nets["G_seg"].spec_kwargs["output"] == "softmax"
            assert nets["D_seg"].spec_kwargs["in_channels"] == 12


def test_no_backbone_name_tests_in_src():
    """A backbone is added through the table only: no code branches on its name."""
    src = Path(secgan.__file__).parent
    hits = [
        f"{p.relative_to(src)}:{i}"
        for p in src.rglob("*.py")
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"backbone\s*[!=]=", line)
    ]
    assert hits == []


def test_stgan_secgan_trains_a_few_steps(tmp_path):
    from secgan.training.trainer import Trainer

    cfg = apply_overrides(
        load_config("synthetic-stgan-64-secgan"),
        [
            "data.image_size=32",
            "data.attributes=" + ",".join(ATTRS),
            "model.g_conv_dim=4",
            "model.g_stu_dim=4",
            "model.g_n_layers=3",
            "model.d_conv_dim=4",
            "model.d_n_layers=3",
            "model.d_fc_dim=8",
            "train.batch_size=4",
            "train.n_critic=2",
            "train.amp=false",
            "train.iterations=4",
            "train.decay_start=2",
            "log.log_every=1",
            "log.sample_every=1000",
            "log.checkpoint_every=1000",
            "log.n_samples=2",
            "log.tensorboard=false",
        ],
    )
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        data = TinyFaces(n=12, size=32, attributes=list(ATTRS))
        tr = Trainer(cfg, tmp_path / "run", dataset=data, parser=tiny_parser(), progress=False)
        weights = {n: {k: p.detach().clone() for k, p in m.named_parameters()} for n, m in tr.nets.items()}
        out = tr.train()
    finally:
        torch.set_num_threads(before)
    assert out["step"] == 4 and set(tr.nets) == {"G_rgb", "D_rgb", "G_seg", "D_seg"}
    for name, net in tr.nets.items():  # every parameter moved, the STUs' included ...
        still = [k for k, p in net.named_parameters() if torch.equal(weights[name][k], p)]
        # ... but the adversarial head's last bias: the Wasserstein loss and the GP do not depend on it
        assert still == (["fc_adv.2.bias"] if name.startswith("D") else []), name
    stats = out["last_stats"]
    assert all(torch.isfinite(torch.tensor(float(stats[k]))) for k in ("D_rgb/gp", "G_rgb/rec", "G_rgb/sc"))


def test_reproduce_backbone_option_swaps_the_training_presets():
    from secgan.cli.reproduce_cmd import with_backbone
    from secgan.reproduce.plans import get_preset

    demo = get_preset("demo")
    assert with_backbone(demo, None) is demo and with_backbone(demo, "attgan") is demo  # its own backbone
    st = with_backbone(demo, "stgan")
    assert (st.backbone, st.train_preset, st.runs, st.train_overrides) == (
        "stgan",
        "synthetic-stgan-64",
        demo.runs,
        demo.train_overrides,
    )
    assert with_backbone(get_preset("celeba-stargan-128"), "stgan").train_preset == "celeba-stgan-128"
    with pytest.raises(ConfigError, match=r"needs training presets \['celebahq-stgan-128-baseline'"):
        with_backbone(get_preset("celebahq-stargan-128"), "stgan")
    with pytest.raises(ConfigError, match="stargan, attgan, stgan"):
        with_backbone(demo, "stylegan")
