"""The dataset class every loader returns: file list + labels + crop rule + optional masks.

Items are dicts (docs/DESIGN.md): ``{"image": float [3, S, S] in [-1, 1], "label": float [n_a] in {0, 1},
"index": int, "name": str}`` plus ``"mask": long [S, S]`` (12-segment ids) when masks are available.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from secgan.data.masks import map_19_to_12
from secgan.errors import ConfigError, DataError
from secgan.utils.images import image_size as header_size
from secgan.utils.images import read_image

from . import transforms as T

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test", "all")
MASK_MODES = (None, "gt", "auto")
ON_ERROR = ("raise", "skip")
SIZE_PROBES = 8  # image headers read to find a fixed-format dataset's image size
MIN_SIDE = 16  # px: a smaller image (e.g. 1x1) is no face photo

# (index into the split, image size (w, h)) -> 19-class label map [h', w'] uint8 at the mask's own
# resolution, or None when this image has no mask files.
MaskReader = Callable[[int], np.ndarray | None]


def check_split(split: str) -> str:
    if split not in SPLITS:
        raise ConfigError(f"unknown split {split!r}; valid splits: {', '.join(SPLITS)}")
    return split


def check_image_size(image_size: int) -> int:
    if int(image_size) < 1:
        raise ConfigError(f"image_size must be a positive integer, got {image_size}")
    return int(image_size)


class FaceDataset(Dataset):
    """A list of image files with labels, a crop rule and optional 12-segment masks.

    Args:
        paths: image files, in split order.
        names: the names reported in items (file names as the dataset lists them).
        labels: ``[len, n_a]`` float32 in ``{0, 1}``.
        attributes: names of the ``n_a`` label columns.
        box_fn: ``(w, h) -> crop box`` in the full image.
        image_size: output side ``S``.
        flip: random horizontal flip (image and mask together), driven by torch's RNG.
        mask_reader: ``i -> 19-class label map`` (ground-truth part masks merged) or ``None``.
        mask_array: a parser mask cache ``uint8 [len, S, S]`` of 12-segment ids, aligned with ``names``
            (already cropped and resized); takes precedence over ``mask_reader``.
        on_error: ``"raise"`` a :class:`DataError` on an unreadable image, or ``"skip"`` it (the next
            readable item is returned instead and the skip is counted in the log).
        uniform_size: every image must have the dataset's size (:attr:`reference_size`, the most common
            size among a few headers); an image of another size is a :class:`DataError` like an unreadable
            one (fixed-format datasets: CelebA, CelebA-HQ, RaFD). Any image under ``MIN_SIDE`` px is one.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        names: Sequence[str],
        labels: np.ndarray,
        attributes: Sequence[str],
        box_fn: Callable[[int, int], T.Box],
        image_size: int = 128,
        flip: bool = False,
        mask_reader: MaskReader | None = None,
        mask_array: np.ndarray | None = None,
        on_error: str = "raise",
        source: str = "",
        uniform_size: bool = False,
    ) -> None:
        if on_error not in ON_ERROR:
            raise ConfigError(f"unknown on_error {on_error!r}; valid: {', '.join(ON_ERROR)}")
        self.paths = [Path(p) for p in paths]
        self.names = list(names)
        self.attributes = list(attributes)
        self._labels = np.asarray(labels, dtype=np.float32).reshape(len(self.paths), len(self.attributes))
        self.box_fn = box_fn
        self.image_size = check_image_size(image_size)
        self.flip = bool(flip)
        self.mask_reader = mask_reader
        self.on_error = on_error
        self.source = source
        self.uniform_size = bool(uniform_size)
        self._reference_size: tuple[int, int] | None = None
        self.skipped = 0
        self.meta: dict[str, list] = {}  # per-item extras aligned with ``names`` (e.g. RaFD model ids)
        self.split_info: dict | None = None  # how the split was made, when it is drawn (RaFD identities)
        self.mask_array: np.ndarray | None = None
        if mask_array is not None:
            self.set_mask_array(mask_array)

    def set_mask_array(self, mask_array: np.ndarray | None) -> None:
        """Use a parser mask cache ``uint8 [len, S, S]`` (12-segment ids, aligned with ``names``)."""
        if mask_array is None:
            self.mask_array = None
            return
        arr = mask_array if hasattr(mask_array, "shape") else np.asarray(mask_array)  # keeps np.memmap lazy
        want = (len(self.paths), self.image_size, self.image_size)
        if tuple(arr.shape) != want:
            raise DataError(
                f"mask cache has shape {tuple(arr.shape)} but this dataset needs {want} "
                f"(len(ds), image_size, image_size)"
            )
        self.mask_array = arr

    # ------------------------------------------------------------------ properties
    def __len__(self) -> int:
        return len(self.paths)

    @property
    def has_masks(self) -> bool:
        return self.mask_array is not None or self.mask_reader is not None

    @property
    def labels(self) -> torch.Tensor:
        """All labels ``[len, n_a]`` float in ``{0, 1}`` (no image is decoded)."""
        return torch.from_numpy(self._labels)

    @property
    def num_attributes(self) -> int:
        return len(self.attributes)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(source={self.source!r}, n={len(self)}, attributes={len(self.attributes)}, "
            f"image_size={self.image_size}, flip={self.flip}, masks={self.has_masks})"
        )

    @property
    def reference_size(self) -> tuple[int, int] | None:
        """``(w, h)`` most common among the headers of up to ``SIZE_PROBES`` evenly spaced images (the
        same in every process: it depends only on the file list); None when none is readable."""
        if self._reference_size is None and self.paths:
            step = max(1, len(self.paths) // SIZE_PROBES)
            sizes: Counter[tuple[int, int]] = Counter()
            for p in self.paths[::step][:SIZE_PROBES]:
                try:
                    sizes[header_size(p)] += 1
                except DataError:
                    continue
            if sizes:
                self._reference_size = max(sizes.items(), key=lambda kv: (kv[1], kv[0]))[0]
        return self._reference_size

    def check_size(self, path: Path, size: tuple[int, int]) -> None:
        """:class:`DataError` for an image of a size this dataset does not allow (see ``uniform_size``)."""
        w, h = size
        if min(w, h) < MIN_SIDE:
            raise DataError(f"image {path} is {w}x{h}, under the minimum of {MIN_SIDE} px per side")
        ref = self.reference_size if self.uniform_size else None
        if ref is not None and (w, h) != ref:
            raise DataError(
                f"image {path} is {w}x{h} but the dataset's images are {ref[0]}x{ref[1]} "
                f"({self.source or 'this dataset'}); replace or remove it"
            )

    # ------------------------------------------------------------------ items
    def load(self, i: int, flip: bool = False) -> dict:
        """Item ``i`` without random flipping (``flip=True`` flips deterministically)."""
        path = self.paths[i]
        img = read_image(path)
        w, h = img.size
        self.check_size(path, (w, h))
        box = self.box_fn(w, h)
        image = T.image_to_tensor(T.crop_resize_image(img, box, self.image_size))
        mask: torch.Tensor | None = None
        if self.mask_array is not None:
            mask = torch.from_numpy(np.asarray(self.mask_array[i], dtype=np.int64))
        elif self.mask_reader is not None:
            lab19 = self.mask_reader(i)
            if lab19 is None:  # no part files at all: everything is "others"
                lab19 = np.zeros((h, w), dtype=np.uint8)
            lab12 = map_19_to_12(T.crop_resize_mask(lab19, box, (w, h), self.image_size))
            mask = torch.from_numpy(np.asarray(lab12, dtype=np.int64))
        if flip:
            image, mask = T.hflip(image, mask)
        item = {
            "image": image,
            "label": torch.from_numpy(self._labels[i].copy()),
            "index": int(i),
            "name": self.names[i],
        }
        if mask is not None:
            item["mask"] = mask
        return item

    def __getitem__(self, i: int) -> dict:
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} out of range for a dataset of {len(self)}")
        flip = self.flip and bool(torch.rand(()) < 0.5)
        if self.on_error == "raise":
            return self.load(i, flip)
        for k in range(len(self)):
            j = (i + k) % len(self)
            try:
                return self.load(j, flip)
            except DataError as err:
                self.skipped += 1
                log.warning("skipping unreadable image (%d skipped so far): %s", self.skipped, err)
        raise DataError(f"no readable image in {self.source or 'the dataset'}")

    # ------------------------------------------------------------------ subsets
    def take(self, n: int | None) -> FaceDataset:
        """Keep the first ``n`` items (``None``: all), in place; returns ``self``."""
        if n is None or n >= len(self):
            return self
        if n < 0:
            raise ConfigError(f"max_items must be >= 0, got {n}")
        self.paths = self.paths[:n]
        self.names = self.names[:n]
        self._labels = self._labels[:n]
        self.meta = {k: v[:n] for k, v in self.meta.items()}
        if self.mask_array is not None:
            self.mask_array = self.mask_array[:n]
        return self


