"""The last stage of a reproduction: edit a few held-out faces with the SeCGAN model, one column per
attribute (each attribute inverted, as in the paper's Figures 7-8)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from secgan.data.registry import build_dataset
from secgan.data.transforms import tensor_to_image
from secgan.editing.editor import Editor

MINUS = "-"  # ASCII: the bundled default font has no U+2212 glyph


def edit_label(attribute: str, direction: float) -> str:
    """A grid caption: ``+Bangs`` (turned on) or ``-Young`` (turned off), the name in full."""
    return ("+" if direction > 0 else MINUS) + attribute


def _wrap(text: str, draw: ImageDraw.ImageDraw, font, width: int) -> list[str]:
    """Break a caption at underscores (then anywhere) into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    current = ""
    for part in [p + "_" for p in text.split("_")[:-1]] + [text.split("_")[-1]]:
        if draw.textlength(current + part, font=font) <= width:
            current += part
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in part:  # a single part too long for the cell: hard break
            if draw.textlength(current + ch, font=font) > width and current:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    return lines


def draw_edit_grid(images: list[list[np.ndarray]], captions: list[list[str]], scale: int = 2) -> Image.Image:
    """A grid of faces: ``images[column][row]`` uint8 ``[S, S, 3]`` scaled up ``scale`` times (nearest),
    each with its caption in full under it (wrapped at underscores, never cut)."""
    from PIL import ImageFont

    cols, rows = len(images), len(images[0])
    cell = images[0][0].shape[0] * scale
    font = ImageFont.load_default(size=max(10, cell // 10))
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    wrapped = [[_wrap(captions[j][k], probe, font, cell - 4) for k in range(rows)] for j in range(cols)]
    line_h = int(font.size * 1.25)
    cap_h = line_h * max(len(w) for col in wrapped for w in col) + 4
    grid = Image.new("RGB", (cols * cell, rows * (cell + cap_h)), "white")
    draw = ImageDraw.Draw(grid)
    for j in range(cols):
        for k in range(rows):
            x, y = j * cell, k * (cell + cap_h)
            face = Image.fromarray(images[j][k]).resize((cell, cell), Image.NEAREST)
            grid.paste(face, (x, y))
            for li, line in enumerate(wrapped[j][k]):
                draw.text((x + 2, y + cell + 2 + li * line_h), line, fill=(0, 0, 0), font=font)
    return grid


def edit_held_out_faces(model_dir: Path, data: Path, dataset: str, out: Path, num: int, size: int) -> dict:
    """Write ``out/edits_grid.png`` (rows: test faces; columns: input | each attribute inverted, each face
    captioned with its edit, e.g. ``+Bangs`` or ``-Young``) and each face's input as a PNG; returns a
    summary dict."""
    editor = Editor.load(model_dir)
    ds = build_dataset(dataset, data, split="test", attrs=editor.attributes, image_size=size, max_items=num)
    items = [ds[i] for i in range(min(num, len(ds)))]
    x = torch.stack([it["image"] for it in items])  # [N, 3, S, S] in [-1, 1]
    y = torch.stack([it["label"] for it in items])  # [N, n_a] {0, 1} (ground truth of the synthetic set)
    out.mkdir(parents=True, exist_ok=True)
    columns = [x]
    with torch.no_grad():
        for i, attr in enumerate(editor.attributes):
            # Invert attribute i for every face: +1 where absent, -1 where present.
            sign = 1.0 - 2.0 * y[:, i]
            edited = torch.cat(
                [
                    editor.edit(x[k : k + 1], {attr: float(sign[k])}, source=y[k : k + 1])
                    for k in range(len(items))
                ]
            )
            columns.append(edited)
    n = len(items)
    captions = [["input"] * n] + [
        [edit_label(attr, float(1.0 - 2.0 * y[k, i])) for k in range(n)]
        for i, attr in enumerate(editor.attributes)
    ]
    images = [[tensor_to_image(columns[j][k]) for k in range(n)] for j in range(len(columns))]
    grid = draw_edit_grid(images, captions)
    grid_path = out / "edits_grid.png"
    grid.save(grid_path)
    for k, it in enumerate(items):
        Image.fromarray(tensor_to_image(x[k])).save(out / f"{Path(it['name']).stem}_input.png")
    return {"grid": str(grid_path), "faces": n, "attributes": list(editor.attributes)}
