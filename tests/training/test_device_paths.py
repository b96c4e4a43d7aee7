"""Device-path settings checked on the CPU: a torchrun launch of one process joins a process group (the
path a one-GPU NCCL run takes), and train.channels_last puts the networks, the parser and the inputs in
NHWC without changing the step's result."""

from __future__ import annotations

import json
import socket

import pytest
import torch
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

from secgan.training import distributed as D
from secgan.training.trainer import Trainer


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_environment_marks_a_launch(monkeypatch):
    for var in ("TORCHELASTIC_RUN_ID", "MASTER_ADDR", "WORLD_SIZE", "RANK", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    assert D.env_dist_info() == D.DistInfo() and not D.DistInfo().enabled
    monkeypatch.setenv("TORCHELASTIC_RUN_ID", "x")
    monkeypatch.setenv("WORLD_SIZE", "1")
    info = D.env_dist_info()
    assert info.launched and info.world_size == 1 and info.enabled


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_a_launched_single_process_trains_through_its_process_group(tmp_path, monkeypatch):
    plain = Trainer(tiny_config("stargan", "secgan", "train.iterations=2"), tmp_path / "plain",
                    dataset=ToyFaces(n=8), parser=tiny_parser(), progress=False)  # fmt: skip
    plain.train()
    env = {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()), "WORLD_SIZE": "1", "RANK": "0"}
    for k, v in {**env, "TORCHELASTIC_RUN_ID": "test"}.items():
        monkeypatch.setenv(k, v)
    info, dev = D.init_distributed("cpu", timeout_s=60)
    try:
        assert torch.distributed.is_initialized() and D.backend() == "gloo"
        calls = []
        real = torch.distributed.all_reduce
        monkeypatch.setattr(
            torch.distributed, "all_reduce", lambda t, *a, **k: (calls.append(1), real(t, *a, **k))[1]
        )
        group = Trainer(tiny_config("stargan", "secgan", "train.iterations=2"), tmp_path / "group", device=dev,
                        dataset=ToyFaces(n=8), parser=tiny_parser(), dist_info=info, progress=False)  # fmt: skip
        group.train()
    finally:
        D.shutdown()
    assert calls, "the collectives must run over the group of one"
    assert json.loads((tmp_path / "group" / "env.json").read_text())["dist_backend"] == "gloo"
    assert json.loads((tmp_path / "plain" / "env.json").read_text())["dist_backend"] is None
    # averaging over one process changes nothing: the same weights as without a group
    for name, net in plain.nets.items():
        for k, v in net.state_dict().items():
            assert torch.equal(v, group.nets[name].state_dict()[k]), f"{name}.{k}"


def test_channels_last_puts_networks_parser_and_inputs_in_nhwc(tmp_path):
    nhwc = torch.channels_last
    seen = []
    runs = {}
    for name, extra in (("nhwc", ("train.channels_last=true",)), ("nchw", ())):
        cfg = tiny_config("stargan", "secgan", "train.iterations=2", "log.n_samples=0", *extra)
        tr = Trainer(cfg, tmp_path / name,
                     dataset=ToyFaces(n=8), parser=tiny_parser(), progress=False)  # fmt: skip
        if name == "nhwc":
            for net in ("G_rgb", "D_seg"):
                tr.nets[net].register_forward_pre_hook(
                    lambda m, args: seen.append(args[0].is_contiguous(memory_format=nhwc))
                )
        runs[name] = (tr, tr.train()["last_stats"])
    tr, got = runs["nhwc"]
    for name, net in tr.nets.items():
        convs = [p for p in net.parameters() if p.dim() == 4]
        assert convs and all(p.is_contiguous(memory_format=nhwc) for p in convs), name
    parser_convs = [p for p in tr.parser.parameters() if p.dim() == 4]
    assert parser_convs and all(p.is_contiguous(memory_format=nhwc) for p in parser_convs)
    # every input of G_rgb (edit, reconstruction) and D_seg (real + G_seg's softmax output, interpolates,
    # the generator step's pass): 3 calls in step 1, 5 in step 2 (the G step)
    assert len(seen) == 8 and all(seen), seen
    for k, v in runs["nchw"][1].items():
        assert got[k] == pytest.approx(v, rel=1e-4, abs=1e-5), k
