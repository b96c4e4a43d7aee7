"""An exclusive lock on a run folder: one trainer per folder.

``RUN_DIR/.secgan-run.lock`` is held with ``fcntl.flock`` for the life of the process that trains into the
folder and records its owner (``{"pid", "host", "since", "argv"}``). The kernel releases a flock when its
process dies, however it dies, so a lock file whose flock is free is stale: the next trainer takes it over
with a warning naming the dead owner. A second trainer (``train --out`` or ``--resume``) on a held folder
stops with one line naming the owner's PID and host, before it touches anything.

The lock file also marks the folder as a run folder (``secgan train --out`` refuses other non-empty
folders, see :func:`check_out_dir`).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any

from secgan.errors import ConfigError, StorageError
from secgan.utils.io import STORAGE_ERRNOS, storage_error

log = logging.getLogger(__name__)

LOCK_NAME = ".secgan-run.lock"
# What a run folder may hold (secgan.training.run_dir) besides hidden files; anything else is the user's.
RUN_ENTRIES = frozenset(
    {
        "config.json",
        "env.json",
        "stats.jsonl",
        "data_split.json",
        "tb",
        "samples",
        "checkpoints",
        "export",
        "eval",
    }
)

_HELD: dict[Path, RunLock] = {}  # run folders whose lock this process holds


def _flock(fd: int, exclusive: bool = True) -> bool:
    import fcntl

    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_UN) | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def read_owner(root: str | os.PathLike) -> dict[str, Any]:
    """The owner recorded in the lock file (``{}`` when none or unreadable)."""
    try:
        data = json.loads((Path(root) / LOCK_NAME).read_text() or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(owner: dict[str, Any]) -> str:
    if not owner:
        return "another process"
    return (
        f"process {owner.get('pid', '?')} on host {owner.get('host', '?')} (since {owner.get('since', '?')})"
    )


class RunLock:
    """``with RunLock(root):`` holds the folder's lock (see the module docstring)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()
        self.path = self.root / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        if self.root in _HELD:
            raise ConfigError(f"{self.root} is already locked by this process")
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            if err.errno in STORAGE_ERRNOS:
                raise storage_error(self.path, err) from err
            raise
        if not _flock(fd):
            os.close(fd)
            raise StorageError(
                f"run folder {self.root} is in use by {_describe(read_owner(self.root))}: wait for it to "
                f"finish or stop it (its lock: {self.path})"
            )
        previous = read_owner(self.root)
        if previous:
            log.warning(
                "taking over the lock of %s on %s: that process is no longer running",
                _describe(previous),
                self.root,
            )
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "argv": sys.argv[:8],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(owner) + "\n").encode(), 0)
        self._fd = fd
        _HELD[self.root] = self
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # an empty lock file: released cleanly, nothing to take over
        except OSError:
            pass
        _flock(self._fd, exclusive=False)
        os.close(self._fd)
        self._fd = None
        _HELD.pop(self.root, None)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holds_lock(folder: str | os.PathLike) -> bool | None:
    """Whether this process may clean ``folder`` (a run folder or a folder inside one): True when it holds
    the run's lock or nobody does, False when another live process holds it, None when no lock file."""
    folder = Path(folder).resolve()
    for root in (folder, *folder.parents):
        if root in _HELD:
            return True
        lock = root / LOCK_NAME
        if lock.is_file():
            try:
                fd = os.open(lock, os.O_RDWR)
            except OSError:
                return False
            try:
                free = _flock(fd)
                if free:
                    _flock(fd, exclusive=False)
                return free
            finally:
                os.close(fd)
    return None


def check_out_dir(out: str | os.PathLike) -> None:
    """Refuse ``train --out`` into an existing folder that is not a run folder: its files (a user's own
    config.json or stats.jsonl) would be overwritten."""
    out = Path(out)
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    if (out / LOCK_NAME).exists():
        return
    names = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    if not names:
        return
    foreign = sorted(names - RUN_ENTRIES)
    looks_like_run = (out / "env.json").is_file() and (out / "config.json").is_file()
    if foreign or not looks_like_run:
        shown = ", ".join((foreign or sorted(names))[:4])
        raise ConfigError(
            f"--out {out} is a folder that is not a secgan run folder (it holds {shown}): choose a new or "
            "empty folder"
        )
