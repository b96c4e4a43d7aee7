"""Which files ``secgan edit`` reads and where it writes them: folder inputs without the tool's own outputs,
output paths that never replace an input, and the refusal to replace an earlier output without
``--overwrite``."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from secgan.cli.common import avoid_inputs
from secgan.errors import ConfigError, DataError
from secgan.utils.images import IMAGE_SUFFIXES

log = logging.getLogger(__name__)

# Names secgan edit writes besides an output with the input's name: NAME.edited.EXT / NAME.edited2.EXT
# (an output that would have replaced its input), NAME_diff.png (--heatmap), NAME_masks.png (--masks).
_EDITED = re.compile(r"\.edited\d*$")
_EXTRAS = ("_diff", "_masks")


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def own_output_reason(f: Path) -> str | None:
    """Why a file found in a folder is one of secgan edit's own outputs (``None`` when it is not)."""
    if _EDITED.search(f.stem):
        return "an edited copy written by secgan edit (NAME.edited.EXT)"
    for extra in _EXTRAS:
        base = f.stem[: -len(extra)] if f.stem.endswith(extra) else None
        if base and any((f.parent / f"{base}{s}").is_file() for s in IMAGE_SUFFIXES):
            return f"secgan edit's {extra[1:]} image of {base}"
    return None


def _folder_images(folder: Path, out_dir: Path) -> tuple[list[Path], list[tuple[str, str]]]:
    """Images under ``folder`` (recursively), leaving out the tool's own outputs: the folder's outputs in
    ``out_dir`` (``out_dir/FOLDER_NAME/...``, unless that is the folder itself: then outputs land beside
    their inputs as ``NAME.edited.EXT``), ``out_dir`` itself when it lies inside ``folder``, and the
    names of :func:`own_output_reason`. Returns ``(images, [(skipped file, why)])``."""
    own: Path | None = out_dir / folder.resolve().name
    if _inside(folder, own):  # --out is the folder's parent: outputs land beside their inputs, renamed
        own = None
    out_inside = _inside(out_dir, folder) and out_dir.resolve() != folder.resolve()
    found, skipped = [], []
    for f in sorted(folder.rglob("*")):
        if not f.is_file() or f.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if (own is not None and _inside(f, own)) or (out_inside and _inside(f, out_dir)):
            skipped.append((str(f), f"an output of secgan edit (inside --out {out_dir})"))
        elif (why := own_output_reason(f)) is not None:
            skipped.append((str(f), why))
        else:
            found.append(f)
    return found, skipped


def collect_inputs(inputs: list[str], out_dir: str | Path = ".") -> tuple[list[tuple[Path, Path]], list]:
    """``([(input file, output path relative to --out)], [(skipped file, why)])`` for files and folders.

    Folders are searched recursively for images, keeping the folder's own name in the output path so
    several folders do not collide; the tool's own outputs are left out (see :func:`_folder_images`), so
    a folder edited into itself is never edited twice."""
    out_dir = Path(out_dir)
    pairs: list[tuple[Path, Path]] = []
    skipped: list[tuple[str, str]] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            found, left = _folder_images(p, out_dir)
            skipped += left
            if not found:
                raise DataError(
                    f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {p}"
                    + (f" besides secgan edit's own {len(left)} output(s)" if left else "")
                )
            pairs += [(f, Path(p.resolve().name) / f.relative_to(p)) for f in found]
        elif p.is_file():
            pairs.append((p, Path(p.name)))
        else:
            raise DataError(f"input not found: {p}")
    for f, why in skipped:
        log.info("%s: not edited, %s", f, why)
    seen: dict[Path, Path] = {}
    for src, rel in pairs:
        if rel in seen:
            raise DataError(
                f"inputs {seen[rel]} and {src} would both be written to {rel}; pass them separately"
            )
        seen[rel] = src
    return pairs, skipped


def plan_outputs(
    pairs: list[tuple[Path, Path]], out_dir: Path, overwrite: bool, extras: tuple[str, ...] = ()
) -> list[Path]:
    """The output path of each input (never an input itself: :func:`~secgan.cli.common.avoid_inputs`).
    An output that already exists (or one of its ``extras``: ``"_diff"``, ``"_masks"``) is replaced only
    with ``overwrite``: otherwise one line names it and nothing is written."""
    inputs = [src for src, _ in pairs]
    targets = [avoid_inputs(out_dir / rel, inputs) for _, rel in pairs]
    if not overwrite:
        taken = [t for t in targets if t.exists()]
        taken += [t.with_name(f"{t.stem}{e}.png") for t in targets for e in extras]
        taken = [t for t in taken if t.exists()]
        if taken:
            more = f" and {len(taken) - 1} other output(s)" if len(taken) > 1 else ""
            raise ConfigError(
                f"--out: {taken[0]}{more} already exist(s) from an earlier run: pass --overwrite to replace "
                "them, or choose another --out"
            )
    return targets
