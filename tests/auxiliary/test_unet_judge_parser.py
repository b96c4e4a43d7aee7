"""The U-Net parser (the evaluation's independent judge): built from its spec, it trains through the
parser loop, saves and loads as a parser folder that records its own IoU against the ground truth, and
the frozen wrapper treats it as it treats the BiSeNet."""

from __future__ import annotations

import pytest
import torch

from secgan.auxiliary.parser import FrozenParser, parser_hash
from secgan.auxiliary.parser.train import build_parser_net, confusion_matrix, fit_parser, iou_report
from secgan.errors import ConfigError
from secgan.models.registry import build_model, spec_of
from secgan.models.unet_parser import UNetParser
from tiny_fixtures import TinyFaces


def test_unet_from_spec_round_trip_through_a_parser_folder(tmp_path):
    torch.manual_seed(0)
    net = build_model({"family": "unet_parser", "kwargs": {"base_width": 4, "n_down": 2}})
    assert isinstance(net, UNetParser) and spec_of(net)["kwargs"] == {
        "n_classes": 19,
        "base_width": 4,
        "n_down": 2,
    }
    for m in net.modules():  # non-trivial BatchNorm statistics: a lost buffer would show
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    parser = FrozenParser(net, input_size=32)
    evaluation = {"split": "test", "images": 3, "mean_iou": 0.625}
    parser.save(tmp_path / "J", trained_on="unit test", evaluation=evaluation)
    loaded = FrozenParser.load(tmp_path / "J")
    assert loaded.arch == "unet_parser" and isinstance(loaded.net, UNetParser)
    assert loaded.miou_vs_ground_truth == 0.625 and loaded.meta["evaluation"] == evaluation
    assert parser_hash(loaded) == parser_hash(parser) == parser_hash(tmp_path / "J")
    x = torch.rand(2, 3, 48, 48) * 2 - 1  # another size than it runs at: resized in and out
    probs = loaded.probs12(x)
    assert probs.shape == (2, 12, 48, 48)
    torch.testing.assert_close(probs.sum(1), torch.ones(2, 48, 48))
    torch.testing.assert_close(probs, parser.probs12(x), rtol=0, atol=0)
    assert torch.equal(loaded.labels12(x), probs.argmax(1))
    # gradients reach the image through the frozen U-Net, as through the frozen BiSeNet
    x.requires_grad_(True)
    loaded.log_probs12(x)[:, 0].mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(not p.requires_grad for p in loaded.parameters())


def test_unet_input_side_must_divide_by_its_downsamplings():
    with pytest.raises(ConfigError, match="multiple of 8"):
        build_parser_net("unet", 4, 36)
    with pytest.raises(ConfigError, match="valid: bisenet, unet"):
        build_parser_net("segformer", 4, 32)
    with pytest.raises(ValueError, match="divisible by 8"):
        UNetParser(base_width=4)(torch.zeros(1, 3, 20, 20))


def test_fit_unet_judge_records_its_iou_in_its_folder(tmp_path):
    train, test = TinyFaces(n=48, size=32, seed=0), TinyFaces(n=16, size=32, seed=1)
    result = fit_parser(
        train, test, tmp_path / "J", epochs=6, base_width=8, seed=1, arch="unet", eval_split="test"
    )
    # the U-Net runs at the image size by default (no upsampling to 256 px, unlike the BiSeNet)
    assert result["arch"] == "unet" and result["input_size"] == 32 and result["settings"]["arch"] == "unet"
    assert result["iou"]["others"] > 0.8 and result["mean_iou"] > 0.5
    judge = FrozenParser.load(tmp_path / "J")
    assert judge.arch == "unet_parser" and judge.meta["training"]["seed"] == 1
    assert judge.meta["evaluation"]["split"] == "test" and judge.meta["evaluation"]["images"] == 16
    assert judge.miou_vs_ground_truth == result["mean_iou"]
    # measured again with the loaded folder, on the same images: the same report
    images = torch.stack([it["image"] for it in test.items])
    masks = torch.stack([it["mask"] for it in test.items])
    assert iou_report(confusion_matrix(judge.labels12(images), masks))["mean_iou"] == result["mean_iou"]
