"""What ``--resume`` may change: the resolved configuration and the data, compared with the checkpoint's.

A resumed run must be the same run: the checkpoint's configuration (``state["config"]``) is compared key by
key (dotted names, e.g. ``train.batch_size``) with the configuration of this invocation, and the data with
the fingerprint the checkpoint recorded (:func:`data_fingerprint`: the file list and the labels). Any
difference stops with one line naming each key with its old and new value. ``--allow-changes`` accepts the
keys of :data:`SAFE_CHANGES` (they do not change what the remaining steps compute: more iterations, logging
and checkpoint cadence, workers, the data's location, speed options); every other key stays refused.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np

from secgan.errors import ConfigError, DataError

log = logging.getLogger(__name__)

# Dotted keys (or prefixes ending in ".") that --allow-changes accepts.
SAFE_CHANGES = (
    "train.iterations",
    "log.",
    "data.num_workers",
    "data.root",  # the same files elsewhere: the data fingerprint still has to match
    "export.",
    "train.compile",
    "train.channels_last",
    "name",
)


def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"iterations": 5}}`` -> ``{"train.iterations": 5}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, key + "."))
        else:
            out[key] = v
    return out


def is_safe(key: str) -> bool:
    return any(key == s or (s.endswith(".") and key.startswith(s)) for s in SAFE_CHANGES)


def config_changes(saved: dict[str, Any], current: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{dotted key: (checkpoint's value, this run's value)}`` for every key that differs. A key the
    checkpoint does not have (a setting added by a later version) counts only when this run sets it to
    something other than its default: at the default it computes what the older version computed."""
    from secgan.config import Config, to_dict

    a, b, defaults = flatten(saved), flatten(current), flatten(to_dict(Config()))
    return {
        k: (a.get(k), b.get(k))
        for k in sorted(set(a) | set(b))
        if a.get(k) != b.get(k) and not (k not in a and k in defaults and b.get(k) == defaults[k])
    }


def check_resume_config(
    saved: dict[str, Any] | None, current: dict[str, Any], allow_changes: bool, source: str
) -> dict[str, tuple[Any, Any]]:
    """Raise :class:`ConfigError` for a changed key that may not change (see the module docstring);
    returns the accepted changes (logged). ``saved`` None (a checkpoint of an older version): no check."""
    if saved is None:
        return {}
    changes = config_changes(saved, current)
    refused = {k: v for k, v in changes.items() if not (allow_changes and is_safe(k))}
    if refused:
        listed = "; ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in refused.items())
        unsafe = [k for k in refused if not is_safe(k)]
        hint = (
            "start a new run (another --out) to change " + ", ".join(unsafe)
            if unsafe
            else "pass --allow-changes to accept these"
        )
        raise ConfigError(f"--resume from {source}: the configuration changed ({listed}); {hint}")
    for k, (old, new) in changes.items():
        log.warning("--resume: %s changed from %r to %r (--allow-changes)", k, old, new)
    return changes


def data_fingerprint(names: list[str], labels: np.ndarray) -> str:
    """A digest of the dataset's file list (in order) and labels: equal only for the same data."""
    h = hashlib.sha256()
    for n in names:
        h.update(n.encode("utf-8", "surrogateescape") + b"\n")
    h.update(np.ascontiguousarray(np.asarray(labels, dtype=np.float32)).tobytes())
    return h.hexdigest()[:16]


def check_resume_data(saved: str | None, current: str, source: str) -> None:
    """Raise :class:`DataError` when the checkpoint's data fingerprint differs from this data's."""
    if saved is not None and saved != current:
        raise DataError(
            f"--resume from {source}: the dataset differs from the one the run was trained on (file list or "
            f"labels changed: fingerprint {saved} -> {current}); start a new run to train on other data"
        )
