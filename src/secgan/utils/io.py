"""Atomic writes and safe loading of weight files."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import torch

from secgan.errors import CorruptFileError, StorageError, WeightsError

log = logging.getLogger(__name__)

# OSErrors that mean "this output cannot be written here" (not a bug): one line naming path and cause.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG}
)


def storage_error(path: str | os.PathLike, err: OSError) -> StorageError:
    """``cannot write PATH: No space left on device`` (the cause as the OS words it)."""
    return StorageError(f"cannot write {path}: {err.strerror or err}")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it is fsync'ed and renamed onto ``path``, so a
    reader never sees a half-written file, even after SIGKILL."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
    except OSError as err:
        if err.errno in STORAGE_ERRNOS:
            raise storage_error(path, err) from err
        raise
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        # mkstemp creates 0600 files; give the result the usual permissions (0666 minus the umask).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, path)
    except OSError as err:
        # A full disk or read-only folder is the user's to fix: one line; the previous file is untouched.
        if err.errno in STORAGE_ERRNOS:
            raise storage_error(path, err) from err
        raise
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes_atomic(data: bytes, path: str | os.PathLike) -> str:
    """Write ``data`` to ``path`` through :func:`atomic_path`; returns its sha256 (hex)."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return hashlib.sha256(data).hexdigest()


def save_torch_atomic(obj: Any, path: str | os.PathLike) -> str:
    """``torch.save`` through :func:`atomic_path`; returns the file's sha256 (hex).

    The object is serialised in memory first: a write error (a full disk) then surfaces as an OSError
    naming its cause, where torch's own file writer reports only "unexpected pos"."""
    buf = io.BytesIO()
    torch.save(obj, buf)
    return write_bytes_atomic(buf.getbuffer(), path)


def sha256_sidecar(path: str | os.PathLike) -> Path:
    """``FILE.sha256`` beside ``FILE`` (``sha256sum`` format: ``HEX  NAME``)."""
    path = Path(path)
    return path.with_name(path.name + ".sha256")


def write_sha256_sidecar(path: str | os.PathLike, digest: str) -> Path:
    side = sha256_sidecar(path)
    with atomic_path(side) as tmp:
        tmp.write_text(f"{digest}  {Path(path).name}\n")
    return side


def expected_sha256(path: str | os.PathLike) -> str | None:
    """The digest recorded in ``FILE.sha256``, or None when there is none (files of older versions)."""
    side = sha256_sidecar(path)
    try:
        text = side.read_text().split()
    except OSError:
        return None
    return text[0].lower() if text and len(text[0]) == 64 else None


def verify_sha256(path: str | os.PathLike, digest: str | None, what: str = "file") -> None:
    """Raise :class:`WeightsError` when ``path``'s sha256 is not ``digest`` (no check when None)."""
    if digest is None:
        return
    actual = file_sha256(path)
    if actual != digest.lower():
        raise CorruptFileError(
            f"cannot load {what} {path}: it is corrupt (its sha256 {actual[:12]}... differs from the "
            f"recorded {digest[:12]}...: a damaged disk or copy, or an edited file)"
        )


# renameat2(2) with RENAME_EXCHANGE swaps two paths atomically (Linux >= 3.15).
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


# The temporary files of atomic_path: ".NAME.XXXXXXXX.tmp" (tempfile.mkstemp's 8 characters).
_TEMP = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


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


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it replaces ``path`` as a whole (an
    atomic exchange on Linux), so readers see the old folder or the new one, never a mix of both. On an
    error the temporary folder is removed and ``path`` is untouched."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmpdir", dir=path.parent))
    except OSError as err:
        if err.errno in STORAGE_ERRNOS:
            raise storage_error(path, err) from err
        raise
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())
        if path.exists() and _exchange(tmp, path):
            shutil.rmtree(tmp, ignore_errors=True)  # now holds the old contents
        else:
            if path.exists():
                old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmpdir", dir=path.parent))
                os.replace(path, old / path.name)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
    except OSError as err:
        if err.errno in STORAGE_ERRNOS:
            raise storage_error(path, err) from err
        raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def remove_stale_temp_dirs(parent: str | os.PathLike, name: str) -> list[Path]:
    """Remove ``.NAME.*.tmpdir`` folders that a killed :func:`atomic_dir` left beside ``NAME``."""
    parent = Path(parent)
    removed = []
    if parent.is_dir():
        for p in parent.glob(f".{name}.*.tmpdir"):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def write_json_atomic(obj: Any, path: str | os.PathLike, indent: int = 2) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=indent, sort_keys=False) + "\n")


