"""Counterfactual augmentation of the evaluation classifier's training set.

A classifier trained on the faces alone learns the attributes' correlates: no training face is a bearded
woman, so a beard is as good a cue for ``Male`` as the face itself, and it judges a true edit "Male off" of a
bearded man wrong. The training faces' counterfactuals (``secgan synth`` renders each face with each of the
paper's attributes edited, ``secgan.data.counterfactuals``) break these correlations: each is labelled with
its own labels, so a woman with a beard is shown as a woman.

:class:`AugmentedSource` serves the training faces plus, every epoch, ``per_face x N`` counterfactuals drawn
at random (uniform over face x attribute, without repeats within an epoch), with the same interface as
:class:`secgan.auxiliary.batches.BatchSource`. Only the **training** split's counterfactuals are ever read:
:func:`load_training_counterfactuals` refuses a name that the partition puts in the validation or test
split, so the faces that choose and score a model never teach the ruler.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from secgan.auxiliary.batches import BatchSource
from secgan.errors import DataError

log = logging.getLogger(__name__)


def held_out_names(root: str | os.PathLike) -> set[str]:
    """The image names of ``root``'s validation and test splits (CelebA partition file)."""
    from secgan.data.registry import build_dataset

    return {n for split in ("val", "test") for n in build_dataset("celeba", root, split=split).names}


def training_counterfactuals_available(root: str | os.PathLike) -> bool:
    """Whether ``root`` holds counterfactuals of its training split (``secgan synth`` writes them)."""
    from secgan.data.counterfactuals import counterfactual_splits

    return "train" in counterfactual_splits(root)


def load_training_counterfactuals(
    root: str | os.PathLike, names: Sequence[str], attributes: Sequence[str], image_size: int
) -> tuple[torch.Tensor, torch.Tensor, list[tuple[int, str]]]:
    """The counterfactuals of the training images ``names`` of ``root``, every stored attribute.

    Returns ``(images uint8 [M, 3, S, S] (the [-1, 1] tensor of the dataset's preprocessing, quantised),
    labels float32 [M, n_a] in {0, 1} (``attributes`` columns of the counterfactual's own labels),
    sources [(index into names, edited attribute)] * M)``. Raises :class:`DataError` when a name is in the
    validation or test split, or a counterfactual is missing.
    """
    from secgan.data.counterfactuals import (
        counterfactual_attributes,
        counterfactual_labels,
        load_counterfactual_image,
    )

    leaked = sorted(set(names) & held_out_names(root))
    if leaked:
        raise DataError(
            f"{root}: {len(leaked)} validation/test image(s) (e.g. {leaked[0]}) asked for as training "
            "counterfactuals; only the training split's may augment the classifier"
        )
    edited = counterfactual_attributes(root)
    images, labels, sources = [], [], []
    for a in edited:
        files, names40, values = counterfactual_labels(root, a)
        row_of = {f: r for r, f in enumerate(files)}
        cols = [names40.index(x) for x in attributes]
        for k, name in enumerate(tqdm(names, desc=f"counterfactuals {a}", leave=False, unit="img")):
            got = load_counterfactual_image(root, name, a, image_size)  # [3, S, S] in [-1, 1]
            if got is None or name not in row_of:
                raise DataError(f"{root}: no {a} counterfactual for training image {name}")
            images.append(((got + 1) * 127.5).round().clamp(0, 255).to(torch.uint8))  # [3, S, S]
            labels.append((values[row_of[name], cols] > 0).astype(np.float32))
            sources.append((k, a))
    return torch.stack(images), torch.from_numpy(np.stack(labels)), sources


class AugmentedSource:
    """The training faces (a preloaded :class:`BatchSource`) plus ``per_face x N`` random counterfactuals
    per epoch; ``batches`` yields ``{"image" float [B, 3, S, S] in [-1, 1], "label" [B, n_a], "index"}``
    (``index`` -1 for a counterfactual)."""

    def __init__(self, faces: BatchSource, cf_images: torch.Tensor, cf_labels: torch.Tensor, per_face: float):
        if faces.tensors is None:
            raise DataError(
                "counterfactual augmentation needs the training faces in memory (a small dataset)"
            )
        if per_face <= 0:
            raise ValueError(f"per_face must be > 0, got {per_face}")
        self.faces, self.cf_images, self.cf_labels = faces, cf_images, cf_labels
        self.batch_size = faces.batch_size
        self.n_cf = min(len(cf_images), int(round(per_face * len(faces))))

    def __len__(self) -> int:
        return len(self.faces) + self.n_cf

    def batches(self, shuffle: bool, generator: torch.Generator | None = None) -> Iterator[dict]:
        t = self.faces.tensors
        assert t is not None
        n = len(self.faces)
        pick = torch.randperm(len(self.cf_images), generator=generator)[
            : self.n_cf
        ]  # this epoch's counterfactuals
        order = torch.randperm(len(self), generator=generator) if shuffle else torch.arange(len(self))
        for s in range(0, len(self), self.batch_size):
            idx = order[s : s + self.batch_size]
            face, cf = idx[idx < n], pick[idx[idx >= n] - n]
            yield {
                "image": torch.cat([t["image"][face], self.cf_images[cf].float() / 127.5 - 1.0]),
                "label": torch.cat([t["label"][face], self.cf_labels[cf]]),
                "index": torch.cat([t["index"][face], torch.full((len(cf),), -1, dtype=torch.long)]),
            }


def augmented_source(
    faces: BatchSource, train_ds, root: str | os.PathLike, per_face: float
) -> tuple[AugmentedSource, dict]:
    """Wrap ``faces`` (the batch source of ``train_ds``, the training split of ``root``) and its
    counterfactuals; returns the source and the meta recorded with the classifier (``{"counterfactuals":
    True, "per_face", "pool", "per_epoch", "source"}``)."""
    size = int(train_ds[0]["image"].shape[-1])
    images, labels, _ = load_training_counterfactuals(
        root, list(train_ds.names), list(train_ds.attributes), size
    )
    source = AugmentedSource(faces, images, labels, per_face)
    meta = {
        "counterfactuals": True,
        "per_face": float(per_face),
        "pool": int(len(images)),
        "per_epoch": source.n_cf,
        "source": f"training split counterfactuals of {Path(root).resolve()}",
    }
    log.info("augmenting %d training faces with %d of %d counterfactuals per epoch", len(faces), source.n_cf,
             len(images))  # fmt: skip
    return source, meta
