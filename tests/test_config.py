"""Typed config, presets and --set overrides."""

from __future__ import annotations

import dataclasses
import json

import pytest

from secgan.config import (
    Config,
    apply_overrides,
    from_dict,
    load_config,
    preset_names,
    to_dict,
)
from secgan.errors import ConfigError

PAPER_PRESETS = {
    "celeba-stargan-128-baseline",
    "celeba-stargan-128-concat",
    "celeba-stargan-128-secgan",
    "celeba-attgan-128-baseline",
    "celeba-attgan-128-concat",
    "celeba-attgan-128-secgan",
    "celebahq-stargan-128-baseline",
    "celebahq-stargan-128-secgan",
    "celebahq-stargan-256-baseline",
    "celebahq-stargan-256-secgan",
    "rafd-stargan-128-baseline",
    "rafd-stargan-128-secgan",
}


def test_every_table1_setting_has_a_preset():
    names = set(preset_names())
    assert PAPER_PRESETS <= names
    for m in ("baseline", "concat", "secgan"):
        for backbone in ("stargan", "attgan", "stgan"):
            assert f"synthetic-{backbone}-64-{m}" in names
        assert f"celeba-stgan-128-{m}" in names  # the third backbone the paper names (not in its Table 1)
    for name in names:
        cfg = load_config(name)
        dataset, backbone, res, mode = name.rsplit("-", 3)
        assert cfg.model.backbone == backbone and cfg.model.mode == mode
        assert cfg.data.image_size == int(res)
        if dataset != "synthetic":
            assert cfg.data.dataset == dataset and cfg.data.root is None
        assert cfg.loss.lambda_sc == 0.01 and cfg.loss.lambda_gp == 10
        # N of Algorithm 1: the paper's 5, except in the synthetic recipe (docs/synthetic-benchmark.md),
        # where it is 1 for every backbone and method alike.
        assert cfg.train.n_critic == (1 if name.startswith("synthetic-") else 5)
        assert (cfg.train.beta1, cfg.train.beta2) == (0.5, 0.999)
    for backbone in ("stargan", "attgan", "stgan"):
        synthetic = [load_config(f"synthetic-{backbone}-64-{m}") for m in ("baseline", "concat", "secgan")]
        recipes = [(c.train, c.loss, dataclasses.replace(c.model, mode="-")) for c in synthetic]
        assert recipes[0] == recipes[1] == recipes[2], backbone  # one recipe for every method
    # one synthetic recipe for every backbone too (float32, batch 16, lr 4e-4, the demo's budget)
    recipe = {
        (c.train.batch_size, c.train.amp, c.train.g_lr, c.train.d_lr, c.train.iterations, c.train.decay_start)
        for c in (load_config(f"synthetic-{b}-64-secgan") for b in ("stargan", "attgan", "stgan"))
    }
    assert recipe == {(16, False, 4e-4, 4e-4, 500, 250)}


def test_paper_hyperparameters():
    s = load_config("celeba-stargan-128-secgan")
    assert (s.train.iterations, s.train.batch_size, s.train.g_lr, s.train.d_lr) == (200_000, 16, 1e-4, 1e-4)
    assert (s.train.schedule, s.train.decay_start) == ("linear", 100_000)
    assert (s.loss.lambda_cls_g, s.loss.lambda_cls_d, s.loss.lambda_rec) == (1, 1, 10)
    assert s.loss.cls_reduction == "sum_over_attrs_mean_over_batch" and s.model.conditioning == "diff"
    a = load_config("celeba-attgan-128-secgan")
    assert (a.train.batch_size, a.train.g_lr, a.train.schedule, a.train.final_lr) == (
        32,
        2e-4,
        "exponential",
        2e-6,
    )
    assert a.train.iterations == 200 * 182_000 // 32 and a.train.decay_start == a.train.iterations // 2
    assert (a.loss.lambda_rec, a.loss.lambda_cls_g, a.loss.lambda_cls_d, a.loss.cls_reduction) == (
        100,
        10,
        1,
        "mean",
    )
    r = load_config("rafd-stargan-128-secgan")
    assert r.loss.cls_loss == "ce" and len(r.data.attributes) == 8
    assert load_config("celebahq-stargan-256-baseline").data.dataset == "celebahq"


