"""Small helpers shared by the command modules (kept free of heavy imports at module level)."""

from __future__ import annotations

import json
import sys


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
