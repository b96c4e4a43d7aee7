"""Write a synthetic face dataset in exactly CelebA's on-disk format, with CelebAMask-HQ-style part masks.

Layout of ``OUT``::

    img_align_celeba/000001.jpg ...           JPEG (quality 85-95), default 178x218
    list_attr_celeba.txt                      count, the 40 names, rows ``file v1 ... v40`` (+-1)
    list_eval_partition.txt                   first 80% -> 0 (train), next 10% -> 1 (val), rest -> 2 (test)
    CelebAMask-HQ-mask-anno/{k//2000}/{k:05d}_{part}.png   white-on-black part masks at the image size,
                                              one per part present; k = 0-based image index
    synth_info.json                           generator settings (seed, num, size, version, counterfactuals)
    counterfactuals/                          each face of the chosen splits (default: all) with each paper
                                              attribute edited (layout in ``secgan.data.counterfactuals``)

Every image ``i`` is drawn from its own generator ``default_rng([seed, i])``, so the output does not
depend on the number of workers or on the order they finish in. Counterfactuals are stored, not
rendered on demand: an evaluation reads 13 per image, and every method and seed is evaluated on the same
ones, so rendering them once here (13 renders per face, ~8x the CPU of the face alone) is cheaper than in
each evaluation and leaves them for a person to look at. The training split's only augment the evaluation
classifier (docs/ruler.md); the validation and test splits' score edits.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from secgan.data.attributes import CELEBA_ATTRIBUTES, PAPER_ATTRIBUTES
from secgan.data.counterfactuals import CF_DIR, CF_INFO, CF_SPLITS, CF_VERSION, cf_files
from secgan.errors import ConfigError

from .renderer import CANON_H, CANON_W, PARTS, draw_nuisance, render_face
from .spec import FaceSpec, sample_spec, spec_to_labels

log = logging.getLogger(__name__)

GENERATOR_VERSION = 2  # 2: nuisances drawn apart from the attributes (counterfactuals)
IMAGE_DIR = "img_align_celeba"
MASK_DIR = "CelebAMask-HQ-mask-anno"
PART_NAMES = {k: name for name, k in PARTS.items()}
# Part masks are stored as 1-bit PNGs (0 = black, 1 = white): 4x faster to write than 8-bit and read
# the same way ("present" = first channel > 0) by PIL, OpenCV and the loaders here.
_PNG_BILEVEL = [cv2.IMWRITE_PNG_BILEVEL, 1, cv2.IMWRITE_PNG_COMPRESSION, 1]


def image_name(i: int) -> str:
    """CelebA's 1-based six-digit file name of image ``i`` (0-based)."""
    return f"{i + 1:06d}.jpg"


def split_of(i: int, num: int) -> int:
    """Partition id of image ``i``: first 80% train (0), next 10% val (1), the rest test (2)."""
    n_train = int(round(num * 0.8))
    n_val = int(round(num * 0.1))
    return 0 if i < n_train else (1 if i < n_train + n_val else 2)


def make_face(
    seed: int, index: int, width: int = CANON_W, height: int = CANON_H
) -> tuple[FaceSpec, np.ndarray, np.ndarray]:
    """``(spec, image uint8 [H, W, 3] RGB, labels uint8 [H, W] 19-class)`` of image ``index``."""
    spec = sample_spec(np.random.default_rng([int(seed), int(index)]))
    img, labels = render_face(spec, draw_nuisance(seed, index, width, height), width, height)
    return spec, img, labels


def jpeg_quality(seed: int, index: int) -> int:
    return int(np.random.default_rng([int(seed), int(index), 7]).integers(85, 96))


