"""The order of the training data as a pure function of ``(seed, step)``, and the loader that serves it.

Epoch ``e`` visits the items in the order ``randperm(n, seed + e)``; step ``t`` (0-based) takes the
``t % steps_per_epoch``-th global batch of epoch ``t // steps_per_epoch`` (incomplete last batches are
dropped). A resumed run starts the sampler at its step and sees exactly the batches an uninterrupted run
would have seen; a distributed run gives each rank a contiguous slice of every global batch, so the global
batch does not depend on the number of processes.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader

from secgan.errors import ConfigError, DataError, SecganError, original_message
from secgan.utils.seed import worker_init_fn


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The item order of one epoch: ``[n]`` long, a pure function of ``(seed, epoch)``."""
    g = torch.Generator()
    g.manual_seed((int(seed) * 1_000_003 + int(epoch)) % (2**63 - 1))
    return torch.randperm(n, generator=g)


class StepBatchSampler:
    """Yields this rank's index list for each step ``start_step, ..., total_steps - 1`` (0-based).

    Args:
        n_items: dataset length.
        batch_size: global batch size (divisible by ``world_size``).
        seed: the run's seed.
        start_step, total_steps: the steps to cover.
        rank, world_size: this process's slice of every global batch.
    """

    def __init__(
        self,
        n_items: int,
        batch_size: int,
        seed: int,
        start_step: int,
        total_steps: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        if batch_size % world_size:
            raise ConfigError(
                f"train.batch_size={batch_size} must be divisible by the {world_size} processes"
            )
        if n_items < batch_size:
            raise DataError(f"the dataset has {n_items} items, fewer than one batch of {batch_size}")
        self.n, self.batch_size, self.seed = n_items, batch_size, seed
        self.start, self.total = start_step, total_steps
        self.rank, self.world = rank, world_size
        self.local = batch_size // world_size
        self.steps_per_epoch = n_items // batch_size

    def global_batch(self, step: int) -> list[int]:
        """Item indices of the global batch of 0-based ``step``."""
        epoch, pos = divmod(step, self.steps_per_epoch)
        perm = self._perm(epoch)
        return perm[pos * self.batch_size : (pos + 1) * self.batch_size].tolist()

    def _perm(self, epoch: int) -> torch.Tensor:
        if getattr(self, "_cached_epoch", None) != epoch:
            self._cached_perm = epoch_permutation(self.n, self.seed, epoch)
            self._cached_epoch = epoch
        return self._cached_perm

    def __iter__(self) -> Iterator[list[int]]:
        for step in range(self.start, self.total):
            batch = self.global_batch(step)
            yield batch[self.rank * self.local : (self.rank + 1) * self.local]

    def __len__(self) -> int:
        return max(0, self.total - self.start)


def _exit_quietly(signum: int, frame: object) -> None:
    os._exit(0)


def _worker_init(worker_id: int) -> None:
    """DataLoader workers: seeded; deaf to SIGINT, and leave on SIGTERM with exit status 0.

    Ctrl-C, ``docker stop``, SLURM and ``kill -TERM -- -PGID`` reach the whole process group. A worker
    killed by the signal would make PyTorch raise "DataLoader worker killed by signal" in the main process
    in the middle of the step it is finishing before its checkpoint; a worker that exits with status 0 is
    not an error there (the main process needs no further batch). SIGTERM must still end a worker: at
    interpreter exit, multiprocessing stops the daemonic workers of a loader still alive with SIGTERM and
    then joins them, which waited forever when workers ignored SIGTERM (a test session that passed once
    stayed alive for an hour that way)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_quietly)
    worker_init_fn(worker_id)


def next_batch(loader_iter: Iterator[dict]) -> dict:
    """The next batch; a user error raised in a DataLoader worker (an unreadable image...) comes back as
    the same one-line error, not the worker's traceback that PyTorch puts into the re-raised message."""
    try:
        return next(loader_iter)
    except SecganError as err:
        msg = original_message(err)
        if msg == str(err):
            raise
        raise type(err)(msg) from None


def step_loader(
    dataset: Any,
    batch_size: int,
    seed: int,
    start: int,
    total: int,
    dist: Any,
    workers: int,
    pin_memory: bool = False,
) -> DataLoader:
    """The DataLoader of steps ``start + 1 .. total``: this rank's slice of each global batch of
    ``batch_size`` (``dist``: a :class:`~secgan.training.distributed.DistInfo`), ``workers`` processes."""
    sampler = StepBatchSampler(len(dataset), batch_size, seed, start, total, dist.rank, dist.world_size)
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        worker_init_fn=_worker_init if workers > 0 else None,
        generator=torch.Generator().manual_seed(seed * 1000 + dist.rank),
        persistent_workers=False,
        prefetch_factor=4 if workers > 0 else None,
    )
