"""Data-parallel training over processes started by ``torchrun`` (gloo on CPU, NCCL on CUDA).

Why explicit gradient averaging rather than ``DistributedDataParallel`` wrappers: one SeCGAN step runs
several forward passes of each network (real, fake and interpolated images through D; the edit and the
reconstruction through G), the gradient penalty back-propagates through a gradient (double backward,
which DDP's reducer hooks do not support reliably), and the branches are updated alternately with the
other frozen. Averaging the gradients of each network explicitly after its backward and before its
optimizer step (the approach of StyleGAN2-ADA) is correct for all of these, keeps the networks unwrapped
(checkpoints have no ``module.`` keys and load on one device or CPU) and gives every rank identical
weights after every step, because every rank starts from rank 0's weights and applies the same averaged
gradients.

A process started by ``torchrun`` always joins the process group, even when it is the only one
(``--nproc_per_node=1``): the collectives then run over a group of one, so a one-GPU torchrun run goes
through the same NCCL code path as a multi-GPU one (the GPU suite relies on this).
"""

from __future__ import annotations

import datetime
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from secgan.errors import ConfigError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistInfo:
    """This process's place in the run: ``rank`` of ``world_size``; ``local_rank`` picks the GPU."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    launched: bool = False  # started by torchrun: join the process group even when alone

    @property
    def enabled(self) -> bool:
        """Whether this process joins a process group (several processes, or any torchrun launch)."""
        return self.world_size > 1 or self.launched

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_dist_info() -> DistInfo:
    """Read ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` as set by torchrun (defaults: a single process).
    ``launched`` when torchrun started this process (``TORCHELASTIC_RUN_ID``, or ``WORLD_SIZE`` with
    ``MASTER_ADDR``, which a hand-made launch sets)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    launched = "TORCHELASTIC_RUN_ID" in os.environ or (
        "WORLD_SIZE" in os.environ and "MASTER_ADDR" in os.environ
    )
    return DistInfo(rank=rank, world_size=world, local_rank=local, launched=launched)


def init_distributed(
    device: str = "cpu", info: DistInfo | None = None, timeout_s: float = 1800
) -> tuple[DistInfo, torch.device]:
    """Join the process group when started by torchrun and pick this process's device.

    ``device``: ``"cpu"`` (gloo) or ``"cuda"`` (NCCL, one GPU per process: ``cuda:LOCAL_RANK``).
    """
    info = info or env_dist_info()
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ConfigError("--device cuda was asked for but CUDA is not available")
        dev = torch.device("cuda", info.local_rank if info.enabled else (torch.device(device).index or 0))
        torch.cuda.set_device(dev)
    elif device == "cpu":
        dev = torch.device("cpu")
    else:
        raise ConfigError(f"unknown device {device!r}; valid: cpu, cuda")
    if info.enabled and not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        timeout = datetime.timedelta(seconds=timeout_s)
        if dev.type == "cuda":  # bind the communicator to this GPU (no guessing in barrier())
            dist.init_process_group(backend=backend, timeout=timeout, device_id=dev)
        else:
            dist.init_process_group(backend=backend, timeout=timeout)
        log.info("process %d of %d joined (%s, %s)", info.rank, info.world_size, backend, dev)
    return info, dev


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def _active() -> bool:
    """In a process group (of one process too, under torchrun: the collectives then run over it)."""
    return dist.is_available() and dist.is_initialized()


def backend() -> str | None:
    """The process group's backend (``"nccl"``, ``"gloo"``), or None outside a process group."""
    return str(dist.get_backend()) if _active() else None


def broadcast_module(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers to every rank."""
    if not _active():
        return
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(t.data, src)


def all_reduce_grads(module: nn.Module, bucket_mb: float = 64.0) -> None:
    """Average the gradients of ``module``'s parameters over all ranks (in flat buckets).

    Parameters without a gradient on this rank contribute zeros; every rank must call this for the same
    module at the same point, after its backward and before its optimizer step.
    """
    if not _active():
        return
    world = dist.get_world_size()
    params = [p for p in module.parameters() if p.requires_grad]
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    limit = int(bucket_mb * 2**20)
    bucket: list[torch.Tensor] = []
    size = 0

    def flush() -> None:
        if not bucket:
            return
        flat = torch.cat([g.reshape(-1) for g in bucket])
        dist.all_reduce(flat)
        flat /= world
        offset = 0
        for g in bucket:
            n = g.numel()
            g.copy_(flat[offset : offset + n].view_as(g))
            offset += n
        bucket.clear()

    for p in params:
        g = p.grad
        if bucket and (bucket[0].dtype != g.dtype or size + g.numel() * g.element_size() > limit):
            flush()
            size = 0
        bucket.append(g)
        size += g.numel() * g.element_size()
    flush()


def average_buffers(module: nn.Module) -> None:
    """Average floating-point buffers (norm layers' running statistics) over all ranks, so every rank
    holds the same state before a checkpoint or an export."""
    if not _active():
        return
    world = dist.get_world_size()
    with torch.no_grad():
        for b in module.buffers():
            if b.is_floating_point():
                dist.all_reduce(b)
                b /= world


def all_gather_rows(t: torch.Tensor) -> torch.Tensor:
    """Concatenate ``t [n, ...]`` of every rank along dim 0, in rank order (``t`` itself when alone)."""
    if not _active():
        return t
    parts = [torch.empty_like(t) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, t.contiguous())
    return torch.cat(parts, dim=0)


def mean_over_ranks(t: torch.Tensor) -> torch.Tensor:
    if not _active():
        return t
    t = t.clone()
    dist.all_reduce(t)
    return t / dist.get_world_size()


def agree(flags: list[bool], device: torch.device) -> list[bool]:
    """Each flag set on any rank is set on every rank (one MAX all-reduce), so that every rank stops (a
    signal) or fails (a NaN loss) at the same step."""
    if not _active():
        return list(flags)
    t = torch.tensor([1.0 if f else 0.0 for f in flags], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in t.tolist()]


def barrier() -> None:
    if _active():
        dist.barrier()
