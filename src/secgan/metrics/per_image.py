"""``eval/per_image.npz``: the evaluation's result for every test image and edit, for paired statistics.

``metrics.json`` holds means; a confidence interval for "SeCGAN − Baseline" needs the values behind
them, paired by test image (see :mod:`secgan.reporting.intervals`). The file holds (``n`` test images in
evaluation order, ``n_attr`` edit groups: the attributes, or RaFD's expressions):

=================  =======================  ======================================================
key                shape, dtype             meaning
=================  =======================  ======================================================
``names``          ``[n]`` str              test image file names (the pairing key across runs)
``attributes``     ``[n_attr]`` str         edit groups, in ``metrics.json``'s order
``acc_correct``    ``[n, n_attr]`` bool     editing-accuracy protocol: the classifier agrees with
                                            the target of edit ``a`` of image ``i``
``gt_<metric>``    ``[n, n_attr]`` float32  a ground-truth (counterfactual) metric of that edit;
                                            NaN where undefined (written only when the data have
                                            counterfactuals; readers take any ``gt_*`` key)
=================  =======================  ======================================================

The shape metrics come in two parsers' versions: ``gt_shape_iou`` and ``gt_miou`` with the training parser
(the one SeCGAN's consistency loss trains through), ``gt_judge_shape_iou`` and ``gt_judge_miou`` with the
independent judge (``secgan evaluate --judge-parser``; absent without one).

The mean over images of ``acc_correct[:, a]`` is ``metrics.json["accuracy"]["per_attribute"][a]``.
The file is written atomically (a reader never sees half of it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from secgan.errors import ConfigError
from secgan.utils.io import atomic_path

PER_IMAGE_FILE = "per_image.npz"
GT_PREFIX = "gt_"


@dataclass
class PerImage:
    """The contents of one ``per_image.npz``."""

    names: list[str]
    attributes: list[str]
    acc_correct: np.ndarray  # [n, n_attr] bool
    gt: dict[str, np.ndarray] = field(default_factory=dict)  # metric (without "gt_") -> [n, n_attr] float

    @property
    def n_images(self) -> int:
        return len(self.names)


def _check(path: Path, data: PerImage) -> None:
    n, a = len(data.names), len(data.attributes)
    arrays = {"acc_correct": data.acc_correct, **{GT_PREFIX + k: v for k, v in data.gt.items()}}
    for key, arr in arrays.items():
        if arr.shape != (n, a):
            raise ConfigError(
                f"{path}: '{key}' has shape {tuple(arr.shape)}, expected [{n} images, {a} attributes]"
            )


def write_per_image(path: str | os.PathLike, data: PerImage) -> Path:
    """Write ``data`` to ``path`` (atomically); returns the path."""
    path = Path(path)
    _check(path, data)
    arrays = {
        "names": np.asarray(data.names, dtype=str),
        "attributes": np.asarray(data.attributes, dtype=str),
        "acc_correct": np.asarray(data.acc_correct, dtype=bool),
        **{GT_PREFIX + k: np.asarray(v, dtype=np.float32) for k, v in data.gt.items()},
    }
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a file handle: savez adds no ".npz"
        np.savez_compressed(fh, **arrays)
    return path


def load_per_image(path: str | os.PathLike) -> PerImage | None:
    """Read ``per_image.npz`` (the file or its evaluation folder); ``None`` when there is none (an
    evaluation from before the file existed). A malformed file raises :class:`ConfigError`."""
    path = Path(path)
    if path.is_dir():
        path = path / PER_IMAGE_FILE
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as err:
        raise ConfigError(f"cannot read {path}: {err}") from err
    missing = [k for k in ("names", "attributes", "acc_correct") if k not in arrays]
    if missing:
        raise ConfigError(f"{path}: missing {', '.join(missing)} (keys: {', '.join(sorted(arrays))})")
    data = PerImage(
        names=[str(x) for x in arrays["names"]],
        attributes=[str(x) for x in arrays["attributes"]],
        acc_correct=arrays["acc_correct"].astype(bool),
        gt={k[len(GT_PREFIX) :]: v.astype(np.float64) for k, v in arrays.items() if k.startswith(GT_PREFIX)},
    )
    _check(path, data)
    return data


class PerImageRecorder:
    """Collects per-image results batch by batch inside the evaluation loop.

    Per batch: :meth:`add_names` once, then :meth:`add` once per edit group, with ``correct`` ``[B]``
    bool and any ground-truth metric ``[B]`` float (NaN where undefined) as keyword arguments.
    """

    def __init__(self, groups: Sequence[str]) -> None:
        self.groups = list(groups)
        self.names: list[str] = []
        self.correct: list[list[np.ndarray]] = [[] for _ in self.groups]
        self.gt: dict[str, list[list[np.ndarray]]] = {}

    def add_names(self, names: Sequence[str]) -> None:
        self.names += [str(n) for n in names]

    def add(self, group: int, correct: torch.Tensor | np.ndarray, **gt: torch.Tensor | np.ndarray) -> None:
        self.correct[group].append(_numpy(correct).astype(bool).reshape(-1))
        for key, values in gt.items():
            cols = self.gt.setdefault(key, [[] for _ in self.groups])
            cols[group].append(_numpy(values).astype(np.float32).reshape(-1))

    def result(self) -> PerImage:
        n = len(self.names)

        def stack(cols: list[list[np.ndarray]], fill: float | bool) -> np.ndarray:
            out = []
            for gi, parts in enumerate(cols):
                col = np.concatenate(parts) if parts else np.full(n, fill)  # never recorded: fill
                if len(col) != n:
                    raise ValueError(f"group {self.groups[gi]!r}: {len(col)} values for {n} images")
                out.append(col)
            return np.stack(out, axis=1) if out else np.zeros((n, 0))

        return PerImage(
            names=list(self.names),
            attributes=list(self.groups),
            acc_correct=stack(self.correct, False).astype(bool),
            gt={k: stack(cols, np.nan) for k, cols in self.gt.items()},
        )

    def write(self, out_dir: str | os.PathLike) -> Path:
        """Write ``out_dir/per_image.npz``; returns its path."""
        return write_per_image(Path(out_dir) / PER_IMAGE_FILE, self.result())


def _numpy(x: torch.Tensor | np.ndarray) -> np.ndarray:
    return x.detach().float().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
