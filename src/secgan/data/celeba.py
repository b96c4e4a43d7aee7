"""CelebA, read from the original files unchanged (paper-notes §6).

Layout::

    ROOT/img_align_celeba/000001.jpg ... 202599.jpg     (178x218)
    ROOT/list_attr_celeba.txt        line 1: count; line 2: the 40 names; rows: ``file v1 ... v40`` (+-1)
    ROOT/list_eval_partition.txt     rows: ``file p`` with p in {0: train, 1: val, 2: test}
    ROOT/CelebAMask-HQ-mask-anno/    optional part masks ``{k // 2000}/{k:05d}_{part}.png``, k = 0-based
                                     row of the image in list_attr_celeba.txt (the synthetic dataset has them)

Split schemes: ``"paper"`` (AttGAN's, by row: ``[:182000]`` train, ``[182000:182637]`` val, the rest test;
only meaningful for the full 202,599-image file), ``"partition-file"`` (list_eval_partition.txt), and
``"auto"`` (paper when the attribute file has exactly 202,599 rows, else the partition file).
Transform: the centred 178x178 square (``min(w, h)`` for other sizes), resized to ``image_size``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from secgan.errors import ConfigError, DataError
from secgan.utils.images import read_binary_mask

from . import transforms as T
from .base import FaceDataset, check_listed_files, check_split, select_attributes

log = logging.getLogger(__name__)

IMAGE_DIR = "img_align_celeba"
ATTR_FILE = "list_attr_celeba.txt"
PARTITION_FILE = "list_eval_partition.txt"
MASK_DIR = "CelebAMask-HQ-mask-anno"
CELEBA_SIZE = 202_599
PAPER_SPLIT = (182_000, 182_637)  # train = [:182000], val = [182000:182637], test = [182637:]
SPLIT_SCHEMES = ("auto", "paper", "partition-file")
PARTITION_IDS = {"train": 0, "val": 1, "test": 2}

_MASK_NAME = re.compile(r"^(\d+)_([a-z_]+)\.png$")


# ---------------------------------------------------------------------------- attribute files
def parse_attribute_file(path: str | os.PathLike) -> tuple[list[str], list[str], np.ndarray]:
    """Parse a CelebA-style attribute list (``list_attr_celeba.txt``, ``CelebAMask-HQ-attribute-anno.txt``).

    Returns ``(file_names, attribute_names, values int8 [n, n_attr] in {-1, 1})``. Whitespace may vary.
    Raises :class:`DataError` naming the file and line for: a missing file, a bad count line, a row with
    the wrong number of columns, a value other than 1/-1, and a count that disagrees with the rows.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"attribute file not found: {path}")
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    if len(lines) < 2:
        raise DataError(
            f"{path}: expected a count line and a line of attribute names, found {len(lines)} line(s)"
        )
    try:
        count = int(lines[0].strip())
    except ValueError:
        raise DataError(f"{path}:1: expected the number of images, found {lines[0].strip()[:60]!r}") from None
    attr_names = lines[1].split()
    if not attr_names:
        raise DataError(f"{path}:2: no attribute names")
    n_attr = len(attr_names)
    files: list[str] = []
    rows: list[list[str]] = []
    linenos: list[int] = []
    for lineno, line in enumerate(lines[2:], start=3):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != n_attr + 1:
            raise DataError(
                f"{path}:{lineno}: expected a file name and {n_attr} values, found {len(fields)} columns"
            )
        files.append(fields[0])
        rows.append(fields[1:])
        linenos.append(lineno)
    if len(files) != count:
        raise DataError(f"{path}: line 1 says {count} images but the file has {len(files)} rows")
    values = (
        np.array(rows, dtype=object).reshape(len(rows), n_attr) if rows else np.zeros((0, n_attr), object)
    )
    ok = (values == "1") | (values == "-1")
    if not ok.all():
        r, c = np.argwhere(~ok)[0]
        lineno = _line_of_row(lines, int(r))
        raise DataError(f"{path}:{lineno}: value {values[r, c]!r} for {attr_names[c]} is not 1 or -1")
    out = np.where(values == "1", 1, -1).astype(np.int8)
    check_listed_files(str(path), files, out, linenos)
    return files, attr_names, out


def _line_of_row(lines: list[str], row: int) -> int:
    """1-based line number of data row ``row`` (blank lines skipped)."""
    seen = -1
    for lineno, line in enumerate(lines[2:], start=3):
        if line.split():
            seen += 1
            if seen == row:
                return lineno
    return len(lines)


