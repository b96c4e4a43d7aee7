"""The order of the training data as a pure function of ``(seed, step)``, and the loader that serves it.

Epoch ``e`` visits the items in the order ``randperm(n, seed + e)``; step ``t`` (0-based) takes the
``t % steps_per_epoch``-th global batch of epoch ``t // steps_per_epoch`` (incomplete last batches are
dropped). A resumed run starts the sampler at its step and sees exactly the batches an uninterrupted run
would have seen; a distributed run gives each rank a contiguous slice of every global batch, so the global
batch does not depend on the number of processes.
"""

from __future__ import annotations

import atexit
import signal
import weakref
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


def _worker_init(worker_id: int) -> None:
    """DataLoader workers: seeded, and deaf to SIGINT and SIGTERM; the main process owns their shutdown.

    Ctrl-C, ``docker stop``, SLURM and ``kill -TERM -- -PGID`` reach the whole process group. A worker that
    left on the signal could do so while the main process was receiving a batch's shared-memory file
    descriptor from it (``ConnectionResetError`` in ``next_batch``), which killed the very step that was to
    be checkpointed. Workers therefore ignore both signals: the main process finishes its step, saves, and
    shuts its loader down (:func:`shutdown_workers`; workers also leave within seconds when the main
    process dies). A worker deaf to SIGTERM would keep a process alive at interpreter exit, where
    multiprocessing stops daemonic children with SIGTERM and joins them: :func:`_shutdown_live_loaders`
    runs first (an ``atexit`` hook) and shuts every live loader down the ordinary way."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    worker_init_fn(worker_id)


# Iterators with worker processes still alive; shut down before multiprocessing's exit hook joins them.
_LIVE_ITERATORS: weakref.WeakSet = weakref.WeakSet()
_EXIT_HOOK: list[bool] = []


def shutdown_workers(loader_iter: Iterator[dict]) -> None:
    """Stop a DataLoader iterator's workers now (no more batches are fetched); a no-op for other iterators
    and for one already shut down."""
    shutdown = getattr(loader_iter, "_shutdown_workers", None)
    if shutdown is not None:
        shutdown()


def _shutdown_live_loaders() -> None:
    for it in list(_LIVE_ITERATORS):
        shutdown_workers(it)


class _StepDataLoader(DataLoader):
    """A DataLoader whose iterators with workers are shut down at interpreter exit (see
    :func:`_worker_init`)."""

    def _get_iterator(self):  # noqa: ANN202 - a torch internal
        it = super()._get_iterator()
        if self.num_workers > 0:
            if not _EXIT_HOOK:
                # registered after multiprocessing's and torch's own exit hooks, so it runs before them
                atexit.register(_shutdown_live_loaders)
                _EXIT_HOOK.append(True)
            _LIVE_ITERATORS.add(it)
        return it


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
    return _StepDataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=pin_memory,
        worker_init_fn=_worker_init if workers > 0 else None,
        generator=torch.Generator().manual_seed(seed * 1000 + dist.rank),
        persistent_workers=False,
        prefetch_factor=4 if workers > 0 else None,
    )
