"""FrozenParser: 19 -> 12 through the labels12 path, eval mode under a parent's train(), gradients to the
input only, content hash; the import of the public checkpoint layout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from secgan.auxiliary.parser import FrozenParser, parser_hash
from secgan.auxiliary.parser.importer import import_public_parser
from secgan.data.masks import PARTS_19
from secgan.errors import WeightsError
from secgan.models.bisenet import BiSeNet
from secgan.models.export import read_config

_spec = importlib.util.spec_from_file_location(
    "bisenet_keys", Path(__file__).parents[1] / "models" / "bisenet_keys.py"
)
bisenet_keys = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bisenet_keys)

# A hand-made 19-class map covering every class, and its 12-segment image under paper-notes §5's table.
LABELS19 = [
    [0, 17, 17, 17, 17, 18],
    [7, 2, 1, 1, 3, 8],
    [9, 4, 10, 6, 5, 9],
    [14, 12, 11, 13, 15, 16],
]
EXPECTED12 = [
    [11, 10, 10, 10, 10, 11],
    [4, 1, 0, 0, 1, 4],
    [5, 2, 6, 3, 2, 5],
    [9, 8, 7, 8, 11, 11],
]


class StubNet(nn.Module):
    """Returns confident logits of a fixed 19-class label map, whatever the input."""

    def __init__(self, labels19: torch.Tensor) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(8.0))
        self.register_buffer("onehot", nn.functional.one_hot(labels19, 19).permute(2, 0, 1)[None].float())

    def forward(self, x, output_size=None):
        logits = self.onehot.expand(x.shape[0], -1, -1, -1) * self.scale
        return logits, logits, logits


def test_19_to_12_on_a_hand_made_label_map():
    labels19 = torch.tensor(LABELS19)
    assert sorted(set(labels19.flatten().tolist())) == list(range(len(PARTS_19)))
    parser = FrozenParser(StubNet(labels19), input_size=16)
    x = torch.zeros(2, 3, 4, 6)
    assert torch.equal(parser.labels12(x), torch.tensor(EXPECTED12).expand(2, -1, -1))
    probs = parser.probs12(x)
    assert probs.shape == (2, 12, 4, 6)
    torch.testing.assert_close(probs.sum(1), torch.ones(2, 4, 6))
    assert parser.logits19(x).shape == (2, 19, 4, 6)


def test_parser_stays_in_eval_mode_under_a_parents_train():
    torch.manual_seed(0)
    parser = FrozenParser(BiSeNet(19, base_width=4), input_size=32)
    parent = nn.ModuleDict({"G": nn.Conv2d(3, 3, 1), "P": parser})
    parent.train()
    assert parent["G"].training
    assert not any(m.training for m in parser.modules())
    before = {k: v.clone() for k, v in parser.net.state_dict().items()}
    parser.probs12(torch.rand(2, 3, 32, 32) * 2 - 1)
    for k, v in parser.net.state_dict().items():
        assert torch.equal(v, before[k]), k  # BN running stats untouched
    parent.eval()
    parent.train(True)
    assert not parser.training


def test_gradients_reach_the_input_but_never_the_weights():
    torch.manual_seed(0)
    parser = FrozenParser(BiSeNet(19, base_width=4), input_size=32)
    assert not any(p.requires_grad for p in parser.parameters())
    x = (torch.rand(2, 3, 24, 20) * 2 - 1).requires_grad_(True)  # any resolution
    probs = parser.probs12(x)
    assert probs.shape == (2, 12, 24, 20)
    target = torch.randint(0, 12, (2, 24, 20))
    loss = nn.functional.nll_loss(torch.log(probs + 1e-8), target)  # eq. 11 style CE through P
    loss.backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None for p in parser.parameters())


def test_parser_hash_same_for_folder_and_module_and_sensitive(tmp_path):
    torch.manual_seed(0)
    parser = FrozenParser(BiSeNet(19, base_width=4), input_size=32)
    parser.save(tmp_path / "P", trained_on="test")
    loaded = FrozenParser.load(tmp_path / "P")
    assert loaded.input_size == 32 and not loaded.training
    h = parser_hash(parser)
    assert len(h) == 16 and parser_hash(tmp_path / "P") == h == parser_hash(loaded)
    assert parser_hash(FrozenParser(parser.net, input_size=64)) != h
    with torch.no_grad():
        parser.net.conv_out.conv_out.weight[0, 0] += 1
    assert parser_hash(parser) != h


@pytest.mark.parametrize("prefix,with_counters", [("", True), ("module.", False)])
def test_import_public_checkpoint_layout(tmp_path, prefix, with_counters):
    g = torch.Generator().manual_seed(0)
    state = {}
    for k, shape in bisenet_keys.public_bisenet_shapes(19).items():
        if k.endswith("num_batches_tracked"):
            if with_counters:
                state[prefix + k] = torch.tensor(80000)
            continue
        t = (
            torch.rand(shape, generator=g) + 0.5
            if "running_var" in k
            else torch.randn(shape, generator=g) * 0.05
        )
        state[prefix + k] = t
    pth = tmp_path / "79999_iter.pth"
    torch.save(state, pth)
    parser = import_public_parser(pth, tmp_path / "P", size=64)
    cfg = read_config(tmp_path / "P")
    assert cfg["kind"] == "parser" and cfg["input_size"] == 64 and cfg["classes"] == 19
    loaded = FrozenParser.load(tmp_path / "P")
    for k, v in state.items():
        assert torch.equal(loaded.net.state_dict()[k[len(prefix) :]], v)
    x = torch.rand(1, 3, 48, 48) * 2 - 1
    torch.testing.assert_close(loaded.probs12(x), parser.probs12(x))
    # a checkpoint of another architecture is refused, naming the file
    state.pop(prefix + "conv_out.conv_out.weight")
    bad = tmp_path / "bad.pth"
    torch.save(state, bad)
    with pytest.raises(WeightsError, match=r"bad\.pth.*another architecture"):
        import_public_parser(bad, tmp_path / "P2")
