"""``train.compile``: the compiled step trains the same weights as the eager one, with the gradient penalty's
double backward kept eager (AOTAutograd cannot differentiate a gradient twice).

The tests compile with the ``aot_eager`` backend (Dynamo tracing and AOTAutograd, the parts that decide
what can be compiled, without inductor's C++ code generation, which takes minutes on a small CPU)."""

from __future__ import annotations

import pytest
import torch
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

from secgan.training import setup as training_setup
from secgan.training.checkpoint import latest_checkpoint, load_checkpoint
from secgan.training.trainer import Trainer


@pytest.fixture
def aot_eager(monkeypatch):
    monkeypatch.setattr(training_setup, "COMPILE_BACKEND", "aot_eager")
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def _run(tmp_path, name, *extra):
    """Train 2 steps; returns the trainer, its summary and the parameters it started from."""
    cfg = tiny_config("stargan", "secgan", "train.iterations=2", "log.checkpoint_every=2", *extra)
    tr = Trainer(cfg, tmp_path / name, dataset=ToyFaces(n=8), parser=tiny_parser(), progress=False)
    start = {n: [p.detach().clone() for p in net.parameters()] for n, net in tr.nets.items()}
    return tr, tr.train(), start


def _update(net, start):
    return torch.cat([(p.detach() - p0).flatten() for p, p0 in zip(net.parameters(), start)])


def test_compiled_step_matches_the_eager_step(tmp_path, aot_eager):
    eager_tr, eager, start = _run(tmp_path, "eager")
    comp_tr, comp, start_c = _run(tmp_path, "compiled", "train.compile=true")
    compiled = torch._dynamo.eval_frame.OptimizedModule
    assert all(isinstance(comp_tr.fwd[n], compiled) for n in ("G_rgb", "D_rgb", "G_seg", "D_seg"))
    assert all(eager_tr.fwd[n] is eager_tr.nets[n] for n in eager_tr.nets)
    # two steps: both critics' updates (with the gradient penalty) and both generators' updates
    assert comp["step"] == eager["step"] == 2
    assert set(comp["last_stats"]) == set(eager["last_stats"])
    for k, v in eager["last_stats"].items():
        assert comp["last_stats"][k] == pytest.approx(v, rel=1e-4, abs=1e-5), k
    # Same start, same updates. Adam's first steps are about lr * sign(grad), so a gradient within rounding
    # of 0 may step the other way: compare the direction of each network's whole update.
    for name, net in eager_tr.nets.items():
        assert all(torch.equal(a, b) for a, b in zip(start[name], start_c[name]))
        u_eager, u_comp = _update(net, start[name]), _update(comp_tr.nets[name], start[name])
        assert u_eager.abs().max() > 0
        assert torch.nn.functional.cosine_similarity(u_eager, u_comp, dim=0) > 0.9995, name
    # the checkpoint holds the plain networks (no "_orig_mod." keys): it resumes with or without compile
    state = load_checkpoint(latest_checkpoint(tmp_path / "compiled" / "checkpoints"))
    assert not [k for net in state["networks"].values() for k in net if "_orig_mod" in k]
    assert set(state["networks"]["G_rgb"]) == set(eager_tr.G_rgb.state_dict())
