"""Contact sheet of a CelebA-format dataset folder: each tile is an image, its 12-segment mask (merged
from the part masks, coloured with ``PALETTE_12``) and its positive paper attributes as text."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.data.masks import PALETTE_12, SEGMENTS_12, colorize, map_19_to_12
from secgan.errors import DataError
from secgan.utils.images import read_image

SHORT = {
    "Bald": "bald", "Bangs": "bangs", "Black_Hair": "black hair", "Blond_Hair": "blond hair",
    "Brown_Hair": "brown hair", "Bushy_Eyebrows": "bushy brows", "Eyeglasses": "glasses", "Male": "male",
    "Mouth_Slightly_Open": "mouth open", "Mustache": "mustache", "No_Beard": "no beard", "Pale_Skin": "pale",
    "Young": "young", "Gray_Hair": "gray hair",
}  # fmt: skip


def _text_block(lines: list[str], width: int, height: int) -> np.ndarray:
    block = np.full((height, width, 3), 255, np.uint8)
    for k, line in enumerate(lines):
        cv2.putText(block, line, (3, 12 + 12 * k), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (0, 0, 0), 1, cv2.LINE_AA)
    return block


def _legend(width: int) -> np.ndarray:
    cols = 6
    cell = width // cols
    rows = (len(SEGMENTS_12) + cols - 1) // cols
    block = np.full((rows * 18 + 4, width, 3), 255, np.uint8)
    for k, (name, rgb) in enumerate(zip(SEGMENTS_12, PALETTE_12)):
        x, y = (k % cols) * cell + 4, (k // cols) * 18 + 4
        cv2.rectangle(block, (x, y), (x + 12, y + 12), tuple(int(v) for v in rgb), -1)
        cv2.putText(block, name, (x + 16, y + 11), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return block


def contact_sheet(
    root: str | os.PathLike, out: str | os.PathLike, num: int = 24, cols: int = 8, start: int = 0
) -> Path:
    """Draw ``num`` items (from ``start``) of the CelebA-format folder ``root`` into the PNG ``out``."""
    from secgan.data.celeba import (
        ATTR_FILE,
        IMAGE_DIR,
        MASK_DIR,
        parse_attribute_file,
        read_part_masks,
        scan_part_masks,
    )

    root = Path(root)
    files, names, values = parse_attribute_file(root / ATTR_FILE)
    if not files:
        raise DataError(f"{root / ATTR_FILE} lists no images")
    mask_dir = root / MASK_DIR
    index = scan_part_masks(mask_dir) if mask_dir.is_dir() else {}
    shown = [a for a in (*PAPER_ATTRIBUTES, "Gray_Hair") if a in names]
    tiles = []
    idx = list(range(start, min(len(files), start + num)))
    size = None
    for k in idx:
        img = np.asarray(read_image(root / IMAGE_DIR / files[k]))
        if size is None:
            size = img.shape[:2]
        elif img.shape[:2] != size:
            img = cv2.resize(img, (size[1], size[0]), interpolation=cv2.INTER_AREA)
        lab19 = read_part_masks(mask_dir, k, index.get(k, []))
        if lab19 is None:
            mask = np.full_like(img, 255)
        else:
            if lab19.shape != size:
                lab19 = cv2.resize(lab19, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
            mask = colorize(map_19_to_12(lab19))
        on = [SHORT.get(a, a) for a in shown if values[k, names.index(a)] > 0]
        if "no beard" in on:
            on.remove("no beard")
        else:
            on.append("BEARD")
        text = _text_block([files[k]] + on, size[1], 12 * 11 + 6)
        tile = np.concatenate([img, mask, text], 0)
        tiles.append(np.pad(tile, ((2, 2), (2, 2), (0, 0)), constant_values=255))
    while len(tiles) % cols:
        tiles.append(np.full_like(tiles[0], 255))
    rows = [np.concatenate(tiles[r : r + cols], 1) for r in range(0, len(tiles), cols)]
    sheet = np.concatenate(rows, 0)
    sheet = np.concatenate([sheet, _legend(sheet.shape[1])], 0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet[..., ::-1]):
        raise DataError(f"cannot write the contact sheet {out}")
    return out


def counterfactual_sheet(
    root: str | os.PathLike, out: str | os.PathLike, num: int = 4, start: int = 0
) -> Path:
    """Draw ``num`` test faces of ``root`` (from the ``start``-th one with counterfactuals) into the PNG
    ``out``: one row per face, the source then each counterfactual, image above its 12-segment mask with
    the changed region outlined in red."""
    from secgan.data.celeba import IMAGE_DIR, MASK_DIR, read_part_masks, scan_part_masks
    from secgan.data.counterfactuals import CF_DIR, cf_files, counterfactual_attributes

    root = Path(root)
    attrs = counterfactual_attributes(root)
    if not attrs:
        raise DataError(f"{root} has no counterfactuals ({root / CF_DIR} is missing)")
    names = sorted(p.name for p in (root / CF_DIR / attrs[0]).glob("*.jpg"))
    partition = root / "list_eval_partition.txt"
    if partition.is_file():  # the counterfactuals of every split are stored side by side: keep the test faces
        from secgan.data.celeba import parse_partition_file

        split = parse_partition_file(partition)
        names = [n for n in names if split.get(n) == 2]
    names = names[start : start + num]
    index = scan_part_masks(root / MASK_DIR)
    head = [_text_block(["source"], 178, 16)] + [_text_block([SHORT.get(a, a)], 178, 16) for a in attrs]
    rows = [np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in head], 1)]
    for name in names:
        k = int(Path(name).stem) - 1
        img = np.asarray(read_image(root / IMAGE_DIR / name))
        lab = read_part_masks(root / MASK_DIR, k, index.get(k, []))
        tiles = [np.concatenate([img, colorize(map_19_to_12(lab))], 0)]
        for a in attrs:
            path_img, path_parts, path_changed = cf_files(root, a, name)
            cf = np.asarray(read_image(path_img))
            mask = colorize(map_19_to_12(cv2.imread(str(path_parts), cv2.IMREAD_GRAYSCALE)))
            changed = (cv2.imread(str(path_changed), cv2.IMREAD_GRAYSCALE) > 0).astype(np.uint8)
            contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            mask = np.ascontiguousarray(mask)
            cv2.drawContours(mask, contours, -1, (255, 0, 0), 1)
            tiles.append(np.concatenate([cf, mask], 0))
        tiles = [np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255) for t in tiles]
        rows.append(np.concatenate(tiles, 1))
    sheet = np.concatenate(rows, 0)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(out), sheet[..., ::-1]):
        raise DataError(f"cannot write the contact sheet {out}")
    return out
