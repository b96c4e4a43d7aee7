"""Two gloo processes on CPU: identical weights on both ranks, the same losses as one process with the
same global batch, and rank-0 checkpoints that load into a single process."""

from __future__ import annotations

import json
import socket

import pytest
import torch
import torch.multiprocessing as mp
from secgan_train_ddp_worker import DDP_EXTRA, run_rank
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

from secgan.training.checkpoint import latest_checkpoint, load_checkpoint, load_network_state
from secgan.training.networks import build_networks
from secgan.training.trainer import Trainer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_two_gloo_processes_match_one_process(tmp_path):
    ddp_run, single_run = tmp_path / "ddp", tmp_path / "single"
    mp.spawn(run_rank, args=(2, _free_port(), str(ddp_run), str(tmp_path)), nprocs=2, join=True)
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for name in r0:
        for k in r0[name]:
            assert torch.equal(r0[name][k], r1[name][k]), f"ranks differ in {name}.{k}"

    cfg = tiny_config("stargan", "secgan", *DDP_EXTRA)
    single = Trainer(cfg, single_run, dataset=ToyFaces(n=24), parser=tiny_parser(), progress=False)
    single.train()
    rows_d = [json.loads(x) for x in (ddp_run / "stats.jsonl").read_text().splitlines()]
    rows_s = [json.loads(x) for x in (single_run / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows_d] == [r["step"] for r in rows_s] == list(range(1, 7))
    for rd, rs in zip(rows_d, rows_s):
        for key in ("D_rgb/loss", "D_rgb/gp", "D_seg/loss", "G_rgb/loss", "G_rgb/sc", "G_seg/loss"):
            if key in rs:
                assert rd[key] == pytest.approx(rs[key], rel=1e-4, abs=1e-5), (rd["step"], key)
    for name, net in single.nets.items():
        for k, v in net.state_dict().items():
            if v.is_floating_point():
                torch.testing.assert_close(r0[name][k], v, rtol=1e-3, atol=1e-3, msg=f"{name}.{k}")

    # rank 0's checkpoint: plain keys, loads into freshly built networks on CPU
    state = load_checkpoint(latest_checkpoint(ddp_run / "checkpoints"))
    assert state["step"] == 6 and state["world_size"] == 2
    assert not any(k.startswith("module.") for sd in state["networks"].values() for k in sd)
    fresh = build_networks(cfg)
    for name, net in fresh.items():
        load_network_state(net, state["networks"][name], name, "ckpt")
