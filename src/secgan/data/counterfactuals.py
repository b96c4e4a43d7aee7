"""Ground-truth counterfactual edits stored beside a CelebA-format dataset (``secgan synth`` writes them).

Layout under the dataset root ``DIR``::

    DIR/counterfactuals/info.json                  {"version": 2, "splits": [...], "attributes": [13],
                                                   "images", "images_per_split": {split: n}}
                                                   (version 1, written before: {"split": "test", ...})
    DIR/counterfactuals/<Attr>/list_attr_celeba.txt the 40 CelebA labels of each counterfactual (CelebA format),
                                                   every image with counterfactuals, in image order
    DIR/counterfactuals/<Attr>/<stem>.jpg          image <stem>.jpg with <Attr> edited: same size and JPEG
                                                   quality as the source image
    DIR/counterfactuals/<Attr>/<stem>_parts.png    its 19-class part ids (8-bit grey, values 0..18, PARTS_19)
    DIR/counterfactuals/<Attr>/<stem>_changed.png  1-bit: where it differs from the source before JPEG
                                                   (rendered value or part id), the *changed region*

The edit of ``<Attr>`` is the evaluation protocol's (invert it, then the shared conflict rules), so the
labels in ``<Attr>/list_attr_celeba.txt`` restricted to the paper's 13 equal the accuracy protocol's
targets. ``secgan synth`` writes them for every split by default (version 2): the validation and test
counterfactuals score edits, the training ones only augment the evaluation classifier
(:mod:`secgan.auxiliary.classifier.augment`). The file names are the source images', unique across splits,
so a version-1 folder (test split only) loads unchanged. :func:`load_counterfactual` gives a counterfactual at a dataset's preprocessing (CelebA's centred
square, resized), ready to compare with an edited image.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from secgan.errors import DataError
from secgan.utils.images import read_image

from . import transforms as T
from .masks import map_19_to_12

CF_DIR = "counterfactuals"
CF_INFO = "info.json"
CF_VERSION = 2  # 2: any splits ("splits"); 1: the test split only ("split": "test")
CF_VERSIONS = (1, 2)  # readable
CF_SPLITS = ("train", "val", "test")


def cf_files(root: str | os.PathLike, attribute: str, name: str) -> tuple[Path, Path, Path]:
    """``(image, parts, changed)`` paths of the counterfactual of image ``name`` with ``attribute`` edited."""
    d = Path(root) / CF_DIR / attribute
    stem = Path(name).stem
    return d / f"{stem}.jpg", d / f"{stem}_parts.png", d / f"{stem}_changed.png"


def _info(root: str | os.PathLike) -> dict | None:
    path = Path(root) / CF_DIR / CF_INFO
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"{path}: unreadable counterfactual index ({err})") from None
    if info.get("version") not in CF_VERSIONS or not isinstance(info.get("attributes"), list):
        raise DataError(f"{path}: unsupported counterfactual index (want version {CF_VERSIONS})")
    return info


def counterfactual_splits(root: str | os.PathLike) -> list[str]:
    """The splits whose images have counterfactuals under ``root`` (version 1: ``["test"]``; none: ``[]``)."""
    info = _info(root)
    if not info:
        return []
    if info["version"] == 1:
        return [str(info.get("split", "test"))]
    return [str(s) for s in info.get("splits", [])]


def counterfactual_labels(root: str | os.PathLike, attribute: str) -> tuple[list[str], list[str], np.ndarray]:
    """``(file names, the 40 attribute names, values int8 [n, 40] in {-1, 1})`` of the ``attribute``
    counterfactuals under ``root`` (``<Attr>/list_attr_celeba.txt``)."""
    from .celeba import parse_attribute_file

    return parse_attribute_file(Path(root) / CF_DIR / attribute / "list_attr_celeba.txt")


def counterfactual_attributes(root: str | os.PathLike) -> list[str]:
    """The attributes with counterfactuals under ``root`` (empty when the dataset has none)."""
    info = _info(root)  # read each time (cheap), so a dataset written later is seen
    return list(info["attributes"]) if info else []


def has_counterfactuals(root: str | os.PathLike) -> bool:
    return bool(counterfactual_attributes(root))


def _read_grey(path: Path) -> np.ndarray:
    arr = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if arr is None:
        raise DataError(f"cannot read {path}")
    return arr


def load_counterfactual_image(
    root: str | os.PathLike, name: str, attribute: str, image_size: int
) -> torch.Tensor | None:
    """Only the image of :func:`load_counterfactual` (float ``[3, S, S]`` in [-1, 1]), or ``None``: what
    the classifier's augmentation reads (no part ids, no changed region)."""
    if attribute not in counterfactual_attributes(root):
        return None
    img_path = cf_files(root, attribute, name)[0]
    if not img_path.is_file():
        return None
    img = read_image(img_path)
    return T.image_to_tensor(T.crop_resize_image(img, T.celeba_box(*img.size), image_size))


def load_counterfactual(
    root: str | os.PathLike, name: str, attribute: str, image_size: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None:
    """The counterfactual of image ``name`` with ``attribute`` edited, at the dataset's preprocessing
    (centred ``min(w, h)`` square, i.e. CelebA's 178 crop, resized to ``image_size``):

    ``(image float [3, S, S] in [-1, 1], mask long [S, S] (12 segments), changed bool [S, S])``.
    ``changed`` holds every output pixel a changed source pixel contributes to (bilinear footprint).
    ``None`` when ``root`` has no counterfactuals for this attribute or image (e.g. not a test image).
    """
    if attribute not in counterfactual_attributes(root):
        return None
    img_path, parts_path, changed_path = cf_files(root, attribute, name)
    if not img_path.is_file():
        return None
    img = read_image(img_path)
    w, h = img.size
    box = T.celeba_box(w, h)
    image = T.image_to_tensor(T.crop_resize_image(img, box, image_size))
    parts = _read_grey(parts_path)
    mask = map_19_to_12(T.crop_resize_mask(parts, box, (w, h), image_size))
    changed = Image.fromarray((_read_grey(changed_path) > 0).astype(np.uint8) * 255)
    if changed.size != (w, h):
        raise DataError(f"{changed_path}: size {changed.size} differs from the image's {(w, h)}")
    changed = np.asarray(T.crop_resize_image(changed, box, image_size)) > 0
    return image, torch.from_numpy(np.asarray(mask, np.int64)), torch.from_numpy(changed)