def load_torch_file(path: str | os.PathLike, what: str = "weights file") -> Any:
    """Load a ``.pt/.pth/.ckpt`` file with ``weights_only=True`` (pickled code is never run).

    Raises :class:`WeightsError` naming the file when it is missing, truncated, or holds pickled objects
    other than tensors and plain containers.
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"{what} not found: {path}")
    with open(path, "rb") as fh:
        head = fh.read(4)
    if not (head.startswith(TORCH_ZIP_MAGIC) or head[:1] == PICKLE_PROTO):
        raise CorruptFileError(
            f"{path} is not a PyTorch checkpoint: cannot load {what} from a file torch.save did not write"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - every failure becomes one clear line
        blocked = _BLOCKED_GLOBAL.search(str(err)) is not None
        raise (WeightsError if blocked else CorruptFileError)(_load_failure(path, what, err)) from err


TORCH_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's zip format
PICKLE_PROTO = b"\x80"  # torch.save's legacy format: a pickle (protocol >= 2)
_BLOCKED_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")


def _load_failure(path: Path, what: str, err: BaseException) -> str:
    """The one line for a refused ``torch.load``. torch's own message advises retrying with
    ``weights_only=False`` (which would run the file's code): that advice is never passed on; a blocked
    pickle is named by its global."""
    text = str(err)
    blocked = _BLOCKED_GLOBAL.search(text)
    if blocked:
        return (
            f"cannot load {what} {path} safely (weights_only=True): it holds pickled code or objects "
            f"(blocked global {blocked.group(1)}); pickled code is never run"
        )
    if isinstance(err, OSError) and err.errno in STORAGE_ERRNOS:
        return f"cannot load {what} {path}: {err.strerror or err}"
    return (
        f"cannot load {what} {path}: {path.name} is not a PyTorch checkpoint "
        "(damaged, truncated or another format)"
    )


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def state_dict_hash(state: dict[str, torch.Tensor]) -> str:
    """A content hash of a state dict (names, shapes, dtypes, values); 16 hex chars."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].detach().cpu().contiguous()
        h.update(key.encode())
        h.update(str(tuple(t.shape)).encode())
        h.update(str(t.dtype).encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def publish_dir(path: str | os.PathLike, own: tuple[str, ...]) -> Iterator[Path]:
    """Write a multi-file output (e.g. ``metrics.json`` + ``examples.npz``) into a temporary folder that
    then replaces ``path`` (see :func:`atomic_dir`). When ``path`` also holds files other than ``own`` (a
    user's), those are kept: the new files are moved in one by one, in the order of ``own``, so the last
    one (the output's commit point, e.g. metrics.json recording the others' digests) lands last. Temporary
    folders a killed writer left beside ``path`` are removed first (one writer per output folder)."""
    path = Path(path)
    remove_stale_temp_dirs(path.parent, path.name)
    remove_stale_temp_dirs(path.parent, f".{path.name}.staging")
    theirs = [
        p.name
        for p in (path.iterdir() if path.is_dir() else [])
        if not p.name.startswith(".") and p.name not in own
    ]
    if not theirs:
        with atomic_dir(path) as tmp:
            yield tmp
        return
    with atomic_dir(path.parent / f".{path.name}.staging") as tmp:
        yield tmp
    staging = path.parent / f".{path.name}.staging"
    try:
        for name in own:
            if (staging / name).exists():
                os.replace(staging / name, path / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
