"""Training checkpoints: one ``step-XXXXXX.pt`` per save (a plain dict of state dicts, tensors and
numbers, loadable with ``weights_only=True``), written atomically, the last ``keep`` kept."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from secgan.errors import WeightsError
from secgan.utils.io import load_torch_file, save_torch_atomic

log = logging.getLogger(__name__)

FORMAT = "secgan-checkpoint"
VERSION = 1
_NAME = re.compile(r"^step-(\d+)\.pt$")
# The temporary files of secgan.utils.io.atomic_path: ".NAME.XXXXXXXX.tmp" (tempfile.mkstemp's 8 characters).
_TEMP = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


def checkpoint_path(ckpt_dir: str | Path, step: int) -> Path:
    return Path(ckpt_dir) / f"step-{step:06d}.pt"


def list_checkpoints(ckpt_dir: str | Path) -> list[tuple[int, Path]]:
    """``(step, path)`` of every complete checkpoint, oldest first (temporary files are never listed)."""
    d = Path(ckpt_dir)
    if not d.is_dir():
        return []
    out = []
    for p in d.iterdir():
        m = _NAME.match(p.name)
        if m and p.is_file():
            out.append((int(m.group(1)), p))
    return sorted(out)


def remove_stale_temp_files(folder: str | Path, targets: Iterable[str] | None = None) -> list[Path]:
    """Delete the temporary files that a process killed mid-write (SIGKILL, power loss) left in ``folder``:
    ``.NAME.XXXXXXXX.tmp`` of :func:`secgan.utils.io.atomic_path` (never listed as checkpoints, but each can
    be as large as one), only those of a file named in ``targets`` when it is given. Call it only while no
    other process writes there. Returns the removed paths."""
    d = Path(folder)
    if not d.is_dir():
        return []
    wanted = set(targets) if targets is not None else None
    removed = []
    for p in d.iterdir():
        m = _TEMP.match(p.name)
        if m and (wanted is None or m["target"] in wanted) and p.is_file():
            p.unlink(missing_ok=True)
            removed.append(p)
    if removed:
        log.info("removed %d temporary file(s) of an interrupted write in %s", len(removed), d)
    return removed


def latest_checkpoint(ckpt_dir: str | Path) -> Path | None:
    ckpts = list_checkpoints(ckpt_dir)
    return ckpts[-1][1] if ckpts else None


def save_checkpoint(ckpt_dir: str | Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Write ``state`` (plus format, version, step) to ``step-XXXXXX.pt`` atomically, then delete all but
    the newest ``keep`` checkpoints."""
    path = checkpoint_path(ckpt_dir, step)
    save_torch_atomic({"format": FORMAT, "version": VERSION, "step": int(step), **state}, path)
    for _, old in list_checkpoints(ckpt_dir)[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    log.debug("checkpoint %s", path)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``); :class:`WeightsError` names a bad file."""
    state = load_torch_file(path, what="checkpoint")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise WeightsError(f"{path} is not a secgan training checkpoint (no format={FORMAT!r})")
    return state


def plain_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict of ``module`` (or of the module inside a DDP/compile wrapper), on CPU, without
    ``module.`` or ``_orig_mod.`` prefixes."""
    inner = getattr(module, "module", module)
    inner = getattr(inner, "_orig_mod", inner)
    return {k: v.detach().cpu().clone() for k, v in inner.state_dict().items()}


def strip_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Drop leading ``module.`` / ``_orig_mod.`` from every key (checkpoints of wrapped modules)."""
    out = {}
    for k, v in state.items():
        while k.startswith(("module.", "_orig_mod.")):
            k = k.split(".", 1)[1]
        out[k] = v
    return out


def load_network_state(
    module: nn.Module, state: dict[str, torch.Tensor], name: str, path: str | Path
) -> None:
    """Strictly load ``state`` into ``module``; :class:`WeightsError` names the network and file when the
    architecture differs (missing/unexpected keys or shape mismatches)."""
    try:
        module.load_state_dict(strip_prefixes(state), strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()
        detail = " ".join(line.strip() for line in first[:3])
        raise WeightsError(
            f"{path}: network {name} does not match the configured architecture: {detail}"
        ) from err
