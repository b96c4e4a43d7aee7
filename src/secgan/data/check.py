"""``secgan data check``: validate a dataset folder before anyone trains on it.

The report (a JSON-able dict) holds the images per split, the fraction of positive labels per attribute
and split, the image sizes of a sample, the ground-truth masks found (images with masks, images per
part) and, with ``deep=True``, the list of images that cannot be decoded or have another size than the
dataset's (fixed-format datasets), plus ``errors`` (training refuses these) and ``warnings``; ``ok`` is
true when there is no error.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secgan.errors import DataError
from secgan.utils.images import image_size, read_image

from .base import FaceDataset, repeated_names
from .registry import DATASETS, build_dataset

log = logging.getLogger(__name__)

SIZE_SAMPLE = 16  # images per split whose header is read for the size report


def _mask_report(ds_all: FaceDataset) -> dict[str, Any]:
    reader = ds_all.mask_reader
    index = getattr(reader, "index", None)
    keys = getattr(reader, "keys", None)
    if reader is None or index is None or keys is None:
        return {"found": False}
    parts: Counter[str] = Counter()
    with_masks = 0
    for k in keys:
        ps = index.get(k)
        if ps:
            with_masks += 1
            parts.update(ps)
    return {
        "found": True,
        "folder": str(reader.mask_dir),
        "images_with_masks": with_masks,
        "images_without_masks": len(keys) - with_masks,
        "parts": dict(sorted(parts.items())),
    }


def check_dataset(
    root: str | os.PathLike,
    dataset: str = "celeba",
    attrs: Sequence[str] | str | None = None,
    deep: bool = False,
    progress: bool = True,
    **options: Any,
) -> dict[str, Any]:
    """Check the dataset ``dataset`` under ``root`` and return the report described in the module
    docstring. ``options`` go to the loader (``split_scheme``, ``cameras``, ``csv``...). Problems with the
    files themselves (missing list files, malformed rows, unknown attributes) raise :class:`DataError`."""
    from tqdm import tqdm

    root = Path(root)
    splits = {}
    freqs = {}
    sizes: Counter[str] = Counter()
    datasets = {}
    for split in ("train", "val", "test"):
        ds = build_dataset(dataset, root, split=split, attrs=attrs, masks=None, **options)
        datasets[split] = ds
        splits[split] = len(ds)
        lab = ds.labels.numpy()
        freqs[split] = {
            a: (round(float(lab[:, k].mean()), 4) if len(ds) else None) for k, a in enumerate(ds.attributes)
        }
        step = max(1, len(ds) // SIZE_SAMPLE)
        for i in range(0, len(ds), step)[:SIZE_SAMPLE]:
            try:
                w, h = image_size(ds.paths[i])
                sizes[f"{w}x{h}"] += 1
            except DataError as err:
                sizes["unreadable"] += 1
                log.warning("%s", err)
    ds_all = build_dataset(dataset, root, split="all", attrs=attrs, masks="auto", **options)
    report: dict[str, Any] = {
        "dataset": dataset,
        "root": str(root),
        "images": len(ds_all),
        "splits": splits,
        "attributes": list(ds_all.attributes),
        "attribute_frequency": freqs,
        "image_sizes_sampled": dict(sizes),
        "masks": _mask_report(ds_all),
    }
    if datasets["train"].split_info is not None:  # a drawn split (RaFD identities): how, and who
        report["split_info"] = datasets["train"].split_info
    errors: list[str] = []
    warnings: list[str] = []
    if not len(ds_all):
        errors.append(f"no images: the label file of {root} lists none")
    repeated = repeated_names(ds_all.names)
    if repeated:
        warnings.append(f"{len(repeated)} image(s) listed twice with the same labels, e.g. {repeated[0]}")
    if ds_all.uniform_size and ds_all.reference_size:
        report["image_size"] = "{}x{}".format(*ds_all.reference_size)
    if deep:
        bad = []
        wrong = []
        missing = 0
        for p in tqdm(ds_all.paths, desc="decode", unit="img", disable=not progress):
            try:
                img = read_image(p)
            except DataError as err:
                missing += 0 if p.is_file() else 1
                bad.append({"file": str(p), "error": str(err)})
                continue
            try:
                ds_all.check_size(p, img.size)  # the same rule training applies to every image it loads
            except DataError as err:
                wrong.append({"file": str(p), "error": str(err)})
        report["deep"] = {
            "decoded": len(ds_all) - len(bad),
            "unreadable": bad,
            "wrong_size": wrong,
            "missing": missing,
        }
        errors += [e["error"] for e in bad[:20] + wrong[:20]]
        report["checked"] = "every image decoded in full, and its size"
    else:
        report.update(_header_check(ds_all, progress, errors))
    if sizes.get("unreadable", 0):
        errors.append(f"{sizes['unreadable']} sampled image(s) unreadable")
    report["errors"] = errors
    report["warnings"] = warnings
    report["ok"] = not errors
    return report


def _header_check(ds_all: FaceDataset, progress: bool, errors: list[str]) -> dict[str, Any]:
    """Without ``deep``: every image's header (cheap: no pixel is decoded) must open and give the size
    training accepts; says what was not checked (pixel data: truncated or corrupt files)."""
    from tqdm import tqdm

    bad: list[str] = []
    for p in tqdm(ds_all.paths, desc="headers", unit="img", disable=not progress):
        try:
            ds_all.check_size(p, image_size(p))
        except DataError as err:
            bad.append(str(err))
    errors += bad[:20]
    if len(bad) > 20:
        errors.append(f"... and {len(bad) - 20} more image(s) unreadable or of the wrong size")
    return {
        "checked": "every image's header (format, size); labels and splits",
        "not_checked": "pixel data: a truncated or corrupt image whose header reads is found only by --deep "
        "(decodes every image)",
    }


__all__ = ["DATASETS", "check_dataset"]
