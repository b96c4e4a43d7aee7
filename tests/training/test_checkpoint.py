from __future__ import annotations

import pytest
import torch
from torch import nn

from secgan.errors import WeightsError
from secgan.training.checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    load_network_state,
    plain_state_dict,
    save_checkpoint,
)


def test_keep_last_k_and_safe_loading(tmp_path):
    net = nn.Linear(3, 2)
    for step in (10, 20, 30, 40):
        save_checkpoint(tmp_path, step, {"networks": {"net": plain_state_dict(net)}}, keep=2)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [30, 40]
    assert latest_checkpoint(tmp_path).name == "step-000040.pt"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    state = load_checkpoint(latest_checkpoint(tmp_path))
    assert state["step"] == 40
    torch.testing.assert_close(state["networks"]["net"]["weight"], net.weight.detach())


def test_wrapped_keys_are_stripped_and_mismatch_is_named(tmp_path):
    net = nn.Sequential(nn.Linear(3, 2))
    wrapped = {f"module.{k}": v for k, v in net.state_dict().items()}
    other = nn.Sequential(nn.Linear(3, 2))
    load_network_state(other, wrapped, "G_rgb", tmp_path / "x.pt")
    torch.testing.assert_close(other[0].weight, net[0].weight)
    with pytest.raises(WeightsError, match="G_rgb does not match"):
        load_network_state(nn.Sequential(nn.Linear(4, 2)), net.state_dict(), "G_rgb", tmp_path / "x.pt")


def test_not_a_checkpoint(tmp_path):
    p = tmp_path / "bad.pt"
    torch.save({"weights": torch.zeros(1)}, p)
    with pytest.raises(WeightsError, match="not a secgan training checkpoint"):
        load_checkpoint(p)
    p.write_bytes(b"garbage")
    with pytest.raises(WeightsError, match="cannot load checkpoint"):
        load_checkpoint(p)
