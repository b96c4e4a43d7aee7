"""Inception Score: ``IS = exp(E_x KL(p(y|x) || p(y)))``, averaged over splits of the image pool.

Per split, ``E_x KL(p(y|x) || p(y)) = H(p(y)) - E_x H(p(y|x))`` with ``p(y)`` the split's mean prediction, so
the score only needs, per split, the sum of the predictions and the sum of their entropies: it is
accumulated batch by batch (:class:`InceptionScoreAccumulator`) and the pool of translations is never held
in memory.

Several independent *heads* can be scored at once (predictions ``[B, H, K]``): each head gets its own
score per split and a split's score is the mean over heads. The classifier substitute for multi-label
attributes uses this with one Bernoulli head (``K = 2``) per attribute (see :func:`bernoulli_probs`).
"""

from __future__ import annotations

import numpy as np
import torch


def bernoulli_probs(p: torch.Tensor) -> torch.Tensor:
    """Independent attribute probabilities ``[B, n_a]`` in [0, 1] -> two-class predictions ``[B, n_a, 2]``."""
    p = p.clamp(0, 1)
    return torch.stack([1 - p, p], dim=-1)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) over the last dimension; ``0 log 0 = 0``."""
    return -torch.special.xlogy(p, p).sum(-1)


SPLIT_RULES = ("secgan", "torch-fidelity")


def fidelity_split_of(total: int, splits: int, seed: int | None) -> torch.Tensor:
    """Subset index ``[total]`` of each pool position under torch-fidelity's rule (see
    :class:`InceptionScoreAccumulator`); ``seed=None``: no shuffle."""
    perm = np.arange(total) if seed is None else np.random.RandomState(seed).permutation(total)
    rank = np.empty(total, np.int64)
    rank[perm] = np.arange(total)  # where pool index j lands after the shuffle
    # position k lies in chunk i iff i * total // splits <= k < (i + 1) * total // splits
    bounds = np.arange(1, splits + 1) * total // splits
    return torch.from_numpy(np.searchsorted(bounds, rank, side="right"))


class InceptionScoreAccumulator:
    """Streams predictions of a pool of ``total`` images into ``splits`` subsets.

    Args:
        total: the pool size, known in advance (e.g. test images x edits).
        splits: number of subsets (the paper: 10).
        seed: pool index ``j`` goes to subset ``floor(perm[j] * splits / total)`` for a seeded random
            permutation ``perm``, so subsets do not follow the pool's order (e.g. one edited attribute per
            subset); ``None`` gives contiguous subsets in pool order. Subset sizes differ by at most one.
        rule: ``"secgan"`` (above, ``torch.randperm``) or ``"torch-fidelity"``: the pool is shuffled by
            ``numpy.random.RandomState(seed).permutation`` and split into the contiguous chunks
            ``[i * total // splits, (i + 1) * total // splits)``, exactly as torch-fidelity's IS does.
    """

    def __init__(self, total: int, splits: int = 10, seed: int | None = 0, rule: str = "secgan") -> None:
        if total < splits or splits < 1:
            raise ValueError(f"need at least one image per split: total {total}, splits {splits}")
        if rule not in SPLIT_RULES:
            raise ValueError(f"unknown split rule {rule!r}; valid: {', '.join(SPLIT_RULES)}")
        self.total, self.splits, self.seed, self.rule = int(total), int(splits), seed, rule
        if rule == "torch-fidelity":
            self.split_of = fidelity_split_of(self.total, self.splits, seed)
        else:
            order = torch.arange(self.total)
            if seed is not None:
                order = torch.randperm(self.total, generator=torch.Generator().manual_seed(seed))
            self.split_of = (order * self.splits) // self.total  # [total] subset of each pool position
        self.n = 0
        self.count = torch.zeros(self.splits, dtype=torch.float64)
        self.sum_p: torch.Tensor | None = None  # [splits, H, K]
        self.sum_h: torch.Tensor | None = None  # [splits, H]

    def update(self, probs: torch.Tensor) -> None:
        """Add the next ``B`` images of the pool: probabilities ``[B, K]`` or ``[B, H, K]`` (rows sum to 1)."""
        if probs.dim() == 2:
            probs = probs[:, None, :]
        if probs.dim() != 3:
            raise ValueError(f"probs must be [B, K] or [B, H, K], got {tuple(probs.shape)}")
        b = probs.shape[0]
        if self.n + b > self.total:
            raise ValueError(f"pool overflow: {self.n + b} images for a pool of {self.total}")
        p = probs.detach().to(device="cpu", dtype=torch.float64)
        if self.sum_p is None:
            self.sum_p = torch.zeros(self.splits, p.shape[1], p.shape[2], dtype=torch.float64)
            self.sum_h = torch.zeros(self.splits, p.shape[1], dtype=torch.float64)
        idx = self.split_of[self.n : self.n + b]
        self.sum_p.index_add_(0, idx, p)
        self.sum_h.index_add_(0, idx, _entropy(p))
        self.count.index_add_(0, idx, torch.ones(b, dtype=torch.float64))
        self.n += b

    def compute(self) -> dict[str, float | list[float]]:
        """``{"mean", "std", "splits": [score per subset]}``; std over subsets with ``ddof = 0``."""
        if self.n != self.total or self.sum_p is None or self.sum_h is None:
            raise ValueError(f"pool incomplete: {self.n} of {self.total} images seen")
        n = self.count[:, None]
        marginal = self.sum_p / n[..., None]  # [S, H, K] p(y) per subset
        kl = _entropy(marginal) - self.sum_h / n  # [S, H] E_x KL(p(y|x) || p(y))
        per_split = torch.exp(kl).mean(1)  # [S]
        return {
            "mean": float(per_split.mean()),
            "std": float(per_split.std(unbiased=False)) if self.splits > 1 else 0.0,
            "splits": [float(v) for v in per_split],
        }


def inception_score(probs: torch.Tensor, splits: int = 10, seed: int | None = None) -> tuple[float, float]:
    """Inception Score ``(mean, std)`` of predictions ``[N, K]`` (or ``[N, H, K]``) over ``splits`` subsets."""
    acc = InceptionScoreAccumulator(probs.shape[0], splits=splits, seed=seed)
    acc.update(probs)
    out = acc.compute()
    return out["mean"], out["std"]  # type: ignore[return-value]
