"""The parser contract: :class:`~secgan.auxiliary.parser.protocol.ParserLike`, and its one input-size
default (:mod:`secgan.models.parser_input`).

A parser folder that records no ``input_size`` runs at the same side in the trainer, in the card it
writes, in the evaluator (``--parser``, ``--judge-parser`` and the bundled parser of a card without a
size), in the editor and in ``secgan parser train``'s settings: ``max(256, S)`` for a BiSeNet, ``S`` for
the U-Net judge. A small fake satisfying the protocol, no ``nn.Module``, trains in the trainer's step.
"""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from secgan_train_toys import ToyFaces, tiny_config

from secgan.auxiliary.parser import FrozenParser, ParserLike, parser_hash
from secgan.auxiliary.parser_settings import ParserTrainSettings
from secgan.config import apply_overrides
from secgan.errors import WeightsError
from secgan.metrics.eval_files import EvalOptions
from secgan.metrics.eval_parsers import load_judge, load_parser
from secgan.models.bisenet import BiSeNet
from secgan.models.export import BundledParserCard, ModelCard
from secgan.models.parser_input import MIN_INPUT_SIZE, parser_input_size
from secgan.models.unet_parser import UNetParser
from secgan.training.trainer import Trainer

S = 32  # the image side of the toy faces
CPU = torch.device("cpu")


def _folder_without_size(tmp_path, net, name="P"):
    """A parser folder whose config.json records no input_size (hand-written or from another tool)."""
    d = tmp_path / name
    FrozenParser(net, input_size=64).save(d, trained_on="toy")
    cfg = json.loads((d / "config.json").read_text())
    del cfg["input_size"]
    (d / "config.json").write_text(json.dumps(cfg))
    return d


def test_one_default_for_a_parser_folder_without_a_size(tmp_path):
    torch.manual_seed(0)
    folder = _folder_without_size(tmp_path, BiSeNet(19, base_width=4))
    expected = max(MIN_INPUT_SIZE, S)
    assert expected == parser_input_size(None, S) == 256 and parser_input_size(48, S) == 48

    cfg = apply_overrides(tiny_config("stargan", "secgan"), [f"parser.dir={folder}"])
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(n=8), progress=False)  # loads the folder
    card = tr.model_card(0)  # the card writer
    opts = EvalOptions(model=tmp_path, data=tmp_path, dataset="celeba", classifier=tmp_path, parser=folder)
    evaluated, info = load_parser(opts, {}, card, CPU)  # the evaluator's --parser
    bare = ModelCard(attributes=card.attributes, image_size=S, mode="secgan", parser=BundledParserCard())
    bundled, _ = load_parser(
        EvalOptions(model=tmp_path, data=tmp_path, dataset="celeba", classifier=tmp_path),
        {"parser": BiSeNet(19, base_width=4)}, bare, CPU,
    )  # fmt: skip
    judge, judge_info = load_judge(
        EvalOptions(model=tmp_path, data=tmp_path, dataset="celeba", classifier=tmp_path, judge_parser=folder),
        None, CPU, image_size=S,
    )  # fmt: skip
    sizes = {
        "trainer": tr.parser.input_size,
        "card": card.parser.input_size,
        "evaluator": evaluated.input_size,
        "evaluator metrics.json": info["input_size"],
        "bundled (card without a size)": bundled.input_size,
        "ModelCard.parser_input_size": bare.parser_input_size,
        "judge": judge.input_size,
        "parser train settings": ParserTrainSettings().resolved(S).input_size,
    }
    assert set(sizes.values()) == {expected}, sizes
    # the folder's hash needs the size: none recorded and no image size known -> one line
    with pytest.raises(WeightsError, match="no input_size"):
        parser_hash(folder)


def test_the_unet_judge_defaults_to_the_image_size(tmp_path):
    folder = _folder_without_size(tmp_path, UNetParser(base_width=4, n_down=2), "J")
    opts = EvalOptions(
        model=tmp_path, data=tmp_path, dataset="celeba", classifier=tmp_path, judge_parser=folder
    )
    judge, _ = load_judge(opts, None, CPU, image_size=S)
    assert judge.input_size == S == ParserTrainSettings(arch="unet").resolved(S).input_size
    assert FrozenParser.load(folder, image_size=48).input_size == 48
    with pytest.raises(WeightsError, match="no input_size"):
        FrozenParser.load(folder)  # no size recorded, none given, none trained on


class FakeParser:
    """A ParserLike that is no ``nn.Module``: a fixed 1x1 projection of RGB to 12 segments."""

    def __init__(self) -> None:
        g = torch.Generator().manual_seed(5)
        self.weight = torch.randn(12, 3, 1, 1, generator=g)  # [12, 3, 1, 1]
        self.input_size = 40
        self.mean = torch.full((1, 3, 1, 1), 0.5)
        self.std = torch.full((1, 3, 1, 1), 0.25)
        self.meta = {"trained_on": "nothing"}
        self.calls = {"log_probs12": 0, "labels12": 0}

    def log_probs12(self, x: torch.Tensor) -> torch.Tensor:  # [N, 3, H, W] -> [N, 12, H, W]
        self.calls["log_probs12"] += 1
        return torch.log_softmax(F.conv2d(x.float(), self.weight), dim=1)

    def labels12(self, x: torch.Tensor) -> torch.Tensor:  # [N, H, W] long
        self.calls["labels12"] += 1
        with torch.no_grad():
            return self.log_probs12(x).argmax(dim=1)

    def to(self, *args, **kwargs) -> FakeParser:
        return self


def test_a_fake_satisfying_the_protocol_trains_in_the_step(tmp_path):
    fake = FakeParser()
    assert isinstance(fake, ParserLike) and isinstance(
        FrozenParser(BiSeNet(19, base_width=4), 32), ParserLike
    )
    cfg = tiny_config("stargan", "secgan", "train.iterations=2")
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(n=8, masks=False), parser=fake, progress=False)
    g0 = {k: v.clone() for k, v in tr.G_rgb.state_dict().items()}
    out = tr.train()
    stats = out["last_stats"]
    assert out["step"] == 2 and "G_rgb/sc" in stats and torch.isfinite(torch.tensor(stats["G_rgb/sc"]))
    assert fake.calls["log_probs12"] >= 1 and fake.calls["labels12"] >= 2  # eq. 11 and the source masks
    assert any(not torch.equal(g0[k], v) for k, v in tr.G_rgb.state_dict().items())
    card = json.loads((tmp_path / "run" / "export" / "config.json").read_text())
    assert card["parser"]["input_size"] == 40 and card["parser"]["mean"] == [0.5] * 3
