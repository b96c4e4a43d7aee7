"""Helpers that write small datasets in the original on-disk formats (CelebA, CelebA-HQ, RaFD, custom)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from secgan.data.attributes import CELEBA_ATTRIBUTES


def write_jpeg(path: Path, size: tuple[int, int], colour: tuple[int, int, int] = (128, 128, 128)) -> Path:
    """A solid-colour JPEG of ``size = (w, h)``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, quality=95)
    return path


RAFD_CAMERAS = ("000", "045", "090", "135", "180")
RAFD_GAZES = ("frontal", "left", "right")


def write_rafd(
    root: Path, models: int, cameras=RAFD_CAMERAS, gazes=RAFD_GAZES, size: tuple[int, int] = (68, 102)
) -> Path:
    """RaFD's file names for ``models`` identities x 8 expressions x ``gazes`` x ``cameras``: one small
    JPEG, hard-linked under every name (thousands of files in well under a second)."""
    from secgan.data.attributes import RAFD_EXPRESSIONS

    root.mkdir(parents=True, exist_ok=True)
    src = write_jpeg(root.parent / f"{root.name}-source.jpg", size)
    for model in range(1, models + 1):
        eth, gender = ("Caucasian", "female") if model % 2 else ("Moroccan", "male")
        for expr in RAFD_EXPRESSIONS:
            for cam in cameras:
                for gaze in gazes:
                    os.link(src, root / f"Rafd{cam}_{model:02d}_{eth}_{gender}_{expr}_{gaze}.jpg")
    return root


def attr_values(n: int, seed: int = 0) -> np.ndarray:
    """``[n, 40]`` random +-1 values."""
    return np.where(np.random.default_rng(seed).random((n, 40)) < 0.5, 1, -1)


def write_attr_file(path: Path, files: list[str], values: np.ndarray, names=CELEBA_ATTRIBUTES) -> None:
    """CelebA's attribute-list format with its irregular whitespace: count, names (trailing space), rows
    whose values are right-aligned in 2-character columns (so '1' gets two spaces before it)."""
    lines = [str(len(files)), " ".join(names) + " "]
    for f, row in zip(files, values):
        lines.append(f + " " + " ".join(f"{int(v):2d}" for v in row))
    path.write_text("\n".join(lines) + "\n")
