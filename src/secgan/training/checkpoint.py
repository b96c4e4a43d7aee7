"""Training checkpoints: one ``step-XXXXXX.pt`` per save (a plain dict of state dicts, tensors and
numbers, loadable with ``weights_only=True``), written atomically, the last ``keep`` kept.

Each checkpoint has a ``step-XXXXXX.pt.sha256`` beside it, written before the checkpoint itself appears;
:func:`load_checkpoint` refuses a file whose bytes no longer match (one flipped bit), and pruning never
deletes an older checkpoint until the new one has been read back and verified."""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path
from typing import Any

import torch
from torch import nn

from secgan.errors import CorruptFileError, WeightsError
from secgan.utils.io import (
    expected_sha256,
    file_sha256,
    load_torch_file,
    sha256_sidecar,
    verify_sha256,
    write_bytes_atomic,
    write_sha256_sidecar,
)

log = logging.getLogger(__name__)

FORMAT = "secgan-checkpoint"
VERSION = 1
_NAME = re.compile(r"^step-(\d+)\.pt$")


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


def latest_checkpoint(ckpt_dir: str | Path) -> Path | None:
    ckpts = list_checkpoints(ckpt_dir)
    return ckpts[-1][1] if ckpts else None


def save_checkpoint(ckpt_dir: str | Path, step: int, state: dict[str, Any], keep: int = 3) -> Path:
    """Write ``state`` (plus format, version, step) to ``step-XXXXXX.pt`` atomically with its sha256
    beside it, read it back to verify it, then delete all but the newest ``keep`` checkpoints."""
    import io

    path = checkpoint_path(ckpt_dir, step)
    buf = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, "step": int(step), **state}, buf)
    data = buf.getbuffer()
    digest = hashlib.sha256(data).hexdigest()
    # The digest first: a checkpoint never exists without it (a kill in between leaves only the sidecar).
    write_sha256_sidecar(path, digest)
    write_bytes_atomic(data, path)
    del buf, data
    if file_sha256(path) != digest:  # read back: what is on disk is what was meant
        raise WeightsError(f"{path}: the checkpoint read back differs from what was written (disk error)")
    if keep > 0:
        prune_checkpoints(ckpt_dir, keep, verified=path)
    log.debug("checkpoint %s", path)
    return path


def prune_checkpoints(ckpt_dir: str | Path, keep: int, verified: Path) -> list[Path]:
    """Keep the newest ``keep`` *intact* checkpoints (``verified``, just read back, is the first) and
    delete the older ones. A corrupt checkpoint (its digest no longer matches) never counts toward
    ``keep``, so it can never cause the deletion of the last good one; it is left in place."""
    ckpts = [p for _, p in reversed(list_checkpoints(ckpt_dir))]
    if verified not in ckpts:
        return []
    good, removed = 0, []
    for p in ckpts[ckpts.index(verified) :]:
        if good >= keep:
            p.unlink(missing_ok=True)
            sha256_sidecar(p).unlink(missing_ok=True)
            removed.append(p)
        elif p == verified or _intact(p):
            good += 1
    return removed


def _intact(path: Path) -> bool:
    digest = expected_sha256(path)
    return digest is None or file_sha256(path) == digest


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a checkpoint safely (``weights_only=True``) after checking its sha256 (when recorded);
    :class:`WeightsError` names a bad or corrupt file."""
    digest = expected_sha256(path)
    if digest is None:
        log.warning(
            "%s has no digest beside it (%s missing or unreadable): loaded without a corruption check",
            path, sha256_sidecar(path).name,
        )  # fmt: skip
    verify_sha256(path, digest, what="checkpoint")
    state = load_torch_file(path, what="checkpoint")
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise WeightsError(f"{path} is not a secgan training checkpoint (no format={FORMAT!r})")
    return state


def load_newest_good_checkpoint(ckpt_dir: str | Path) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint that loads and verifies, as ``(path, state)``; a corrupt newer one (digest
    mismatch, unreadable) is skipped with a warning naming both files and left in place. None when the
    folder has none; when every checkpoint is corrupt, the newest one's error is raised. A file holding
    pickled code, or not a secgan checkpoint, is never skipped: its error is raised."""
    ckpts = list_checkpoints(ckpt_dir)
    first_err: CorruptFileError | None = None
    bad: Path | None = None
    for _, path in reversed(ckpts):
        try:
            state = load_checkpoint(path)
        except CorruptFileError as err:  # damaged; a file with pickled code is no accident: it raises
            if first_err is None:
                first_err, bad = err, path
            continue
        if bad is not None:
            log.warning("%s; resuming from the newest good checkpoint %s instead", first_err, path.name)
        return path, state
    if first_err is not None:
        raise first_err
    return None


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
