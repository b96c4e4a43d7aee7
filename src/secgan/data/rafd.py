"""RaFD (Radboud Faces Database), read from the original file names (paper-notes §6).

Files look like ``Rafd090_01_Caucasian_female_angry_frontal.jpg``: camera angle, model id, ethnicity,
gender, expression, gaze. Images may sit directly in ROOT or in sub-folders. By default the paper's (and
StarGAN's) set is used: cameras ``045``, ``090`` and ``135`` (``cameras``; the profile cameras ``000`` and
``180`` are left out), all three gazes, 8 expressions: 4,824 images of 67 identities, 4,320 train / 504
test. Labels are one-hot over the 8 expressions (``RAFD_EXPRESSIONS``). Transform: the 600x600 head crop
(rows 170:770, cols 40:640 of the 681x1024 original; the same box scaled proportionally for other
sizes), resized to ``image_size``.

Split by identity: 60 of the 67 identities train and the rest (7) test. ``identity_split="random"`` (the
default; the paper picks the 60 at random) draws them with ``numpy.random.default_rng(split_seed)`` from
the numerically sorted ids; ``"sorted"`` takes the first 60 ids. With fewer than 67 identities,
``round(n * 60 / 67)`` train (at least one identity left for test when there are two or more). The
dataset's ``split_info`` holds the scheme, the seed and both identity lists (the trainer writes them to
the run folder). RaFD has no validation set: ``split="val"`` returns the test identities.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from secgan.data.attributes import RAFD_EXPRESSIONS
from secgan.errors import ConfigError, DataError

from . import transforms as T
from .base import FaceDataset, check_split

log = logging.getLogger(__name__)

RAFD_NAME = re.compile(
    r"^Rafd(?P<camera>\d{3})_(?P<model>\d+)_(?P<ethnicity>[A-Za-z]+)_(?P<gender>female|male)_"
    r"(?P<expression>[a-z]+)_(?P<gaze>frontal|left|right)\.(?:jpe?g|png)$",
    re.IGNORECASE,
)
TRAIN_MODELS = 60
FULL_MODELS = 67
DEFAULT_CAMERAS = ("045", "090", "135")
IDENTITY_SPLITS = ("random", "sorted")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")


def parse_rafd_name(name: str) -> dict[str, str] | None:
    """Fields of a RaFD file name, or ``None`` when it does not follow the pattern."""
    m = RAFD_NAME.match(name)
    if not m:
        return None
    d = m.groupdict()
    d["expression"] = d["expression"].lower()
    return d


def _id_key(m: str) -> tuple[int, str]:
    return (int(m) if m.isdigit() else 10**9, m)


def split_identities(
    models: Sequence[str], scheme: str = "random", seed: int = 0
) -> tuple[list[str], list[str]]:
    """Model ids -> ``(train_ids, test_ids)``, each sorted (see the module docstring)."""
    if scheme not in IDENTITY_SPLITS:
        raise ConfigError(
            f"RaFD identity_split={scheme!r} is not valid; choose one of: {', '.join(IDENTITY_SPLITS)}"
        )
    ids = sorted(set(models), key=_id_key)
    n = len(ids)
    if n >= FULL_MODELS:
        k = TRAIN_MODELS
    else:
        k = int(round(n * TRAIN_MODELS / FULL_MODELS))
        if n >= 2:
            k = min(k, n - 1)
    if scheme == "random":
        ids = [ids[i] for i in np.random.default_rng(seed).permutation(n)]
    return sorted(ids[:k], key=_id_key), sorted(ids[k:], key=_id_key)


def load_rafd(
    root: str | os.PathLike,
    split: str = "train",
    attrs: Sequence[str] | str | None = None,
    image_size: int = 128,
    flip: bool = False,
    masks: str | None = None,
    cameras: Sequence[str] | str | None = DEFAULT_CAMERAS,
    identity_split: str = "random",
    split_seed: int = 0,
    on_error: str = "raise",
) -> FaceDataset:
    """Build the RaFD dataset of ``split``. ``attrs`` must be ``None`` or the 8 expressions (labels are
    always the one-hot expression); ``masks`` other than ``None`` is refused (RaFD has no masks).
    ``cameras``: the camera angles kept (``None``: all); ``identity_split`` (``"random"`` or
    ``"sorted"``) and ``split_seed``: how the identities are split (see the module docstring)."""
    root = Path(root)
    check_split(split)
    if attrs is not None:
        names = [a.strip() for a in attrs.split(",")] if isinstance(attrs, str) else list(attrs)
        if names != list(RAFD_EXPRESSIONS):
            raise ConfigError(
                f"RaFD labels are the 8 expressions ({', '.join(RAFD_EXPRESSIONS)}); attrs must be None or those"
            )
    if masks == "gt":
        raise DataError(f"RaFD has no ground-truth masks ({root}); use a parser mask cache (mask_array)")
    if not root.is_dir():
        raise DataError(f"dataset folder not found: {root}")
    if isinstance(cameras, str):
        cameras = [c.strip() for c in cameras.split(",") if c.strip()]
    cams = None if cameras is None else {str(c).zfill(3) for c in cameras}
    items: list[tuple[Path, dict[str, str]]] = []
    ignored = 0
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            if not f.lower().endswith(IMAGE_EXTENSIONS):
                continue
            info = parse_rafd_name(f)
            if info is None:
                ignored += 1
                continue
            if info["expression"] not in RAFD_EXPRESSIONS:
                raise DataError(
                    f"{Path(dirpath) / f}: unknown expression {info['expression']!r}; valid: {', '.join(RAFD_EXPRESSIONS)}"
                )
            if cams is not None and info["camera"] not in cams:
                continue
            items.append((Path(dirpath) / f, info))
    if ignored:
        log.warning("ignored %d image files in %s whose names do not follow RaFD's pattern", ignored, root)
    if not items:
        raise DataError(
            f"no RaFD images (Rafd<camera>_<model>_<ethnicity>_<gender>_<expression>_<gaze>.jpg) "
            f"for cameras {sorted(cams) if cams else 'any'} in {root}"
        )
    items.sort(
        key=lambda it: (int(it[1]["model"]), it[1]["expression"], it[1]["gaze"], it[1]["camera"], it[0].name)
    )
    train_ids, test_ids = split_identities([it[1]["model"] for it in items], identity_split, split_seed)
    keep = {"train": set(train_ids), "val": set(test_ids), "test": set(test_ids)}.get(split)
    chosen = [it for it in items if keep is None or it[1]["model"] in keep]
    labels = np.zeros((len(chosen), len(RAFD_EXPRESSIONS)), np.float32)
    for r, (_p, info) in enumerate(chosen):
        labels[r, RAFD_EXPRESSIONS.index(info["expression"])] = 1.0
    ds = FaceDataset(
        paths=[p for p, _ in chosen],
        names=[p.name for p, _ in chosen],
        labels=labels,
        attributes=list(RAFD_EXPRESSIONS),
        box_fn=T.rafd_box,
        image_size=image_size,
        flip=flip,
        mask_reader=None,
        on_error=on_error,
        source=f"rafd:{root}:{split}",
        uniform_size=True,
    )
    ds.meta["model"] = [info["model"] for _, info in chosen]
    ds.split_info = {
        "identity_split": identity_split,
        "split_seed": int(split_seed) if identity_split == "random" else None,
        "cameras": sorted(cams) if cams is not None else None,
        "identities": len(train_ids) + len(test_ids),
        "train_identities": train_ids,
        "test_identities": test_ids,
    }
    return ds
