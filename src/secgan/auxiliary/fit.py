"""The training loop shared by the auxiliary networks (parser and evaluation classifier): Adam, the cosine
schedule (optionally squeezed into a time budget), random horizontal flips, per-epoch logging."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from secgan.auxiliary.batches import BatchSource, random_hflip
from secgan.auxiliary.cosine_lr import CosineSchedule
from secgan.errors import ConfigError, DataError
from secgan.utils.seed import seed_everything

log = logging.getLogger(__name__)


def prepare_sources(
    train_ds, eval_ds, epochs: int, batch_size: int, seed: int, num_workers: int = 0
) -> tuple[BatchSource, BatchSource]:
    """Check the training arguments, seed everything and wrap both datasets in batch sources."""
    if epochs < 1 or batch_size < 1:
        raise ConfigError(f"epochs and batch size must be >= 1 (got {epochs}, {batch_size})")
    if len(train_ds) == 0 or len(eval_ds) == 0:
        raise DataError(f"empty dataset (train {len(train_ds)} images, eval {len(eval_ds)})")
    seed_everything(seed)
    return (
        BatchSource(train_ds, batch_size, num_workers=num_workers),
        BatchSource(eval_ds, batch_size, num_workers=num_workers),
    )


@dataclass
class FitResult:
    steps: int
    planned_steps: int
    stopped_early: bool
    train_seconds: float


def fit(
    net: nn.Module,
    source: BatchSource,
    loss_of_batch: Callable[[dict], torch.Tensor],
    *,
    name: str,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    time_limit: float | None = None,
    started: float | None = None,
) -> FitResult:
    """Train ``net`` in place for ``epochs`` over ``source`` (shuffled with a generator seeded by ``seed``).

    ``loss_of_batch`` maps a (flipped) batch dict to a scalar loss. ``time_limit`` (seconds, counted from
    ``started``, default now) compresses the learning-rate schedule so training ends within the budget.
    """
    t0 = time.time() if started is None else started
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-5)
    gen = torch.Generator().manual_seed(seed)
    steps_per_epoch = math.ceil(len(source) / batch_size)
    budget = None if time_limit is None else max(1.0, time_limit - (time.time() - t0))
    schedule = CosineSchedule(epochs * steps_per_epoch, lr, time_limit=budget)
    step = 0
    t_train = time.time()
    for epoch in range(epochs):
        net.train()
        losses = []
        bar = tqdm(
            source.batches(shuffle=True, generator=gen),
            total=steps_per_epoch,
            desc=f"{name} epoch {epoch + 1}/{epochs}",
            leave=False,
        )
        for batch in bar:
            if schedule.done(step):
                break
            batch = random_hflip(batch, gen)
            for g in opt.param_groups:
                g["lr"] = schedule.lr(step)
            loss = loss_of_batch(batch)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
            step += 1
        if losses:
            log.info(
                "%s epoch %d/%d: loss %.4f (%.0f s)",
                name,
                epoch + 1,
                epochs,
                np.mean(losses),
                time.time() - t_train,
            )
        if schedule.done(step):
            break
    stopped_early = step < schedule.total
    if stopped_early:
        log.warning("time limit of %.0f s reached after %d of %d steps", time_limit, step, schedule.total)
    return FitResult(step, schedule.total, stopped_early, time.time() - t_train)
