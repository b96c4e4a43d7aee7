"""A custom dataset: a folder of face images plus a CSV of attribute labels.

``ROOT/labels.csv`` (``csv`` option) has a header ``file,<attr1>,<attr2>,...`` and one row per image;
``file`` is a path relative to ``ROOT`` (or to ``image_dir`` when given). Label values are 0/1 or -1/1
(0 and -1 both mean "absent"). An optional ``split`` column (``train``/``val``/``test``) assigns the
splits; without it a deterministic 90/5/5 split by a hash of the file name is used. Attributes are
chosen by name from the header; ``attrs=None`` means the paper's 13 when the CSV has them all, else
every attribute column of the CSV. Images are centre-cropped to their shorter side and resized.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.errors import DataError

from . import transforms as T
from .base import FaceDataset, check_listed_files, check_split, select_attributes

log = logging.getLogger(__name__)

DEFAULT_CSV = "labels.csv"
SPLIT_NAMES = ("train", "val", "test")
_VALUES = {"1": 1.0, "0": 0.0, "-1": 0.0}


def hash_split(name: str) -> str:
    """Deterministic 90/5/5 split of a file name (md5 of its UTF-8 bytes, mod 100)."""
    h = int.from_bytes(hashlib.md5(name.encode("utf-8")).digest()[:8], "big") % 100
    return "train" if h < 90 else ("val" if h < 95 else "test")


def parse_label_csv(path: Path) -> tuple[list[str], list[str], np.ndarray, list[str] | None]:
    """``(files, attribute_names, labels float32 [n, n_attr] in {0, 1}, splits or None)``."""
    if not path.is_file():
        raise DataError(f"label CSV not found: {path}")
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        rows = list(csv.reader(fh))
    rows = [(k + 1, [c.strip() for c in r]) for k, r in enumerate(rows) if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: empty file (expected a header 'file,<attr1>,...')")
    _, header = rows[0]
    if not header or header[0] != "file":
        raise DataError(f"{path}:1: the first header column must be 'file', found {header[:1]}")
    split_col = header.index("split") if "split" in header else None
    attr_cols = [k for k in range(1, len(header)) if k != split_col]
    names = [header[k] for k in attr_cols]
    if len(set(names)) != len(names):
        raise DataError(f"{path}:1: repeated column names in the header")
    files: list[str] = []
    splits: list[str] = []
    labels = np.zeros((len(rows) - 1, len(attr_cols)), np.float32)
    for r, (lineno, row) in enumerate(rows[1:]):
        if len(row) != len(header):
            raise DataError(
                f"{path}:{lineno}: expected {len(header)} columns like the header, found {len(row)}"
            )
        files.append(row[0])
        for c, k in enumerate(attr_cols):
            v = row[k]
            if v not in _VALUES:
                raise DataError(f"{path}:{lineno}: value {v!r} for {header[k]} is not 0/1 or -1/1")
            labels[r, c] = _VALUES[v]
        if split_col is not None:
            s = row[split_col].lower()
            if s not in SPLIT_NAMES:
                raise DataError(
                    f"{path}:{lineno}: split {row[split_col]!r} is not one of {', '.join(SPLIT_NAMES)}"
                )
            splits.append(s)
    check_listed_files(str(path), files, labels, [lineno for lineno, _ in rows[1:]])
    return files, names, labels, (splits if split_col is not None else None)


def load_custom(
    root: str | os.PathLike,
    split: str = "train",
    attrs: Sequence[str] | str | None = None,
    image_size: int = 128,
    flip: bool = False,
    masks: str | None = None,
    csv: str = DEFAULT_CSV,
    image_dir: str | None = None,
    on_error: str = "raise",
) -> FaceDataset:
    """Build the custom dataset of ``split`` (see the module docstring)."""
    root = Path(root)
    check_split(split)
    if masks == "gt":
        raise DataError(f"a custom dataset has no ground-truth masks ({root}); use a parser mask cache")
    if not root.is_dir():
        raise DataError(f"dataset folder not found: {root}")
    csv_path = root / csv
    files, names, labels, splits = parse_label_csv(csv_path)
    if attrs is None:
        attrs = list(PAPER_ATTRIBUTES) if all(a in names for a in PAPER_ATTRIBUTES) else names
    attributes = select_attributes(attrs, names, str(csv_path))
    cols = [names.index(a) for a in attributes]
    if splits is None:
        splits = [hash_split(f) for f in files]
    rows = [r for r in range(len(files)) if split == "all" or splits[r] == split]
    base = root / image_dir if image_dir else root
    return FaceDataset(
        paths=[base / files[r] for r in rows],
        names=[files[r] for r in rows],
        labels=labels[rows][:, cols] if rows else np.zeros((0, len(cols)), np.float32),
        attributes=attributes,
        box_fn=T.center_square_box,
        image_size=image_size,
        flip=flip,
        mask_reader=None,
        on_error=on_error,
        source=f"custom:{csv_path}:{split}",
    )


def custom_from_celeba(
    src: str | os.PathLike, dst: str | os.PathLike, attrs: Sequence[str] = PAPER_ATTRIBUTES
) -> int:
    """Write a CelebA-format folder (e.g. ``secgan synth`` output: ``list_attr_celeba.txt``,
    ``list_eval_partition.txt``, ``img_align_celeba/``) as a custom folder ``dst``: ``dst/img/*`` and
    ``dst/labels.csv`` with the columns ``file``, ``attrs`` (-1/1) and ``split``. Returns the face count."""
    import shutil

    src, dst = Path(src), Path(dst)
    lines = (src / "list_attr_celeba.txt").read_text().splitlines()
    names = lines[1].split()
    parts = (src / "list_eval_partition.txt").read_text().split()
    split = dict(zip(parts[::2], parts[1::2]))
    (dst / "img").mkdir(parents=True, exist_ok=True)
    rows = [["file", *attrs, "split"]]
    for line in lines[2:]:
        f, *vals = line.split()
        shutil.copyfile(src / "img_align_celeba" / f, dst / "img" / f)
        value = dict(zip(names, vals))
        rows.append([f"img/{f}", *[value[a] for a in attrs], SPLIT_NAMES[int(split[f])]])
    with open(dst / DEFAULT_CSV, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    return len(rows) - 1