def test_stgan_official_hyperparameters():
    """The defaults of the official STGAN train.py: batch 32, Adam(0.5, 0.999), lr 2e-4 for 100 epochs then
    2e-5 for 100 more (an epoch = 182,000 // (32 x 6) = 947 iterations of 5 critic steps and 1 G step),
    n_d 5, lambda_rec 100, lambda_cls 10 (G) / 1 (D), GP 10, the difference label."""
    t = load_config("celeba-stgan-128-secgan")
    assert (t.train.batch_size, t.train.n_critic, t.train.g_lr, t.train.d_lr) == (32, 5, 2e-4, 2e-4)
    assert (t.train.beta1, t.train.beta2, t.train.schedule) == (0.5, 0.999, "step")
    assert t.train.iterations == 200 * (182_000 // (32 * 6)) * 5 == 947_000
    assert t.train.decay_start == t.train.iterations // 2
    assert (t.loss.lambda_rec, t.loss.lambda_cls_g, t.loss.lambda_cls_d, t.loss.lambda_gp) == (100, 10, 1, 10)
    assert t.loss.cls_reduction == "mean" and t.model.conditioning == "diff" and t.data.flip is False
    m = t.model
    assert (m.g_conv_dim, m.g_n_layers, m.g_shortcut_layers, m.g_inject_layers) == (64, 5, 4, 4)
    assert (m.g_stu_dim, m.g_stu_layers, m.g_stu_inject_layers, m.d_n_layers, m.d_fc_dim) == (
        64,
        4,
        4,
        5,
        1024,
    )
    # lr / 10 ** (epoch // 100): the first critic step of epoch 100 is step 473,501 (1-based)
    from secgan.training.schedule import lr_at

    lrs = [
        lr_at(s, t.train.g_lr, t.train.iterations, t.train.decay_start, "step", t.train.final_lr)
        for s in (1, 473_500, 473_501, 947_000)
    ]
    assert lrs == [2e-4, 2e-4, 2e-5, 2e-5]
    with pytest.raises(ConfigError, match="train.final_lr must be > 0 with train.schedule=step"):
        apply_overrides(t, ["train.final_lr=0"])


def test_overrides_are_typed():
    cfg = load_config("celeba-stargan-128-secgan")
    cfg2 = apply_overrides(
        cfg,
        [
            "train.iterations=40",
            "train.g_lr=2e-3",
            "train.amp=true",
            "data.root=/x/y",
            "data.attributes=Bald,Male",
            "data.max_items=null",
            "seed=7",
            "train.decay_start=1_000",
        ],
    )
    assert cfg2.train.iterations == 40 and isinstance(cfg2.train.iterations, int)
    assert cfg2.train.g_lr == 2e-3 and cfg2.train.amp is True
    assert (
        cfg2.data.root == "/x/y" and cfg2.data.attributes == ("Bald", "Male") and cfg2.data.max_items is None
    )
    assert cfg2.seed == 7 and cfg2.train.decay_start == 1000
    assert cfg.train.iterations == 200_000  # frozen original untouched
    with pytest.raises(ConfigError, match=r"unknown key 'train.iters'.*valid keys of train: iterations"):
        apply_overrides(cfg, ["train.iters=3"])
    with pytest.raises(ConfigError, match="unknown config section 'trian'"):
        apply_overrides(cfg, ["trian.iterations=3"])
    with pytest.raises(ConfigError, match="expected an integer"):
        apply_overrides(cfg, ["train.iterations=1.5"])
    with pytest.raises(ConfigError, match="model.mode='best'.*baseline, concat, secgan"):
        apply_overrides(cfg, ["model.mode=best"])
    with pytest.raises(ConfigError, match="key=value"):
        apply_overrides(cfg, ["train.iterations"])


def test_json_round_trip(tmp_path):
    cfg = apply_overrides(load_config("rafd-stargan-128-secgan"), ["data.root=/d"])
    path = tmp_path / "config.json"
    path.write_text(json.dumps(to_dict(cfg)))
    back = from_dict(json.loads(path.read_text()))
    assert back == cfg and isinstance(back, Config)


def test_yaml_file_extends_a_preset(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("extends: celeba-attgan-128-secgan\ntrain:\n  iterations: 12\nseed: 3\n")
    cfg = load_config(str(path))
    assert cfg.train.iterations == 12 and cfg.seed == 3 and cfg.model.backbone == "attgan"
    assert cfg.loss.lambda_rec == 100 and cfg.name == "mine"
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  iters: 3\n")
    with pytest.raises(ConfigError, match="unknown key train.iters"):
        load_config(str(bad))
    with pytest.raises(ConfigError, match="unknown preset"):
        load_config("no-such-preset")


def test_reference_departures_defaults():
    # AttGAN-PyTorch does not flip; official StarGAN does. Both keep flips as an option.
    for name in preset_names():
        cfg = load_config(name)
        if name.startswith("_"):
            continue
        assert cfg.data.flip == (cfg.model.backbone == "stargan"), name
        if cfg.model.backbone == "stargan":
            assert cfg.train.schedule == "linear", name  # the paper's decay to 0
    cfg = apply_overrides(load_config("celeba-attgan-128-secgan"), ["data.flip=true"])
    assert cfg.data.flip is True
    cfg = apply_overrides(load_config("celeba-stargan-128-secgan"), ["train.schedule=stargan_official"])
    assert cfg.train.schedule == "stargan_official"
    # RaFD: the paper's cameras unless set, seeded random identity split
    rafd = load_config("rafd-stargan-128-secgan")
    assert rafd.data.loader_options() == {"identity_split": "random", "split_seed": 0}
    rafd = apply_overrides(rafd, ["data.cameras=090", "data.identity_split=sorted"])
    assert rafd.data.loader_options() == {"identity_split": "sorted", "split_seed": 0, "cameras": ["090"]}
    with pytest.raises(ConfigError, match="data.identity_split"):
        apply_overrides(rafd, ["data.identity_split=alphabetical"])
