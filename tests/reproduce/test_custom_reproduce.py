"""``secgan reproduce --preset custom-{backbone}-{size} --data DIR`` end to end on a tiny folder of one's own
labelled faces (synthetic faces written in the custom CSV format): data check, a parser trained on
synthetic faces, classifier, Baseline and SeCGAN, evaluation, report, OUT/model; `secgan edit` uses the
model; a second invocation reuses every stage."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from secgan.cli import main
from secgan.data.custom import custom_from_celeba, load_custom
from secgan.reproduce.custom import CUSTOM_PRESETS, reproduce_custom, with_iterations
from secgan.reproduce.stages import valid_model_folder

TINY_TRAIN = (
    "train.n_critic=1",
    "train.batch_size=4",
    "model.g_conv_dim=8",
    "model.g_n_res=1",
    "model.d_conv_dim=8",
    "log.sample_every=2",
    "log.checkpoint_every=2",
    "log.tensorboard=false",
)


def test_custom_from_celeba_writes_the_custom_format(tmp_path):
    assert main(["synth", str(tmp_path / "s"), "--num", "12", "--workers", "1", "--no-progress"]) == 0
    assert custom_from_celeba(tmp_path / "s", tmp_path / "c") == 12
    ds = load_custom(tmp_path / "c", split="all", image_size=32)
    assert len(ds) == 12 and len(ds.attributes) == 13 and (tmp_path / "c" / "img" / "000001.jpg").is_file()


def test_iterations_and_the_preset_names():
    assert set(CUSTOM_PRESETS) == {f"custom-{b}-{s}" for b in ("stargan", "attgan") for s in (64, 128)}
    p = with_iterations(CUSTOM_PRESETS["custom-stargan-64"], 10)
    assert p.train_overrides[:2] == ("train.iterations=10", "train.decay_start=5")
    assert "data.dataset=custom" in p.train_overrides and p.dataset == "custom"


@pytest.mark.slow
def test_custom_reproduction_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["synth", str(tmp_path / "s"), "--num", "60", "--workers", "1", "--no-progress"]) == 0
    data = tmp_path / "faces"
    custom_from_celeba(tmp_path / "s", data)
    base = with_iterations(CUSTOM_PRESETS["custom-stargan-64"], 2)
    preset = dataclasses.replace(
        base,
        parser_epochs=1,
        parser_extra=("--batch", "8", "--base-width", "8", "--input-size", "64"),
        classifier_epochs=1,
        classifier_extra=("--batch", "16"),
        train_overrides=(*base.train_overrides, *TINY_TRAIN),
        eval_max_images=4,
        eval_extra=("--batch", "4", "--examples", "2"),
        edit_samples=2,
    )
    out = tmp_path / "repro"
    res = reproduce_custom(preset, out, data, device="cpu", parser_faces=24)
    assert (out / "report.md").is_file() and json.loads((out / "results.json").read_text())
    assert set(res["methods"]) == {"baseline", "secgan"}
    for run in ("baseline-s0", "secgan-s0"):
        assert (out / "runs" / run / "eval" / "metrics.json").is_file()
    model = out / "model"
    assert valid_model_folder(model, "G", "classifier")  # the SeCGAN export with its classifier
    config = json.loads((model / "config.json").read_text())
    assert config["mode"] == "secgan" and config["dataset"] == "custom"
    # what a practitioner does next: edit a face of their own with OUT/model
    face = np.asarray(Image.open(sorted((data / "img").glob("*.jpg"))[0]))
    Image.fromarray(face).save(tmp_path / "me.png")
    capsys.readouterr()
    rc = main(["edit", str(out), str(tmp_path / "me.png"), "--aligned", "--edit", "+Bangs",
               "--out", str(tmp_path / "edited")])  # fmt: skip
    assert rc == 0 and (tmp_path / "edited" / "me.png").is_file()
    # resumable: a second invocation runs nothing again
    again = reproduce_custom(preset, out, data, device="cpu", parser_faces=24)
    assert all(s["skipped"] for s in again["stages"].values()), again["stages"]