class UnknownAttributeError(DataError, ConfigError):
    """An attribute name that the dataset's label file does not have (both a data and a config error)."""


def select_attributes(
    attrs: Sequence[str] | str | None,
    available: Sequence[str],
    source: str,
    default: Sequence[str] | None = None,
) -> list[str]:
    """Resolve ``attrs`` (list, comma-separated string or ``None`` -> ``default``, the paper's 13) against
    the attribute names a label file provides; an unknown name raises :class:`UnknownAttributeError`
    listing the valid ones."""
    from secgan.data.attributes import PAPER_ATTRIBUTES, resolve_attributes

    if attrs is None:
        attrs = list(PAPER_ATTRIBUTES if default is None else default)
    try:
        return resolve_attributes(attrs, valid=list(available))
    except ConfigError as err:
        raise UnknownAttributeError(f"{err} (attributes of {source})") from err


def check_listed_files(source: str, files: Sequence[str], labels: np.ndarray, lines: Sequence[int]) -> None:
    """Checks of a label file's image names (``files[r]`` on line ``lines[r]``, labels ``labels[r]``):

    * a name must stay inside the dataset folder (no absolute path, no ``..``): :class:`DataError`;
    * a name listed twice with different labels is a :class:`DataError` naming both lines;
    * a name listed twice with the same labels is a warning (the image counts twice).
    """
    seen: dict[str, int] = {}
    repeated = 0
    for r, name in enumerate(files):
        parts = Path(name.replace("\\", "/")).parts
        if Path(name).is_absolute() or name.startswith(("/", "\\")) or ".." in parts or ":" in name[:3]:
            raise DataError(
                f"{source}:{lines[r]}: file name {name!r} leaves the dataset folder (absolute or '..'); "
                "names must be relative paths inside it"
            )
        first = seen.setdefault(name, r)
        if first != r:
            if not np.array_equal(labels[first], labels[r]):
                raise DataError(
                    f"{source}:{lines[r]}: {name!r} is listed again with other labels than on line "
                    f"{lines[first]}; keep one row per image"
                )
            repeated += 1
    if repeated:
        log.warning("%s: %d image(s) listed twice with the same labels (each counts twice)", source, repeated)


def repeated_names(names: Sequence[str]) -> list[str]:
    """Names that occur more than once (for ``secgan data check``'s warnings)."""
    counts = Counter(names)
    return sorted(n for n, c in counts.items() if c > 1)
