"""``--device``: the one place a device name is resolved (commands, evaluation, reproduction)."""

from __future__ import annotations

import torch

from secgan.errors import ConfigError

AUTO = ("auto", "")


def resolve_device(name: str | None) -> str:
    """The device name to use: the one given, or for ``None`` / ``"auto"`` / ``""`` ``cuda`` when
    available, else ``cpu``. Raises :class:`ConfigError` for a name torch does not know or for CUDA on a
    machine without it. A name, not a ``torch.device``: ``cuda`` stays unnumbered for the distributed
    launcher, which picks each process's GPU."""
    if name is None or name in AUTO:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(name)
    except RuntimeError as err:
        raise ConfigError(f"--device {name!r}: {err}") from err
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {name}: CUDA is not available on this machine; use --device cpu")
    return name
