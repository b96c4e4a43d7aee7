"""The last stage of a reproduction: edit a few held-out faces with the SeCGAN model, one column per
attribute (each attribute inverted, as in the paper's Figures 7-8)."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, ImageDraw

from secgan.data.registry import build_dataset
from secgan.data.transforms import tensor_to_image
from secgan.editing.editor import Editor


def edit_held_out_faces(model_dir: Path, data: Path, dataset: str, out: Path, num: int, size: int) -> dict:
    """Write ``out/edits_grid.png`` (rows: test faces; columns: input | each attribute inverted) and each
    face's individual edits as PNGs; returns a summary dict."""
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
    label_h = 14
    n, cols = len(items), len(columns)
    grid = Image.new("RGB", (cols * size, label_h + n * size), "white")
    draw = ImageDraw.Draw(grid)
    for j, name in enumerate(["input", *editor.attributes]):
        draw.text((j * size + 2, 1), name[:10], fill=(0, 0, 0))
        for k in range(n):
            grid.paste(Image.fromarray(tensor_to_image(columns[j][k])), (j * size, label_h + k * size))
    grid_path = out / "edits_grid.png"
    grid = grid.resize((grid.width * 2, grid.height * 2), Image.NEAREST)
    grid.save(grid_path)
    for k, it in enumerate(items):
        Image.fromarray(tensor_to_image(x[k])).save(out / f"{Path(it['name']).stem}_input.png")
    return {"grid": str(grid_path), "faces": n, "attributes": list(editor.attributes)}
