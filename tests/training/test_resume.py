"""A run stopped by SIGINT at step 20 and resumed to 40 equals an uninterrupted 40-step run."""

from __future__ import annotations

import json
import os
import signal

import torch
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

from secgan.training.checkpoint import latest_checkpoint, load_checkpoint
from secgan.training.trainer import Trainer

EXTRA = (
    "train.iterations=40",
    "train.decay_start=10",  # the lr changes every step of the second part
    "log.checkpoint_every=15",
    "log.sample_every=10",
    "log.log_every=5",
    "data.flip=true",
)


def _train(run, interrupt_at=None, resume=False, mode="secgan"):
    cfg = tiny_config("stargan", mode, *EXTRA)
    parser = tiny_parser() if mode == "secgan" else None
    tr = Trainer(cfg, run, dataset=ToyFaces(n=22), parser=parser, resume=resume, progress=False)
    if interrupt_at is not None:
        step_fn = tr.train_step

        def step_and_signal(step, batch):
            out = step_fn(step, batch)
            if step == interrupt_at:
                os.kill(os.getpid(), signal.SIGINT)  # handled: finish the step, checkpoint, stop
            return out

        tr.train_step = step_and_signal
    return tr, tr.train()


def test_sigint_then_resume_equals_uninterrupted(tmp_path):
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job, else the default handler
    full_tr, full = _train(tmp_path / "full")
    assert full["step"] == 40 and not full["interrupted"]

    _, part = _train(tmp_path / "part", interrupt_at=20)
    assert part["interrupted"] and part["step"] == 20
    assert latest_checkpoint(tmp_path / "part" / "checkpoints").name == "step-000020.pt"
    # SIGINT is restored to the handler it had before training
    assert signal.getsignal(signal.SIGINT) is before

    res_tr, res = _train(tmp_path / "part", resume=True)
    assert res["step"] == 40 and not res["interrupted"]
    for name, net in full_tr.nets.items():
        a, b = net.state_dict(), res_tr.nets[name].state_dict()
        for k in a:
            assert torch.equal(a[k], b[k]), f"{name}.{k} differs after resume"
    sa = load_checkpoint(latest_checkpoint(tmp_path / "full" / "checkpoints"))
    sb = load_checkpoint(latest_checkpoint(tmp_path / "part" / "checkpoints"))
    for name in sa["optimizers"]:
        for pid, st in sa["optimizers"][name]["state"].items():
            assert torch.equal(st["exp_avg_sq"], sb["optimizers"][name]["state"][pid]["exp_avg_sq"])
    assert torch.equal(sa["rng"]["train"], sb["rng"]["train"])
    # stats.jsonl of the resumed run: every logged step once, same values as the uninterrupted run
    rows_full = [json.loads(x) for x in (tmp_path / "full" / "stats.jsonl").read_text().splitlines()]
    rows_part = [json.loads(x) for x in (tmp_path / "part" / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows_part] == [r["step"] for r in rows_full] == [5, 10, 15, 20, 25, 30, 35, 40]
    assert rows_part[-1]["G_rgb/loss"] == rows_full[-1]["G_rgb/loss"]
    names = sorted(p.name for p in (tmp_path / "part" / "samples").iterdir())
    assert names == ["step-000010.png", "step-000020.png", "step-000030.png", "step-000040.png"]
