"""Small helpers shared by the command modules (kept free of heavy imports at module level)."""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sys
from pathlib import Path

log = logging.getLogger(__name__)


def resolve_device(name: str | None) -> str:
    """``--device``: see :func:`secgan.utils.device.resolve_device` (imported on use: torch is heavy)."""
    from secgan.utils.device import resolve_device as resolve

    return resolve(name)


def set_threads(n: int | None) -> None:
    """``--threads``: torch's intra-op threads (unchanged when ``None``/0)."""
    import torch

    if n:
        torch.set_num_threads(n)


def print_json(obj: dict) -> None:
    """A command's result, as indented JSON on stdout (logs and progress bars go to stderr)."""
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")


# --------------------------------------------------------------------------------- devices, precision
DEVICE_HELP = "where the networks run: auto (cuda when available, else cpu) | cpu | cuda | cuda:N"
PRECISION_HELP = (
    "fp32 (exact) | bf16 (autocast: about 1.5-2x faster on GPUs and CPUs with AVX512-BF16/AMX, outputs "
    "within a few 1e-2 of fp32)"
)
_DEVICE = re.compile(r"^(auto|cpu|cuda|cuda:\d+)$")


def check_device_name(name: str) -> str:
    """argparse type of ``--device``: ``auto | cpu | cuda | cuda:N`` (one-line error otherwise)."""
    import argparse

    if not _DEVICE.match(str(name)):
        raise argparse.ArgumentTypeError(f"{name!r} is not a device; use auto, cpu, cuda or cuda:N")
    return str(name)


def add_device_argument(parser, default: str = "auto", choices: tuple[str, ...] | None = None) -> None:
    """``--device`` with the one wording used by every command."""
    help_text = DEVICE_HELP if choices is None else f"where the networks run: {' | '.join(choices)}"
    if choices is None:
        parser.add_argument("--device", default=default, type=check_device_name, help=help_text)
    else:
        parser.add_argument("--device", default=default, choices=choices, help=help_text)


def add_precision_argument(parser, default: str = "fp32", auto: bool = False) -> None:
    """``--precision`` with the one wording used by every command (``auto`` = bf16 on CUDA, fp32 else)."""
    choices = ("auto", "fp32", "bf16") if auto else ("fp32", "bf16")
    text = PRECISION_HELP + ("; auto: bf16 on CUDA, fp32 elsewhere" if auto else "")
    parser.add_argument("--precision", default=default, choices=choices, help=text)


# ---------------------------------------------------------------------------------------- user files
def resolve_model_dir(path) -> Path:
    """The exported model of ``path``: an export itself, or a run folder's ``export/``."""
    from secgan.models.model_dir import find_model_dir

    return find_model_dir(path)[0]


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def avoid_inputs(target: Path, inputs) -> Path:
    """Never write over an input: ``target`` itself, or ``NAME.edited.EXT`` (then ``NAME.edited2.EXT`` ...)
    when ``target`` is one of the ``inputs`` (same file, by path or by inode). Logs the new name."""
    target = Path(target)
    protected = [Path(p) for p in inputs]
    resolved = {p.resolve() for p in protected}

    def clashes(path: Path) -> bool:
        return path.resolve() in resolved or any(_same_file(path, p) for p in protected)

    if not clashes(target):
        return target
    n = 1
    while True:
        tag = "edited" if n == 1 else f"edited{n}"
        candidate = target.with_name(f"{target.stem}.{tag}{target.suffix}")
        if not clashes(candidate):
            log.warning(
                "%s is an input: writing %s instead (inputs are never overwritten)", target, candidate
            )
            return candidate
        n += 1


OVERWRITE_HELP = "replace an existing output (never needed for a new path)"


def refuse_to_replace(path: Path, overwrite: bool, option: str = "--out") -> None:
    """An existing output is replaced only with ``--overwrite``: ``path`` is a file that exists, or a folder
    that already holds a ``config.json`` (a model, parser or classifier folder). A folder holding other
    files is fine: those files are kept (:func:`secgan.utils.io.publish_dir`)."""
    from secgan.errors import ConfigError

    path = Path(path)
    taken = path.is_file() or (path.is_dir() and (path / "config.json").exists())
    if taken and not overwrite:
        what = "file" if path.is_file() else "folder with a config.json"
        raise ConfigError(
            f"{option}: {path} already exists (a {what}): choose a new path, or pass --overwrite to replace it"
        )


def copy_file_atomic(src, dst) -> None:
    """Copy a file's bytes to ``dst`` atomically (a photo left unchanged is written as the input's bytes)."""
    from secgan.utils.io import atomic_path

    dst = Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(dst) as tmp:
        shutil.copyfile(src, tmp)