def _jpeg(img: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", img[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def _write_counterfactuals(out: Path, seed: int, i: int, face: tuple) -> np.ndarray:
    """Write the 13 counterfactuals of face ``i``; returns their 40 labels ``[13, 40]`` int8."""
    from .counterfactual import render_counterfactuals

    spec, img, labels = face
    rows = []
    for cf in render_counterfactuals(seed, i, img.shape[1], img.shape[0], face=face):
        image, parts, changed = cf_files(out, cf.attribute, image_name(i))
        image.write_bytes(_jpeg(cf.image, jpeg_quality(seed, i)))
        parts.write_bytes(cv2.imencode(".png", cf.labels, [cv2.IMWRITE_PNG_COMPRESSION, 1])[1].tobytes())
        changed.write_bytes(
            cv2.imencode(".png", cf.changed.astype(np.uint8) * 255, _PNG_BILEVEL)[1].tobytes()
        )
        rows.append(spec_to_labels(cf.spec))
    return np.stack(rows)


def _write_one(out: Path, seed: int, i: int, width: int, height: int, cf: bool) -> tuple:
    spec, img, labels = make_face(seed, i, width, height)
    (out / IMAGE_DIR / image_name(i)).write_bytes(_jpeg(img, jpeg_quality(seed, i)))
    mdir = out / MASK_DIR / str(i // 2000)
    present = np.bincount(labels.ravel(), minlength=len(PARTS))
    for k in np.nonzero(present)[0]:
        if k == 0:  # background has no part file in CelebAMask-HQ
            continue
        ok, buf = cv2.imencode(".png", ((labels == k) * 255).astype(np.uint8), _PNG_BILEVEL)
        (mdir / f"{i:05d}_{PART_NAMES[int(k)]}.png").write_bytes(buf.tobytes())
    cf_labels = _write_counterfactuals(out, seed, i, (spec, img, labels)) if cf else None
    return i, spec_to_labels(spec), cf_labels


def _worker_init() -> None:
    cv2.setNumThreads(1)


def _work(job: tuple[str, int, list[int], int, int, list[bool]]) -> list[tuple]:
    out, seed, indices, width, height, with_cf = job  # with_cf[k]: render the counterfactuals of indices[k]
    return [_write_one(Path(out), seed, i, width, height, cf) for i, cf in zip(indices, with_cf, strict=True)]


def _write_attr_file(path: Path, names: list[str], labels: np.ndarray) -> None:
    lines = [str(len(names)), " ".join(CELEBA_ATTRIBUTES) + " "]
    lines += [n + " " + " ".join(f"{v:2d}" for v in row) for n, row in zip(names, labels)]
    path.write_text("\n".join(lines) + "\n")


def parse_size(size: str | Iterable[int]) -> tuple[int, int]:
    """``"178x218"`` -> ``(178, 218)`` (width x height)."""
    if isinstance(size, str):
        try:
            w, h = (int(v) for v in size.lower().split("x"))
        except ValueError:
            raise ConfigError(f"--size must look like WIDTHxHEIGHT (e.g. 178x218), got {size!r}") from None
    else:
        w, h = (int(v) for v in size)
    if not (32 <= w <= 4096 and 32 <= h <= 4096):
        raise ConfigError(f"image size {w}x{h} out of range (32..4096 per side)")
    return w, h


def write_dataset(
    out: str | os.PathLike,
    num: int,
    seed: int = 0,
    size: str | tuple[int, int] = (CANON_W, CANON_H),
    workers: int | None = None,
    progress: bool = True,
    counterfactuals: bool = True,
    counterfactual_splits: Iterable[str] = CF_SPLITS,
) -> dict:
    """Render ``num`` faces into ``out`` (see the module docstring), with the counterfactuals of the faces
    of ``counterfactual_splits`` (``train``, ``val``, ``test``) unless ``counterfactuals`` is false.
    Returns a summary dict (``num``, ``seed``, ``size``, ``seconds``, ``images_per_second``,
    ``counterfactuals``, ``counterfactual_splits``, per-attribute frequencies)."""
    from tqdm import tqdm

    if num < 1:
        raise ConfigError(f"--num must be at least 1, got {num}")
    width, height = parse_size(size)
    out = Path(out)
    (out / IMAGE_DIR).mkdir(parents=True, exist_ok=True)
    for d in range((num - 1) // 2000 + 1):
        (out / MASK_DIR / str(d)).mkdir(parents=True, exist_ok=True)
    cf_splits = [sp for sp in CF_SPLITS if sp in set(counterfactual_splits)] if counterfactuals else []
    bad = sorted(set(counterfactual_splits) - set(CF_SPLITS))
    if bad:
        raise ConfigError(f"counterfactual splits {bad} unknown; valid: {', '.join(CF_SPLITS)}")
    split_ids = {CF_SPLITS.index(sp) for sp in cf_splits}
    with_cf = [split_of(i, num) in split_ids for i in range(num)]
    cf_index = np.cumsum(with_cf) - 1  # row of image i among the images with counterfactuals
    n_cf = int(sum(with_cf))
    if n_cf:
        from . import counterfactual  # noqa: F401  (imports torch once, before the workers fork)

        for a in PAPER_ATTRIBUTES:
            (out / CF_DIR / a).mkdir(parents=True, exist_ok=True)
    workers = max(1, int(workers if workers is not None else (os.cpu_count() or 1)))
    chunk = max(1, min(64, num // (workers * 4) or 1))
    jobs = [
        (str(out), int(seed), list(range(s, min(num, s + chunk))), width, height, with_cf[s : s + chunk])
        for s in range(0, num, chunk)
    ]
    labels = np.zeros((num, len(CELEBA_ATTRIBUTES)), np.int8)
    cf_labels = np.zeros((n_cf, len(PAPER_ATTRIBUTES), len(CELEBA_ATTRIBUTES)), np.int8)
    t0 = time.perf_counter()
    bar = tqdm(total=num, desc="synth", unit="img", disable=not progress)
    if workers == 1:
        _worker_init()
        results: Iterable = map(_work, jobs)
        pool = None
    else:
        ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
        pool = ctx.Pool(workers, initializer=_worker_init)
        results = pool.imap_unordered(_work, jobs)
    try:
        for batch in results:
            for i, lab, cf_lab in batch:
                labels[i] = lab
                if cf_lab is not None:
                    cf_labels[cf_index[i]] = cf_lab
            bar.update(len(batch))
    finally:
        bar.close()
        if pool is not None:
            pool.close()
            pool.join()
    seconds = time.perf_counter() - t0

    _write_attr_file(out / "list_attr_celeba.txt", [image_name(i) for i in range(num)], labels)
    if n_cf:
        names = [image_name(i) for i in range(num) if with_cf[i]]
        for k, a in enumerate(PAPER_ATTRIBUTES):
            _write_attr_file(out / CF_DIR / a / "list_attr_celeba.txt", names, cf_labels[:, k])
        cf_info = {
            "version": CF_VERSION,
            "splits": cf_splits,
            "attributes": list(PAPER_ATTRIBUTES),
            "images": n_cf,
            "images_per_split": {
                sp: sum(1 for i in range(num) if with_cf[i] and split_of(i, num) == CF_SPLITS.index(sp))
                for sp in cf_splits
            },
        }
        (out / CF_DIR / CF_INFO).write_text(json.dumps(cf_info, indent=2) + "\n")
    (out / "list_eval_partition.txt").write_text(
        "".join(f"{image_name(i)} {split_of(i, num)}\n" for i in range(num))
    )
    info = {
        "generator": "secgan.data.synthetic",
        "version": GENERATOR_VERSION,
        "num": num,
        "seed": int(seed),
        "size": [width, height],
        "counterfactuals": n_cf * len(PAPER_ATTRIBUTES),
        "counterfactual_splits": cf_splits,
    }
    (out / "synth_info.json").write_text(json.dumps(info, indent=2) + "\n")
    freq = {a: round(float((labels[:, k] > 0).mean()), 4) for k, a in enumerate(CELEBA_ATTRIBUTES)}
    log.info("wrote %d synthetic faces to %s in %.1f s", num, out, seconds)
    return {
        **info,
        "out": str(out),
        "seconds": round(seconds, 2),
        "images_per_second": round(num / max(seconds, 1e-9), 1),
        "frequencies": freq,
    }
