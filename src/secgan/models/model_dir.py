"""Find the exported model of whatever folder a user passes: an export itself, or a run folder holding
``export/`` (a run with checkpoints but no export gets a message saying how to write one)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from secgan.errors import WeightsError

log = logging.getLogger(__name__)

EXPORT_SUBDIR = "export"
REPRODUCE_MODEL = "model"  # secgan reproduce --preset custom-*: the model to edit with (the SeCGAN export)


def _is_model_config(path: Path) -> bool:
    try:
        return json.loads(path.read_text()).get("format") == "secgan-model"
    except RecursionError as err:  # a hostile file: thousands of nested lists
        raise WeightsError(f"cannot read {path}: nested too deeply (a hostile or broken file)") from err
    except (OSError, ValueError, AttributeError):
        return False


def find_model_dir(path: str | os.PathLike) -> tuple[Path, Path | None]:
    """``(model_dir, run_dir or None)`` for an exported model folder, a run folder with ``export/`` or a
    reproduction with ``model/`` (one holding only ``runs/*/export`` is refused with the list of its runs).

    Raises :class:`WeightsError` with a one-line hint: for a run whose training wrote checkpoints but no
    export, how to write the export; otherwise what the folder should hold."""
    path = Path(path)
    if not path.exists():
        raise WeightsError(f"{path} not found: neither a run folder nor an exported model folder")
    if not path.is_dir():
        raise WeightsError(f"{path} is a file; pass an exported model folder (config.json + G.safetensors)")
    if (path / EXPORT_SUBDIR / "config.json").is_file():
        if not (path / "config.json").is_file() or not _is_model_config(path / "config.json"):
            log.info("%s is a run folder: using its export %s", path, path / EXPORT_SUBDIR)
            return path / EXPORT_SUBDIR, path
    if (path / "config.json").is_file() and _is_model_config(path / "config.json"):
        return path, None
    if (path / REPRODUCE_MODEL / "config.json").is_file() and _is_model_config(
        path / REPRODUCE_MODEL / "config.json"
    ):
        log.info("%s is a reproduction: using its model %s", path, path / REPRODUCE_MODEL)
        return path / REPRODUCE_MODEL, None
    runs = sorted(p.parent.parent for p in path.glob(f"runs/*/{EXPORT_SUBDIR}/config.json"))
    if runs:
        raise WeightsError(
            f"{path} is a reproduction holding {len(runs)} run(s): pass one of them, e.g. secgan edit "
            f"{runs[-1]} ...; runs: {', '.join(r.name for r in runs)}"
        )
    ckpts = sorted((path / "checkpoints").glob("step-*.pt")) if (path / "checkpoints").is_dir() else []
    if ckpts:
        raise WeightsError(
            f"{path} is a training run with checkpoints ({ckpts[-1].name} newest) but no export/: "
            f"resume it to write one (secgan train --out {path} --resume; it exports at every checkpoint "
            "and at the end), then pass the run folder or its export/"
        )
    if (path / "config.json").is_file():
        raise WeightsError(
            f"{path / 'config.json'} is not a secgan model config (format must be 'secgan-model'): pass an "
            f"exported model folder, or a run folder holding {EXPORT_SUBDIR}/"
        )
    raise WeightsError(
        f"{path}: neither an exported model folder (no config.json) nor a run folder (no "
        f"{EXPORT_SUBDIR}/config.json)"
    )
