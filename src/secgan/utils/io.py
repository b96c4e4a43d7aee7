"""Atomic writes and safe loading of weight files."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from secgan.errors import WeightsError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it is fsync'ed and renamed onto ``path``, so a
    reader never sees a half-written file, even after SIGKILL."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
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
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def save_torch_atomic(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


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
        raise WeightsError(
            f"{path} is not a PyTorch checkpoint: cannot load {what} from a file torch.save did not write"
        )
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - every failure becomes one clear line
        raise WeightsError(
            f"cannot load {what} {path} safely (weights_only=True): {_load_error(err)}"
        ) from err


TORCH_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's zip format
PICKLE_PROTO = b"\x80"  # torch.save's legacy format: a pickle (protocol >= 2)


def _load_error(err: Exception) -> str:
    """The reason of a failed ``torch.load``, without PyTorch's advice to retry with
    ``weights_only=False`` (which would run whatever code the file pickles)."""
    text = str(err)
    if "Weights only load failed" in text:
        detail = text.split("WeightsUnpickler error:", 1)[1] if "WeightsUnpickler error:" in text else ""
        lines = [
            ln.strip() for ln in detail.splitlines() if ln.strip() and not ln.startswith("Check the doc")
        ]
        reason = lines[0] if lines else "unsupported content"
        return f"it holds more than tensors and plain containers ({reason}); pickled code is never run"
    return text.splitlines()[0] if text else type(err).__name__


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
