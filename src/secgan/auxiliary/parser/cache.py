"""The parser mask cache: a dataset's 12-segment label maps computed once by a parser.

A cache folder holds ``masks.npy`` (uint8 ``[N, S, S]``, 12-segment ids, row ``i`` = item ``i`` of
``build_dataset(name, root, split, image_size=S, flip=False)``), ``names.txt`` (one name per line, the
dataset's ``names``) and ``meta.json`` ``{parser_hash, size, dataset, split, count, files}``, written last
so a folder with ``meta.json`` is complete. The parser hash in the default folder name and in ``meta.json``
means a changed parser never reuses stale masks; ``files`` (a digest of every image's name, size and
modification time) means images replaced under the same names (``secgan synth --overwrite``) never do.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from secgan.auxiliary.parser.frozen import FrozenParser, parser_hash
from secgan.errors import DataError
from secgan.utils.io import atomic_path, remove_stale_temp_files, write_json_atomic

log = logging.getLogger(__name__)

CACHE_ROOT = ".secgan-cache"


def default_cache_dir(root: str | os.PathLike, dataset: str, split: str, size: int, parser_hash: str) -> Path:
    """``ROOT/.secgan-cache/masks-{dataset}-{split}-{size}-{parser_hash}``."""
    return Path(root) / CACHE_ROOT / f"masks-{dataset}-{split}-{int(size)}-{parser_hash}"


def files_fingerprint(paths: list[Path]) -> str:
    """A digest of each image file's name, size and modification time (one ``stat`` per file): it changes
    when an image is replaced, even under the same name."""
    h = hashlib.sha256()
    for p in paths:
        try:
            st = os.stat(p)
            h.update(f"{p.name}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
        except OSError:
            h.update(f"{p.name}\tmissing\n".encode())
    return h.hexdigest()[:16]


def _collate(items: list[dict]) -> dict:
    return {"image": torch.stack([it["image"] for it in items]), "name": [it["name"] for it in items]}


@torch.no_grad()
def build_mask_cache(
    parser: FrozenParser,
    ds: Dataset,
    out_dir: str | os.PathLike,
    batch_size: int = 32,
    dataset: str = "",
    split: str = "",
    num_workers: int = 0,
) -> Path:
    """Parse every image of ``ds`` (items ``{"image": [3, S, S] in [-1, 1], "name"}``, no random flip) and
    write the cache folder ``out_dir``. Returns ``out_dir``."""
    out_dir = Path(out_dir)
    names = list(ds.names)  # type: ignore[attr-defined]
    if getattr(ds, "flip", False):
        raise DataError("the mask cache must be built from a dataset without random flips (flip=False)")
    size = int(ds[0]["image"].shape[-1]) if len(names) else int(getattr(ds, "image_size", 0))
    device = next(parser.parameters()).device
    masks = np.zeros((len(names), size, size), dtype=np.uint8)
    loader = DataLoader(
        ds, batch_size=batch_size, shuffle=False, num_workers=num_workers, collate_fn=_collate
    )
    k = 0
    for batch in tqdm(loader, desc="parser cache", unit="batch", leave=False):
        images = batch["image"].to(device)
        if images.shape[-2:] != (size, size):
            raise DataError(f"dataset images are {tuple(images.shape[-2:])}, expected {size}x{size}")
        if list(batch["name"]) != names[k : k + len(batch["name"])]:
            raise DataError("dataset items are not in the order of ds.names; cannot build an aligned cache")
        masks[k : k + len(images)] = parser.labels12(images).to("cpu", torch.uint8).numpy()
        k += len(images)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(out_dir)  # the .masks.npy.*.tmp of a killed run (gigabytes at CelebA scale)
    with atomic_path(out_dir / "masks.npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, masks)
    with atomic_path(out_dir / "names.txt") as tmp:
        tmp.write_text("".join(f"{n}\n" for n in names))
    meta = {
        "parser_hash": parser_hash(parser),
        "size": size,
        "dataset": dataset,
        "split": split,
        "count": len(names),
    }
    if hasattr(ds, "paths"):
        meta["files"] = files_fingerprint(list(ds.paths))
    write_json_atomic(meta, out_dir / "meta.json")
    log.info("mask cache: %d masks of %dx%d written to %s", len(names), size, size, out_dir)
    return out_dir


def load_mask_cache(
    cache_dir: str | os.PathLike,
    names: list[str],
    size: int,
    parser_hash: str | None,
    paths: list[Path] | None = None,
) -> np.ndarray:
    """The cached masks ``uint8 [N, S, S]`` (a read-only memory map), checked against the dataset's
    ``names``, the image ``size``, the parser hash (``None`` skips the hash check) and, given the image
    ``paths``, the files' fingerprint (:func:`files_fingerprint`).

    Raises :class:`DataError` naming the folder when the cache is missing, incomplete or stale.
    """
    cache_dir = Path(cache_dir)
    meta_path = cache_dir / "meta.json"
    if not meta_path.is_file():
        raise DataError(f"no mask cache at {cache_dir} (meta.json missing); run `secgan parser cache`")
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise DataError(f"unreadable mask cache meta {meta_path}: {err}") from err
    if parser_hash is not None and meta.get("parser_hash") != parser_hash:
        raise DataError(
            f"stale mask cache {cache_dir}: built by parser {meta.get('parser_hash')}, current parser is "
            f"{parser_hash}; rebuild it with `secgan parser cache`"
        )
    if int(meta.get("size", -1)) != int(size):
        raise DataError(f"stale mask cache {cache_dir}: masks are {meta.get('size')} px, {size} px needed")
    if paths is not None and meta.get("files") not in (None, files_fingerprint(list(paths))):
        raise DataError(
            f"stale mask cache {cache_dir}: the dataset's images changed since it was built (same names, "
            "other files); rebuild it with `secgan parser cache`"
        )
    names_path = cache_dir / "names.txt"
    cached = names_path.read_text().splitlines() if names_path.is_file() else None
    if cached != list(names):
        n_c = "missing" if cached is None else f"{len(cached)} names"
        raise DataError(
            f"stale mask cache {cache_dir}: its image list ({n_c}) differs from the dataset's ({len(names)} names)"
        )
    try:
        masks = np.load(cache_dir / "masks.npy", mmap_mode="r")
    except (OSError, ValueError) as err:
        raise DataError(f"unreadable mask cache {cache_dir / 'masks.npy'}: {err}") from err
    if masks.dtype != np.uint8 or tuple(masks.shape) != (len(names), size, size):
        raise DataError(
            f"corrupt mask cache {cache_dir / 'masks.npy'}: {masks.dtype} {tuple(masks.shape)}, "
            f"expected uint8 {(len(names), size, size)}"
        )
    return masks
