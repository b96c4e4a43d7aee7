"""Mini-batch feeding shared by the parser and classifier trainers.

Small datasets (the synthetic ones, a few thousand images at 64-128 px) are decoded once into memory and
served as tensors, which saves the per-epoch JPEG decoding on a CPU; large ones stream through a
``DataLoader``. Either way the dataset is read without random flips and the trainer flips whole batches
itself (image and mask together), so both paths see the same augmentation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from secgan.utils.seed import worker_init_fn

log = logging.getLogger(__name__)

PRELOAD_BYTES = 1.5e9  # decode into memory when the images (float32) take less than this


def collate(items: list[dict]) -> dict:
    """Stack ``image`` / ``label`` / ``mask`` of dataset items into a batch."""
    out = {
        "image": torch.stack([it["image"] for it in items]),
        "label": torch.stack([it["label"] for it in items]),
    }
    if "mask" in items[0]:
        out["mask"] = torch.stack([it["mask"] for it in items])
    out["index"] = torch.tensor([it["index"] for it in items])
    return out


class BatchSource:
    """Batches of a dataset: in memory when small enough, else from a ``DataLoader``.

    Args:
        ds: a dataset with items ``{"image" [3, S, S] in [-1, 1], "label" [n_a], "index", "mask"?}``.
        batch_size: batch size.
        num_workers: ``DataLoader`` workers for the streaming path.
    """

    def __init__(
        self, ds: Dataset, batch_size: int, num_workers: int = 0, preload: bool | None = None
    ) -> None:
        self.ds, self.batch_size, self.num_workers = ds, int(batch_size), num_workers
        n = len(ds)  # type: ignore[arg-type]
        first = ds[0]
        self.has_mask = "mask" in first
        if preload is None:
            preload = n * first["image"].numel() * 4 < PRELOAD_BYTES
        self.tensors: dict[str, torch.Tensor] | None = None
        if preload:
            loader = DataLoader(
                ds, batch_size=256, shuffle=False, num_workers=num_workers, collate_fn=collate
            )
            parts: dict[str, list[torch.Tensor]] = {}
            for batch in tqdm(loader, desc="loading images", unit="batch", leave=False):
                for k, v in batch.items():
                    parts.setdefault(k, []).append(v)
            self.tensors = {k: torch.cat(v) for k, v in parts.items()}
            log.info("decoded %d images into memory", n)

    def __len__(self) -> int:
        return len(self.ds)  # type: ignore[arg-type]

    def batches(self, shuffle: bool, generator: torch.Generator | None = None) -> Iterator[dict]:
        """One pass over the data (the last batch may be smaller)."""
        n = len(self)
        if self.tensors is not None:
            order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
            for s in range(0, n, self.batch_size):
                idx = order[s : s + self.batch_size]
                yield {k: v[idx] for k, v in self.tensors.items()}
            return
        loader = DataLoader(
            self.ds,
            batch_size=self.batch_size,
            shuffle=shuffle,
            generator=generator,
            num_workers=self.num_workers,
            collate_fn=collate,
            worker_init_fn=worker_init_fn,
        )
        yield from loader


def random_hflip(batch: dict, generator: torch.Generator | None = None, p: float = 0.5) -> dict:
    """Flip a random subset of the batch horizontally (``image`` and ``mask`` together)."""
    flip = torch.rand(batch["image"].shape[0], generator=generator) < p
    if not flip.any():
        return batch
    out = dict(batch)
    out["image"] = torch.where(flip[:, None, None, None], batch["image"].flip(-1), batch["image"])
    if "mask" in batch:
        out["mask"] = torch.where(flip[:, None, None], batch["mask"].flip(-1), batch["mask"])
    return out
