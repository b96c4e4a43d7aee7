"""Training checkpoints, saved and restored: one ``step-XXXXXX.pt`` per save (a plain dict of state dicts,
tensors and numbers, loadable with ``weights_only=True``), written atomically, the last ``keep`` kept.

Each checkpoint has a ``step-XXXXXX.pt.sha256`` beside it, written before the checkpoint itself appears;
:func:`load_checkpoint` refuses a file whose bytes no longer match (one flipped bit), and pruning never
deletes an older checkpoint until the new one has been read back and verified.

What a checkpoint holds of a run is one :class:`TrainingState` (the networks and optimizers by name, the
run's random stream): :meth:`TrainingState.capture` for :func:`save_checkpoint`, :func:`restore_checkpoint`
to resume. A resume is checked first against the run's :class:`ResumeExpectation` (configuration, data
fingerprint and size: :mod:`secgan.training.resume_check`) and against the shapes of every network and
optimizer; only then is any state loaded, so a refused resume leaves every module untouched."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from secgan.errors import ConfigError, CorruptFileError, DataError, TrainingError, WeightsError
from secgan.training import distributed
from secgan.training.resume_check import check_resume_config, check_resume_data
from secgan.utils.io import (
    expected_sha256,
    file_sha256,
    load_torch_file,
    sha256_sidecar,
    verify_sha256,
    write_bytes_atomic,
    write_sha256_sidecar,
)
from secgan.utils.seed import get_rng_state, set_rng_state

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


# ------------------------------------------------------------------------------------------ resume
@dataclass
class TrainingState:
    """The part of a run a checkpoint saves and restores.

    Args:
        nets: the networks by name (``G_rgb``, ``D_rgb``, ...; unwrapped modules).
        opts: each network's optimizer, under the network's name.
        rng: the run's own random stream (the same on every rank).
        global_rng: whether a restore also sets the process-wide streams (torch, numpy, random): the main
            process only; the other ranks keep their rank-offset seeds.
    """

    nets: Mapping[str, nn.Module]
    opts: Mapping[str, torch.optim.Optimizer]
    rng: torch.Generator
    global_rng: bool = True

    def capture(self) -> dict[str, Any]:
        """``{"networks", "optimizers", "rng"}`` of a checkpoint (CPU copies of the weights)."""
        return {
            "networks": {name: plain_state_dict(net) for name, net in self.nets.items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.opts.items()},
            "rng": {"global": get_rng_state(), "train": self.rng.get_state()},
        }


@dataclass(frozen=True)
class ResumeExpectation:
    """What a checkpoint must match to be resumed into this run: its resolved configuration (``to_dict``),
    the data fingerprint and image count (``None``: not checked), and whether ``--allow-changes`` accepts
    the safe configuration changes."""

    config: dict[str, Any] | None = None
    fingerprint: str | None = None
    n_items: int | None = None
    allow_changes: bool = False


def check_resumable(
    state: dict[str, Any], path: Path, target: TrainingState, expect: ResumeExpectation
) -> None:
    """Raise (one line naming ``path``) unless ``state`` may be loaded into ``target``: the configuration
    and the data first, then a state for every network and optimizer with the same keys and shapes. Loads
    nothing."""
    data = state.get("data", {})
    if expect.config is not None:
        check_resume_config(state.get("config"), expect.config, expect.allow_changes, str(path))
    if expect.n_items is not None and data.get("n_items") not in (None, expect.n_items):
        raise DataError(
            f"{path}: the run was trained on {data['n_items']} images but the dataset now has "
            f"{expect.n_items}; resuming would not continue the same data order"
        )
    if expect.fingerprint is not None:
        check_resume_data(data.get("fingerprint"), expect.fingerprint, str(path))
    for name, net in target.nets.items():
        if name not in state.get("networks", {}) or name not in state.get("optimizers", {}):
            raise TrainingError(
                f"{path}: no weights or optimizer state for network {name} (it holds "
                f"{sorted(state.get('networks', {}))})"
            )
        check_network_state(net, state["networks"][name], name, path)
        check_optimizer_state(target.opts[name], state["optimizers"][name], name, path)


def check_network_state(
    module: nn.Module, state: dict[str, torch.Tensor], name: str, path: str | Path
) -> None:
    """:class:`WeightsError` when ``state`` (prefixes stripped) does not have ``module``'s keys and shapes."""
    have = plain_shapes(module)
    saved = {k: tuple(v.shape) for k, v in strip_prefixes(state).items()}
    missing, unexpected = sorted(set(have) - set(saved)), sorted(set(saved) - set(have))
    shapes = [f"{k}: {saved[k]} vs {have[k]}" for k in sorted(set(have) & set(saved)) if saved[k] != have[k]]
    if missing or unexpected or shapes:
        detail = "; ".join(
            f"{what} {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for what, keys in (("missing keys", missing), ("unexpected keys", unexpected), ("shapes", shapes))
            if keys
        )
        raise WeightsError(f"{path}: network {name} does not match the configured architecture: {detail}")


def plain_shapes(module: nn.Module) -> dict[str, tuple[int, ...]]:
    """``{key: shape}`` of ``module``'s state dict, without wrapper prefixes."""
    return {k: tuple(v.shape) for k, v in strip_prefixes(module.state_dict()).items()}


def check_optimizer_state(
    opt: torch.optim.Optimizer, state: dict[str, Any], name: str, path: str | Path
) -> None:
    """:class:`WeightsError` when the saved optimizer state has other parameter groups than ``opt``."""
    saved = [len(g.get("params", ())) for g in state.get("param_groups", ())]
    have = [len(g["params"]) for g in opt.param_groups]
    if saved != have:
        raise WeightsError(
            f"{path}: the optimizer state of {name} has parameter groups of sizes {saved}, the network's "
            f"optimizer {have}"
        )


def restore_checkpoint(
    ckpt_dir: str | Path, target: TrainingState, expect: ResumeExpectation, resume: bool, device: torch.device
) -> int:
    """Resume ``target`` from the newest good checkpoint of ``ckpt_dir``; returns the step to continue from
    (0 for a fresh run). Without ``resume``, refuses to start over existing checkpoints (on any rank). A
    corrupt newest checkpoint is skipped with a warning. The checkpoint is checked
    (:func:`check_resumable`) before anything is loaded: a refusal leaves the networks, optimizers and
    random streams as they were."""
    ckpt_dir = Path(ckpt_dir)
    path = latest_checkpoint(ckpt_dir)
    if not resume:
        if distributed.agree([path is not None], device)[0]:
            raise ConfigError(
                f"{ckpt_dir.parent} already holds checkpoints ({path.name if path else 'on rank 0'}): pass "
                "--resume to continue that run, or choose another --out"
            )
        return 0
    # Every rank reads the checkpoint itself: a multi-node run needs the run folder on a shared filesystem.
    found = load_newest_good_checkpoint(ckpt_dir)
    if found is None:
        log.warning("--resume: no checkpoint in %s; starting from step 0", ckpt_dir)
        return 0
    path, state = found
    check_resumable(state, path, target, expect)
    for name, net in target.nets.items():
        load_network_state(net, state["networks"][name], name, path)
        target.opts[name].load_state_dict(state["optimizers"][name])
    target.rng.set_state(state["rng"]["train"])
    if target.global_rng:
        set_rng_state(state["rng"]["global"])
    step = int(state["step"])
    log.info("resumed from %s (step %d)", path, step)
    return step
