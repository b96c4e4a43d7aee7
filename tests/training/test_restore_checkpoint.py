"""Checkpoint restore (``training/checkpoint.py``): the configuration, the data and every network's and
optimizer's shapes are checked before anything is loaded, so a refused resume leaves the modules, the
optimizers and the random streams exactly as they were; an accepted one loads what was saved."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
import torch
from torch import nn

from secgan.config import Config, apply_overrides, to_dict
from secgan.errors import ConfigError, DataError, TrainingError, WeightsError
from secgan.training.checkpoint import (
    ResumeExpectation,
    TrainingState,
    load_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from secgan.utils.seed import get_rng_state

CPU = torch.device("cpu")


def _state(seed: int) -> TrainingState:
    """Two small networks, each with an Adam that has taken one step (non-empty moments), and a stream."""
    torch.manual_seed(seed)
    nets = {"G_rgb": nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3)), "D_rgb": nn.Linear(3, 1)}
    opts = {name: torch.optim.Adam(net.parameters(), lr=1e-3) for name, net in nets.items()}
    for name, net in nets.items():
        net(torch.randn(5, net[0].in_features if name == "G_rgb" else 3)).square().sum().backward()
        opts[name].step()
    rng = torch.Generator()
    rng.manual_seed(seed)
    torch.rand(3, generator=rng)
    return TrainingState(nets, opts, rng)


def _snapshot(st: TrainingState) -> dict:
    return copy.deepcopy(
        {
            "nets": {n: {k: v.clone() for k, v in m.state_dict().items()} for n, m in st.nets.items()},
            "opts": {n: o.state_dict() for n, o in st.opts.items()},
            "rng": st.rng.get_state(),
            "global": get_rng_state()["torch"],
        }
    )


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.shape == b.shape and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@pytest.fixture()
def saved(tmp_path):
    """A checkpoint at step 7 of a run (seed 1) with its config and data record."""
    st = _state(1)
    config = to_dict(Config())
    data = {"n_items": 22, "fingerprint": "abcd"}
    path = save_checkpoint(tmp_path / "checkpoints", 7, {"config": config, "data": data, **st.capture()})
    return tmp_path / "checkpoints", path, config


def _expect(config, **kw) -> ResumeExpectation:
    return ResumeExpectation(**{"config": config, "fingerprint": "abcd", "n_items": 22, **kw})


@pytest.mark.parametrize(
    "fault, error, says",
    [
        ("config", ConfigError, "seed: 0 -> 7"),
        ("fingerprint", DataError, "dataset differs"),
        ("n_items", DataError, "22 images but the dataset now has 23"),
        ("second_net_shape", WeightsError, "D_rgb does not match"),
        ("missing_net", TrainingError, "no weights or optimizer state for network G_seg"),
        ("optimizer_groups", WeightsError, "optimizer state of D_rgb"),
    ],
)
def test_a_refused_resume_leaves_every_module_untouched(saved, fault, error, says):
    ckpt_dir, path, config = saved
    target = _state(2)  # other weights, other Adam moments, another stream
    expect = _expect(config)
    if fault == "config":
        expect = replace(expect, config=to_dict(apply_overrides(Config(), ["seed=7"])))
    elif fault == "fingerprint":
        expect = replace(expect, fingerprint="ffff")
    elif fault == "n_items":
        expect = replace(expect, n_items=23)
    elif fault == "second_net_shape":  # G_rgb (first) would load; D_rgb (second) cannot
        target.nets["D_rgb"] = nn.Linear(3, 2)
        target.opts["D_rgb"] = torch.optim.Adam(target.nets["D_rgb"].parameters())
    elif fault == "missing_net":
        target.nets["G_seg"] = nn.Linear(2, 2)
        target.opts["G_seg"] = torch.optim.Adam(target.nets["G_seg"].parameters())
    elif fault == "optimizer_groups":
        net = target.nets["D_rgb"]
        target.opts["D_rgb"] = torch.optim.Adam([{"params": [net.weight]}, {"params": [net.bias]}])
    before = _snapshot(target)
    with pytest.raises(error, match=says):
        restore_checkpoint(ckpt_dir, target, expect, resume=True, device=CPU)
    after = _snapshot(target)
    for part in ("nets", "opts", "rng", "global"):
        assert _same(before[part], after[part]), f"{part} changed by a refused resume ({fault})"
    assert not _same(before["nets"], _snapshot(_state(1))["nets"])  # the refusal would have been visible


def test_an_accepted_resume_loads_what_was_saved(saved):
    ckpt_dir, path, config = saved
    target = _state(2)
    changed = to_dict(apply_overrides(Config(), ["train.iterations=99"]))  # safe with --allow-changes
    with pytest.raises(ConfigError, match="pass --allow-changes"):
        restore_checkpoint(ckpt_dir, target, _expect(changed), resume=True, device=CPU)
    step = restore_checkpoint(ckpt_dir, target, _expect(changed, allow_changes=True), resume=True, device=CPU)
    ckpt = load_checkpoint(path)
    assert step == 7
    for name, net in target.nets.items():
        assert _same(ckpt["networks"][name], dict(net.state_dict()))
        assert _same(ckpt["optimizers"][name]["state"], target.opts[name].state_dict()["state"])
    assert torch.equal(target.rng.get_state(), ckpt["rng"]["train"])
    assert torch.equal(get_rng_state()["torch"], ckpt["rng"]["global"]["torch"])
    assert _same(target.capture()["networks"], ckpt["networks"])  # save and load are inverse


def test_a_fresh_run_over_checkpoints_is_refused_and_resume_without_any_starts_at_zero(saved, tmp_path):
    ckpt_dir, _, config = saved
    target = _state(2)
    with pytest.raises(ConfigError, match="already holds checkpoints"):
        restore_checkpoint(ckpt_dir, target, _expect(config), resume=False, device=CPU)
    assert restore_checkpoint(tmp_path / "none", target, _expect(config), resume=True, device=CPU) == 0
    assert restore_checkpoint(tmp_path / "none", target, _expect(config), resume=False, device=CPU) == 0
