"""``secgan parser ...`` and ``secgan classifier ...`` end to end on a few synthetic faces."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from secgan.cli import main


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    assert main(["synth", str(root), "--num", "40", "--seed", "3", "--workers", "1", "--no-progress"]) == 0
    return root


def _json(capsys) -> dict:
    return json.loads(capsys.readouterr().out)


def test_parser_commands(synth, tmp_path, capsys):
    p_dir = tmp_path / "P"
    args = [
        "parser",
        "train",
        "--data",
        str(synth),
        "--dataset",
        "celeba",
        "--size",
        "32",
        "--out",
        str(p_dir),
    ]
    assert main(args + ["--epochs", "1", "--batch", "8", "--base-width", "4"]) == 0
    result = _json(capsys)
    assert result["size"] == 32 and result["eval_split"] == "test" and len(result["iou"]) == 12
    assert 0 <= result["mean_iou"] <= 1 and result["images"] > 0
    assert (p_dir / "parser.safetensors").is_file()

    assert main(["parser", "eval", str(p_dir), "--data", str(synth), "--dataset", "celeba"]) == 0
    again = _json(capsys)
    assert again["mean_iou"] == result["mean_iou"]  # same parser, same held-out images

    img = next((synth / "img_align_celeba").glob("*.jpg"))
    assert main(["parser", "predict", str(p_dir), str(img), "--out", str(tmp_path / "m.png")]) == 0
    pred = _json(capsys)
    assert abs(sum(pred["fractions"].values()) - 1) < 1e-3
    assert Image.open(tmp_path / "m.png").size == Image.open(img).size
    # --out naming the input image never overwrites it: NAME.edited.EXT is written instead
    photo = tmp_path / "face.png"
    photo.write_bytes((tmp_path / "m.png").read_bytes())
    before = photo.read_bytes()
    assert main(["parser", "predict", str(p_dir), str(photo), "--out", str(photo)]) == 0
    assert _json(capsys)["mask"] == str(tmp_path / "face.edited.png") and photo.read_bytes() == before

    assert (
        main(["parser", "cache", str(p_dir), "--data", str(synth), "--dataset", "celeba", "--size", "32"])
        == 0
    )
    cache = _json(capsys)
    masks = np.load(f"{cache['cache_dir']}/masks.npy")
    assert masks.shape == (cache["count"], 32, 32) and masks.dtype == np.uint8
    assert ".secgan-cache" in cache["cache_dir"] and cache["parser_hash"] in cache["cache_dir"]

    # user errors: one line, exit status 2
    assert main(["parser", "eval", str(tmp_path / "none"), "--data", str(synth), "--dataset", "celeba"]) == 2
    assert "config.json" in capsys.readouterr().err
    assert main(["parser", "import", str(tmp_path / "79999_iter.pth"), "--out", str(tmp_path / "Q")]) == 2
    assert "79999_iter.pth" in capsys.readouterr().err
    # an existing parser folder is not replaced without --overwrite (checked before the checkpoint is read)
    assert main(["parser", "import", str(tmp_path / "79999_iter.pth"), "--out", str(p_dir)]) == 2
    assert "already exists" in capsys.readouterr().err and (p_dir / "config.json").is_file()


def test_classifier_commands(synth, tmp_path, capsys):
    c_dir = tmp_path / "C"
    args = [
        "classifier",
        "train",
        "--data",
        str(synth),
        "--dataset",
        "celeba",
        "--size",
        "32",
        "--out",
        str(c_dir),
    ]
    assert main(args + ["--epochs", "1", "--batch", "16", "--attrs", "Male,Eyeglasses"]) == 0
    result = _json(capsys)
    assert list(result["accuracy"]) == ["Male", "Eyeglasses"] and 0 <= result["mean_accuracy"] <= 1
    assert main(["classifier", "eval", str(c_dir), "--data", str(synth)]) == 0
    again = _json(capsys)
    assert again["accuracy"] == result["accuracy"] and again["dataset"] == "celeba"
    assert main(args + ["--attrs", "Not_An_Attribute"]) == 2
    assert "Not_An_Attribute" in capsys.readouterr().err
