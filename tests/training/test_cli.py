"""``secgan train``: dry-run parameter counts, and a real run on synthetic CelebA-format data with a
parser folder and its mask cache."""

from __future__ import annotations

import json

import pytest
from secgan_train_toys import tiny_parser

from secgan.cli import main
from secgan.config import apply_overrides, load_config
from secgan.training.trainer import Trainer

TINY = [
    "data.image_size=32",
    "model.g_conv_dim=8",
    "model.g_n_res=1",
    "model.d_conv_dim=8",
    "model.d_n_layers=3",
    "train.batch_size=4",
    "train.n_critic=2",
    "train.iterations=4",
    "train.decay_start=2",
    "log.log_every=2",
    "log.sample_every=2",
    "log.checkpoint_every=2",
    "log.n_samples=2",
]


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("celeba-stargan-128-secgan", {"G_rgb": 8.46, "D_rgb": 44.83}),
        ("celeba-attgan-128-secgan", {"G_rgb": 43.46}),
    ],
)
def test_dry_run_prints_the_reference_parameter_counts(preset, expected, capsys):
    assert main(["train", "--config", preset, "--dry-run"]) == 0
    out = json.loads(capsys.readouterr().out)
    for name, millions in expected.items():
        assert round(out["params"][name] / 1e6, 2) == millions
    assert out["params"]["G_seg"] > 0 and out["config"]["model"]["mode"] == "secgan"
    assert out["config"]["data"]["root"] is None


def test_dry_run_rejects_an_unknown_key(capsys):
    assert (
        main(["train", "--config", "celeba-stargan-128-baseline", "--dry-run", "--set", "loss.lambda_x=1"])
        == 2
    )
    assert "valid keys of loss" in capsys.readouterr().err


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    from secgan.data.synthetic.writer import write_dataset

    root = tmp_path_factory.mktemp("synth")
    write_dataset(root, num=40, seed=0, workers=1, progress=False)
    pdir = tmp_path_factory.mktemp("parser")
    tiny_parser(32).save(pdir, trained_on="random")
    return root, pdir


def test_train_command_on_synthetic_data(synth, tmp_path, capsys):
    root, pdir = synth
    run = tmp_path / "run"
    args = ["train", "--config", "synthetic-stargan-64-secgan", "--data", str(root), "--parser", str(pdir)]
    args += ["--out", str(run), "--device", "cpu", "--no-progress"]
    for s in TINY:
        args += ["--set", s]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["step"] == 4 and summary["params"]["G_seg"] > 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["data"]["root"] == str(root) and cfg["parser"]["dir"] == str(pdir)
    assert (run / "export" / "G.safetensors").is_file() and (run / "samples" / "step-000004.png").is_file()
    # the same folder again without --resume is refused (no silent mix of two runs' checkpoints)
    assert main(args) == 2
    assert "--resume" in capsys.readouterr().err
    # --resume of a finished run with more iterations continues from step 4
    resume_more = ["train", "--out", str(run), "--resume", "--no-progress", "--set", "train.iterations=6"]
    assert main(resume_more) == 2  # a changed configuration needs --allow-changes
    assert "train.iterations: 4 -> 6" in capsys.readouterr().err
    assert main([*resume_more, "--allow-changes"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["step"] == 6
    steps = [json.loads(x)["step"] for x in (run / "stats.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6]


def test_mask_cache_is_used_when_present(synth, tmp_path):
    from secgan.auxiliary.parser import FrozenParser, parser_hash
    from secgan.auxiliary.parser.cache import build_mask_cache, default_cache_dir
    from secgan.data.registry import build_dataset

    root, pdir = synth
    parser = FrozenParser.load(pdir)
    ds = build_dataset("celeba", root, split="train", image_size=32)
    build_mask_cache(parser, ds, default_cache_dir(root, "celeba", "train", 32, parser_hash(parser)))
    cfg = apply_overrides(
        load_config("synthetic-stargan-64-secgan"), [*TINY, f"data.root={root}", f"parser.dir={pdir}"]
    )
    tr = Trainer(cfg, tmp_path / "run", progress=False)
    assert tr.dataset.mask_array is not None and tr.dataset.mask_array.shape == (len(ds), 32, 32)
    item = tr.dataset[0]
    assert (item["mask"] == parser.labels12(item["image"][None])[0]).float().mean() > 0.99
