"""The per-process body of the 2-process DDP test (importable by spawned children)."""

from __future__ import annotations

import os

import torch

from secgan.training import distributed as D
from secgan.training.trainer import Trainer

DDP_EXTRA = ("train.iterations=6", "data.flip=true", "log.checkpoint_every=3")


def run_rank(rank: int, world: int, port: int, run_dir: str, out_dir: str) -> None:
    from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

    torch.set_num_threads(1)
    os.environ.update(
        {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank), "WORLD_SIZE": str(world)}
    )
    info, dev = D.init_distributed(
        "cpu", D.DistInfo(rank=rank, world_size=world, local_rank=rank), timeout_s=120
    )
    try:
        cfg = tiny_config("stargan", "secgan", *DDP_EXTRA)
        tr = Trainer(
            cfg,
            run_dir,
            device=dev,
            dataset=ToyFaces(n=24),
            parser=tiny_parser(),
            dist_info=info,
            progress=False,
        )
        tr.train()
        torch.save(
            {n: net.state_dict() for n, net in tr.nets.items()}, os.path.join(out_dir, f"rank{rank}.pt")
        )
    finally:
        D.shutdown()
