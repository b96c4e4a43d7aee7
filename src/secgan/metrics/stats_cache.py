"""Cache of real-image feature statistics ``(mu, sigma)``, keyed by the full protocol.

The key holds everything the statistics depend on (feature extractor and its weights hash, resolution,
dataset, root, split, image size, number of images and a hash of their names), so a changed weights file,
crop or subset never reuses stale statistics. Files live under a user cache folder (default
``~/.cache/secgan/stats``, or ``$SECGAN_CACHE/stats``), never inside the installed package.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from secgan.utils.io import atomic_path

log = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """``$SECGAN_CACHE/stats`` or ``~/.cache/secgan/stats``."""
    base = os.environ.get("SECGAN_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "secgan") / "stats"


def names_hash(names: list[str]) -> str:
    """16 hex chars identifying an ordered list of image names."""
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:16]


class RealStatsCache:
    """``get(key) -> (mu, sigma) | None`` and ``put(key, mu, sigma)``; ``key`` is a JSON-ready dict."""

    def __init__(self, directory: str | os.PathLike | None = None) -> None:
        self.directory = Path(directory).expanduser() if directory else default_cache_dir()

    def path_for(self, key: dict[str, Any]) -> Path:
        text = json.dumps(key, sort_keys=True)
        digest = hashlib.sha256(text.encode()).hexdigest()[:20]
        prefix = str(key.get("extractor", "stats")).split(":")[0]
        return self.directory / f"{prefix}-{digest}.npz"

    def get(self, key: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                if json.loads(str(z["key"])) != json.loads(json.dumps(key, sort_keys=True)):
                    log.warning("stats cache %s holds another key; recomputing", path)
                    return None
                log.info("real-image statistics from cache %s", path)
                return z["mu"].astype(np.float64), z["sigma"].astype(np.float64)
        except (OSError, ValueError, KeyError) as err:
            log.warning("unreadable stats cache %s (%s); recomputing", path, err)
            return None

    def put(self, key: dict[str, Any], mu: np.ndarray, sigma: np.ndarray) -> Path:
        path = self.path_for(key)
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, mu=mu, sigma=sigma, key=np.array(json.dumps(key, sort_keys=True)))
        log.info("cached real-image statistics in %s", path)
        return path
