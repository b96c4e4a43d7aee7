"""The training statistics between two log lines: summed per step on the device, averaged over the
window and the processes when logged (``stats.jsonl``, TensorBoard, the progress bar's postfix)."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from secgan.errors import TrainingError
from secgan.training import distributed

# The losses shown in the progress bar.
MAIN_STATS = ("D_rgb/loss", "G_rgb/loss", "G_rgb/sc", "D_seg/loss", "G_seg/loss")


def raise_nonfinite(step: int, stats: dict[str, torch.Tensor], local: bool, ckpt: Path | None) -> None:
    """Stop training over a NaN/Inf loss, naming it (when it is this process's) and the last checkpoint."""
    names = [k for k, v in stats.items() if not math.isfinite(float(v))] if local else []
    what = ", ".join(names) if names else "a loss on another process"
    kept = f"the last good checkpoint is {ckpt}" if ckpt else "no checkpoint was written yet"
    raise TrainingError(f"loss {what} became NaN/Inf at step {step}; training stopped ({kept})")


class StatsWindow:
    """Sums of each statistic (0-d tensors) over the steps since the last log line."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}
        self.counts: dict[str, int] = {}
        self.started = time.time()
        self.steps = 0

    def add(self, stats: dict[str, torch.Tensor]) -> None:
        self.steps += 1
        for k, v in stats.items():
            self.sums[k] = self.sums.get(k, 0) + v.float()
            self.counts[k] = self.counts.get(k, 0) + 1

    def images_per_second(self, batch_size: int) -> float:
        return self.steps * batch_size / max(time.time() - self.started, 1e-9)

    def means(self) -> dict[str, float]:
        """The window's mean of each statistic over its steps and all processes (every rank calls this)."""
        keys = sorted(self.sums)
        if not keys:
            return {}
        means = torch.stack([self.sums[k] / self.counts[k] for k in keys])
        return dict(zip(keys, distributed.mean_over_ranks(means).tolist()))


def write_log_line(
    run: Any,
    step: int,
    values: dict[str, float],
    lr_g: float,
    lr_d: float,
    ips: float,
    elapsed: float,
    tb: Any,
    bar: Any,
) -> None:
    """One ``stats.jsonl`` record, the TensorBoard scalars and the progress bar's postfix (main process)."""
    record = {"step": step, "time": round(elapsed, 3), "img_per_s": round(ips, 2), "lr_G": lr_g, "lr_D": lr_d}
    record.update({k: round(v, 6) for k, v in values.items()})
    run.log_stats(record)
    if tb is not None:
        for k, v in values.items():
            tb.add_scalar(k, v, step)
        tb.add_scalar("lr/G", lr_g, step)
        tb.add_scalar("lr/D", lr_d, step)
        tb.add_scalar("speed/img_per_s", ips, step)
    post = {k.replace("/loss", ""): f"{values[k]:.3g}" for k in MAIN_STATS if k in values}
    post["img/s"] = f"{ips:.1f}"
    bar.set_postfix(post, refresh=False)
