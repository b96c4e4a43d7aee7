"""Fixtures for the data tests: small datasets written in the original on-disk formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from data_fixtures import attr_values, write_attr_file, write_jpeg
from PIL import Image


@pytest.fixture
def celeba_dir(tmp_path: Path) -> Path:
    """12 CelebA images (178x218, 1-based six-digit names), attributes, a partition file (8/2/2) and
    part masks for images k = 0 and 1 (k = 1 at half resolution; k = 1 has no eyeglasses file)."""
    root = tmp_path / "celeba"
    n = 12
    files = [f"{i + 1:06d}.jpg" for i in range(n)]
    for i, f in enumerate(files):
        write_jpeg(root / "img_align_celeba" / f, (178, 218), (10 * i, 100, 200))
    write_attr_file(root / "list_attr_celeba.txt", files, attr_values(n))
    parts = [0] * 8 + [1] * 2 + [2] * 2
    (root / "list_eval_partition.txt").write_text("".join(f"{f} {p}\n" for f, p in zip(files, parts)))
    mdir = root / "CelebAMask-HQ-mask-anno" / "0"
    mdir.mkdir(parents=True)
    for k, scale in ((0, 1), (1, 2)):
        h, w = 218 // scale, 178 // scale
        skin = np.zeros((h, w), np.uint8)
        skin[40 // scale : 200 // scale, 20 // scale : 160 // scale] = 255
        Image.fromarray(skin).save(mdir / f"{k:05d}_skin.png")
        hair = np.zeros((h, w, 3), np.uint8)  # RGB mask: "present" is the first channel
        hair[: 60 // scale] = 255
        Image.fromarray(hair).save(mdir / f"{k:05d}_hair.png")
        if k == 0:
            eye_g = np.zeros((h, w), np.uint8)
            eye_g[100:120, 40:140] = 255
            Image.fromarray(eye_g).save(mdir / f"{k:05d}_eye_g.png")
    return root
