"""CelebA-HQ / CelebAMask-HQ, read from the original files unchanged (paper-notes §6).

Layout::

    ROOT/CelebA-HQ-img/0.jpg ... 29999.jpg              (1024x1024; 0-based names)
    ROOT/CelebAMask-HQ-attribute-anno.txt               line 1: count; line 2: the 40 names; rows ``i.jpg`` +-1
    ROOT/CelebAMask-HQ-mask-anno/{k//2000}/{k:05d}_{part}.png   part masks (512x512), absent parts absent
    ROOT/CelebA-HQ-to-CelebA-mapping.txt                optional: ``idx orig_idx orig_file``

Split (``split_scheme="paper"``, the only one): by row index, 28000 train / 500 val / 1500 test for the
full 30,000 images; for a smaller set, the same proportions: ``round(n * 28000/30000)`` train, then
``round(n * 500/30000)`` val, the rest test. The images are already square and aligned: a non-square one
is centre-cropped to its shorter side; everything is resized to ``image_size``. Masks (512) are resized
to the image's size by nearest neighbour before cropping.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from secgan.errors import ConfigError, DataError

from . import transforms as T
from .base import FaceDataset, check_split, select_attributes
from .celeba import PartMaskReader, parse_attribute_file, resolve_masks, scan_part_masks

log = logging.getLogger(__name__)

IMAGE_DIR = "CelebA-HQ-img"
ATTR_FILE = "CelebAMask-HQ-attribute-anno.txt"
MASK_DIR = "CelebAMask-HQ-mask-anno"
MAPPING_FILE = "CelebA-HQ-to-CelebA-mapping.txt"
HQ_SIZE = 30_000
PAPER_COUNTS = (28_000, 500, 1_500)
SPLIT_SCHEMES = ("paper", "auto")


def split_bounds(n: int) -> dict[str, tuple[int, int]]:
    """Row ranges of train/val/test for ``n`` images (fixed counts at 30,000, proportional below)."""
    if n >= HQ_SIZE:
        a, b = PAPER_COUNTS[0], PAPER_COUNTS[0] + PAPER_COUNTS[1]
    else:
        a = int(round(n * PAPER_COUNTS[0] / HQ_SIZE))
        b = a + int(round(n * PAPER_COUNTS[1] / HQ_SIZE))
    return {"train": (0, a), "val": (a, b), "test": (b, n), "all": (0, n)}


def parse_mapping_file(path: str | os.PathLike) -> dict[int, str]:
    """``CelebA-HQ-to-CelebA-mapping.txt`` -> ``{hq_index: original CelebA file name}``."""
    path = Path(path)
    out: dict[int, str] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields or (lineno == 1 and not fields[0].isdigit()):
                continue  # header "idx orig_idx orig_file"
            if len(fields) != 3 or not fields[0].isdigit() or not fields[1].isdigit():
                raise DataError(
                    f"{path}:{lineno}: expected 'idx orig_idx orig_file', found {line.strip()[:80]!r}"
                )
            out[int(fields[0])] = fields[2]
    return out


def load_celebahq(
    root: str | os.PathLike,
    split: str = "train",
    attrs: Sequence[str] | str | None = None,
    image_size: int = 128,
    flip: bool = False,
    masks: str | None = None,
    split_scheme: str = "paper",
    on_error: str = "raise",
) -> FaceDataset:
    """Build the CelebA-HQ dataset of ``split`` (see the module docstring). Items are named by their
    file (``"17.jpg"``); ``ds.meta["celeba_name"]`` holds the original CelebA file when the mapping
    file is present."""
    root = Path(root)
    check_split(split)
    if split_scheme not in SPLIT_SCHEMES:
        raise ConfigError(f"unknown split scheme {split_scheme!r} for celebahq; valid: paper")
    if not root.is_dir():
        raise DataError(f"dataset folder not found: {root}")
    attr_path = root / ATTR_FILE
    files, names40, values = parse_attribute_file(attr_path)
    attributes = select_attributes(attrs, names40, str(attr_path))
    image_dir = root / IMAGE_DIR
    if not image_dir.is_dir():
        raise DataError(f"image folder not found: {image_dir}")
    keys = []
    for r, f in enumerate(files):
        stem = Path(f).stem
        if not stem.isdigit():
            raise DataError(
                f"{attr_path}: row {r + 1} names {f!r}; CelebA-HQ files are named 0.jpg, 1.jpg, ..."
            )
        keys.append(int(stem))
    lo, hi = split_bounds(len(files))[split]
    rows = np.arange(lo, hi)
    cols = [names40.index(a) for a in attributes]
    labels = (values[rows][:, cols] > 0).astype(np.float32)
    split_files = [files[r] for r in rows]
    mask_dir = root / MASK_DIR
    reader = None
    if resolve_masks(masks, mask_dir):
        reader = PartMaskReader(mask_dir, [keys[r] for r in rows], scan_part_masks(mask_dir))
    ds = FaceDataset(
        paths=[image_dir / f for f in split_files],
        names=split_files,
        labels=labels,
        attributes=attributes,
        box_fn=T.center_square_box,
        image_size=image_size,
        flip=flip,
        mask_reader=reader,
        on_error=on_error,
        source=f"celebahq:{root}:{split}",
        uniform_size=True,
    )
    mapping_path = root / MAPPING_FILE
    if mapping_path.is_file():
        mapping = parse_mapping_file(mapping_path)
        ds.meta["celeba_name"] = [mapping.get(keys[r], "") for r in rows]
    return ds