def parse_partition_file(path: str | os.PathLike) -> dict[str, int]:
    """``list_eval_partition.txt`` -> ``{file: 0|1|2}``; malformed rows raise :class:`DataError`."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"partition file not found: {path}")
    out: dict[str, int] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            fields = line.split()
            if not fields:
                continue
            if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
                raise DataError(f"{path}:{lineno}: expected 'file 0|1|2', found {line.strip()[:80]!r}")
            out[fields[0]] = int(fields[1])
    return out


# ---------------------------------------------------------------------------- part masks
def scan_part_masks(mask_dir: str | os.PathLike) -> dict[int, list[str]]:
    """Index a CelebAMask-HQ-style folder: ``{k: [part, ...]}`` from ``{k // 2000}/{k:05d}_{part}.png``
    (files are listed once, nothing is decoded). Unknown part names are ignored with a warning."""
    from secgan.data.masks import PARTS_19

    valid = set(PARTS_19)
    index: dict[int, list[str]] = {}
    unknown: set[str] = set()
    mask_dir = Path(mask_dir)
    for sub in sorted(os.scandir(mask_dir), key=lambda e: e.name):
        if not sub.is_dir():
            continue
        for entry in os.scandir(sub.path):
            m = _MASK_NAME.match(entry.name)
            if not m:
                continue
            k, part = int(m.group(1)), m.group(2)
            if part not in valid:
                unknown.add(part)
                continue
            index.setdefault(k, []).append(part)
    if unknown:
        log.warning(
            "ignoring part masks with unknown part names in %s: %s", mask_dir, ", ".join(sorted(unknown))
        )
    return index


def part_mask_path(mask_dir: Path, k: int, part: str) -> Path:
    return mask_dir / str(k // 2000) / f"{k:05d}_{part}.png"


def read_part_masks(mask_dir: str | os.PathLike, k: int, parts: Sequence[str]) -> np.ndarray | None:
    """Read and merge the part masks of image ``k`` -> 19-class label map ``[h, w]`` uint8 at the masks'
    resolution (later parts in PARTS_19 order overwrite earlier ones), or ``None`` when it has none."""
    from secgan.data.masks import merge_part_masks

    if not parts:
        return None
    mask_dir = Path(mask_dir)
    masks = {p: read_binary_mask(part_mask_path(mask_dir, k, p)) for p in parts}
    shapes = {m.shape for m in masks.values()}
    if len(shapes) != 1:
        raise DataError(f"part masks of image {k} in {mask_dir} have different sizes: {sorted(shapes)}")
    return merge_part_masks(masks, shapes.pop())


class PartMaskReader:
    """``reader(i) -> 19-class label map`` for the i-th item, where item i has mask index ``keys[i]``."""

    def __init__(self, mask_dir: Path, keys: Sequence[int], index: dict[int, list[str]]) -> None:
        self.mask_dir = Path(mask_dir)
        self.keys = list(keys)
        self.index = index

    def __call__(self, i: int) -> np.ndarray | None:
        k = self.keys[i]
        return read_part_masks(self.mask_dir, k, self.index.get(k, []))


def resolve_masks(masks: str | None, mask_dir: Path) -> bool:
    """Whether to read ground-truth masks: ``None`` no, ``"gt"`` yes (the folder must exist), ``"auto"``
    when the folder exists."""
    if masks is None:
        return False
    if masks not in ("gt", "auto"):
        raise ConfigError(f"unknown masks mode {masks!r}; valid: gt, auto (or None)")
    if mask_dir.is_dir():
        return True
    if masks == "gt":
        raise DataError(f"ground-truth masks requested but the mask folder is missing: {mask_dir}")
    return False


# ---------------------------------------------------------------------------- splits
def split_rows(n: int, split: str, scheme: str, files: Sequence[str], partition_path: Path) -> np.ndarray:
    """Row indices (into the attribute file) of ``split`` under ``scheme``."""
    if scheme not in SPLIT_SCHEMES:
        raise ConfigError(f"unknown split scheme {scheme!r}; valid: {', '.join(SPLIT_SCHEMES)}")
    if split == "all":
        return np.arange(n)
    if scheme == "auto":
        scheme = "paper" if n == CELEBA_SIZE else "partition-file"
    if scheme == "paper":
        if n != CELEBA_SIZE:
            log.warning("paper split on %d images (it is defined for CelebA's %d)", n, CELEBA_SIZE)
        a, b = PAPER_SPLIT
        bounds = {"train": (0, a), "val": (a, b), "test": (b, n)}[split]
        return np.arange(min(bounds[0], n), min(bounds[1], n))
    part = parse_partition_file(partition_path)
    want = PARTITION_IDS[split]
    rows = []
    for r, f in enumerate(files):
        p = part.get(f)
        if p is None:
            raise DataError(f"{partition_path}: no partition for {f} (listed in the attribute file)")
        if p == want:
            rows.append(r)
    return np.asarray(rows, dtype=np.int64)


# ---------------------------------------------------------------------------- the loader
def load_celeba(
    root: str | os.PathLike,
    split: str = "train",
    attrs: Sequence[str] | str | None = None,
    image_size: int = 128,
    flip: bool = False,
    masks: str | None = None,
    split_scheme: str = "auto",
    on_error: str = "raise",
) -> FaceDataset:
    """Build the CelebA dataset of ``split`` (see the module docstring)."""
    root = Path(root)
    check_split(split)
    if not root.is_dir():
        raise DataError(f"dataset folder not found: {root}")
    attr_path = root / ATTR_FILE
    files, names40, values = parse_attribute_file(attr_path)
    attributes = select_attributes(attrs, names40, str(attr_path))
    image_dir = root / IMAGE_DIR
    if not image_dir.is_dir():
        raise DataError(f"image folder not found: {image_dir}")
    rows = split_rows(len(files), split, split_scheme, files, root / PARTITION_FILE)
    cols = [names40.index(a) for a in attributes]
    labels = (values[rows][:, cols] > 0).astype(np.float32)
    split_files = [files[r] for r in rows]
    mask_dir = root / MASK_DIR
    reader = None
    if resolve_masks(masks, mask_dir):
        reader = PartMaskReader(mask_dir, [int(r) for r in rows], scan_part_masks(mask_dir))
    return FaceDataset(
        paths=[image_dir / f for f in split_files],
        names=split_files,
        labels=labels,
        attributes=attributes,
        box_fn=T.celeba_box,
        image_size=image_size,
        flip=flip,
        mask_reader=reader,
        on_error=on_error,
        source=f"celeba:{root}:{split}",
        uniform_size=True,
    )
