"""Learning-rate schedule of the auxiliary trainers: linear warm-up, then cosine decay to 0.

Progress runs from 0 to 1 over the planned steps; with a time budget it is the further along of the step
count and the elapsed wall-clock fraction, so the decay always completes (and training stops) within the
budget instead of being cut off at a high learning rate.
"""

from __future__ import annotations

import math
import time


class CosineSchedule:
    """Args:
    total_steps: planned optimisation steps.
    base_lr: peak learning rate.
    warmup_steps: linear warm-up length (default: 5% of the steps, at most 100).
    time_limit: wall-clock budget in seconds for the steps (``None``: none), counted from construction
        or :meth:`start`.
    """

    def __init__(
        self,
        total_steps: int,
        base_lr: float,
        warmup_steps: int | None = None,
        time_limit: float | None = None,
    ) -> None:
        self.total = max(1, int(total_steps))
        self.base_lr = float(base_lr)
        self.warmup = (
            max(1, min(100, self.total // 20)) if warmup_steps is None else max(1, int(warmup_steps))
        )
        self.time_limit = time_limit
        self.t0 = time.monotonic()

    def start(self) -> None:
        self.t0 = time.monotonic()

    def progress(self, step: int) -> float:
        """Fraction of the run done before ``step`` (0-based), in ``[0, 1]``."""
        p = step / self.total
        if self.time_limit is not None:
            p = max(p, (time.monotonic() - self.t0) / max(self.time_limit, 1e-9))
        return min(1.0, p)

    def lr(self, step: int) -> float:
        if step < self.warmup:
            return self.base_lr * (step + 1) / self.warmup
        p = self.progress(step)
        # decay over what is left after the warm-up
        w = self.warmup / self.total
        t = 1.0 if p >= 1 else max(0.0, (p - w) / max(1e-9, 1 - w))
        return self.base_lr * 0.5 * (1 + math.cos(math.pi * t))

    def done(self, step: int) -> bool:
        """True once the planned steps or the time budget are used up."""
        return self.progress(step) >= 1.0

    def stopped_by_time(self, step: int) -> bool:
        return step < self.total and self.done(step)
