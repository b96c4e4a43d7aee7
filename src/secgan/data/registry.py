"""``build_dataset``: the one entry point every trainer and evaluator uses to get a dataset."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from secgan.errors import ConfigError

from .base import FaceDataset, check_split

DATASETS: tuple[str, ...] = ("celeba", "celebahq", "rafd", "custom")

# dataset name -> (module, loader function)
_LOADERS = {
    "celeba": ("secgan.data.celeba", "load_celeba"),
    "celebahq": ("secgan.data.celebahq", "load_celebahq"),
    "rafd": ("secgan.data.rafd", "load_rafd"),
    "custom": ("secgan.data.custom", "load_custom"),
}


def build_dataset(
    name: str,
    root: str | Path,
    split: str = "train",
    attrs: Sequence[str] | str | None = None,
    image_size: int = 128,
    flip: bool = False,
    masks: str | None = None,
    mask_array: np.ndarray | None = None,
    on_error: str = "raise",
    max_items: int | None = None,
    **options: Any,
) -> FaceDataset:
    """Build dataset ``name`` (one of :data:`DATASETS`) from the original files under ``root``.

    Args:
        split: ``"train" | "val" | "test" | "all"``.
        attrs: attribute names (list or comma-separated); ``None`` gives the paper's 13 (RaFD: always the
            8 expressions, one-hot).
        image_size: output side ``S``; items hold ``image [3, S, S]`` in ``[-1, 1]``.
        flip: random horizontal flip of image and mask together.
        masks: ``None`` (no masks), ``"gt"`` (ground-truth part masks, required), ``"auto"`` (when present).
        mask_array: a parser mask cache ``uint8 [len(ds), S, S]`` of 12-segment ids aligned with
            ``ds.names`` (after ``max_items``); overrides ``masks``.
        on_error: ``"raise"`` or ``"skip"`` unreadable images.
        max_items: keep the first N items of the split.
        options: loader-specific: ``split_scheme`` (celeba, celebahq), ``cameras`` (rafd), ``csv`` and
            ``image_dir`` (custom).
    """
    if name not in _LOADERS:
        raise ConfigError(f"unknown dataset {name!r}; valid datasets: {', '.join(DATASETS)}")
    check_split(split)
    module_name, fn_name = _LOADERS[name]
    loader = getattr(importlib.import_module(module_name), fn_name)
    ds: FaceDataset = loader(
        root,
        split=split,
        attrs=attrs,
        image_size=image_size,
        flip=flip,
        masks=None if mask_array is not None else masks,
        on_error=on_error,
        **options,
    )
    ds.take(max_items)
    if mask_array is not None:
        ds.mask_reader = None
        ds.set_mask_array(mask_array)
    return ds
