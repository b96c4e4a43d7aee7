"""Helpers of tests/test_bad_inputs.py: the CLI runner that demands one error line, tiny training
arguments, folder digests, and the bad files themselves (photos, PNG bombs, pickles that run code)."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import shutil
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from secgan.cli import main
from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.models.export import save_pretrained
from secgan.models.stargan import StarGANGenerator

TINY_TRAIN = [
    "data.image_size=32",
    "data.num_workers=1",  # a DataLoader worker: its errors must still come back as one line
    "model.g_conv_dim=8",
    "model.g_n_res=1",
    "model.d_conv_dim=8",
    "model.d_n_layers=3",
    "train.batch_size=4",
    "train.n_critic=2",
    "train.iterations=2",
    "train.decay_start=1",
    "log.checkpoint_every=2",
    "log.sample_every=1000",
    "log.n_samples=1",
    "log.tensorboard=false",
]


# ------------------------------------------------------------------------------------------- helpers
def _cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``secgan ARGS``; returns ``(status, the error line or "", stdout)``. Status 2 must come with
    exactly one ``secgan: error: ...`` line, and no status with a traceback."""
    capsys.readouterr()
    for h in logging.getLogger().handlers:  # the CLI's log handler writes to this test's captured stderr
        if type(h) is logging.StreamHandler:
            h.stream = sys.stderr  # (not setStream: it flushes the previous test's closed stream)
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.startswith("secgan: error:")]
    assert len(lines) == (1 if rc == 2 else 0), err
    return rc, (lines[0] if lines else ""), out


def _train_args(data: Path, out: Path, *extra: str) -> list[str]:
    args = ["train", "--config", "synthetic-stargan-64-baseline", "--data", str(data), "--out", str(out)]
    args += ["--device", "cpu", "--no-progress"]
    for s in [*TINY_TRAIN, *extra]:
        args += ["--set", s]
    return args


def _tree_digest(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root``: proof that nothing was changed or lost."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _jpeg_bytes(size: int = 48, seed: int = 0) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width x height`` RGB, with a tiny IDAT: decoding it would allocate
    ``3 * width * height`` bytes (1.2 GB at 20000x20000) while the file has a few dozen."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _make_bad_photo(kind: str, directory: Path) -> Path:
    if kind == "truncated":
        data = _jpeg_bytes()
        path, content = directory / "truncated.jpg", data[: len(data) // 2]
    elif kind == "zero-byte":
        path, content = directory / "empty.jpg", b""
    elif kind == "bomb":
        path, content = directory / "bomb.png", _png_header_only(20_000, 20_000)
    else:  # a text file with an image's name
        path, content = directory / "notes.png", b"<html><body>not a photo</body></html>\n"
    path.write_bytes(content)
    return path


BAD_PHOTOS = {
    # kind: what the one-line message says
    "truncated": r"truncated or corrupt",
    "zero-byte": r"empty \(0 bytes\)",
    "bomb": r"pixel limit|over the limit",
    "non-image": r"not an image file",
}


class _Exploit:
    """Unpickling this runs ``touch MARKER`` (os.system): a file that would run code when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: D105
        return (os.system, (f"touch {self.marker}",))


def _write_exploits(directory: Path, marker: Path) -> dict[str, Path]:
    """The same payload in torch's zip format and as a plain (legacy) pickle."""
    directory.mkdir(parents=True, exist_ok=True)
    zip_path = directory / "evil-zip.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "x": _Exploit(marker)}, zip_path)
    raw_path = directory / "evil-raw.pt"
    raw_path.write_bytes(pickle.dumps({"step": 5, "x": _Exploit(marker)}, protocol=2))
    return {"zip": zip_path, "raw": raw_path}


def make_model_dir(path: Path) -> Path:
    """An exported 32-px StarGAN editing model of width 8."""
    torch.manual_seed(0)
    G = StarGANGenerator(in_channels=3, n_attrs=len(PAPER_ATTRIBUTES), conv_dim=8, n_res=1, n_down=2)
    meta = {
        "kind": "editor",
        "attributes": list(PAPER_ATTRIBUTES),
        "conditioning": "diff",
        "target_scale": 0.5,
        "image_size": 32,
        "backbone": "stargan",
        "mode": "baseline",
        "needs_mask": False,
    }
    return save_pretrained(path, {"G": G}, meta)


ATTR_ROWS = {
    # case: (how row 4 of list_attr_celeba.txt is rewritten, the expected message)
    "conflicting-duplicate": (
        lambda r3, r4: [r3[0], *r4[1:]],
        r"listed again with other labels than on line 5",
    ),
    "escaping-path": (lambda r3, r4: ["../../other/x.jpg", *r4[1:]], "leaves the dataset folder"),
    "absolute-path": (lambda r3, r4: ["/etc/x.jpg", *r4[1:]], "leaves the dataset folder"),
}


LABEL_CSV = {
    # case: (rows after the header, expected status of `data check`, what its line or report says)
    "duplicate-with-other-labels": (["a.jpg,1,0", "b.jpg,0,1", "a.jpg,0,0"], 2, "listed again"),
    "absolute-path": (["a.jpg,1,0", "/tmp/b.jpg,0,1"], 2, "leaves the dataset folder"),
    "escaping-path": (["a.jpg,1,0", "imgs/../../b.jpg,0,1"], 2, "leaves the dataset folder"),
    "header-only": ([], 1, "no images"),
    "same-row-twice": (["a.jpg,1,0", "b.jpg,0,1", "b.jpg,0,1"], 0, "listed twice"),
}


def _flip_bit_of_a_weight(ckpt: Path) -> None:
    """Flip one exponent bit of the first float of G_rgb's first tensor: the file still loads."""
    first = next(iter(torch.load(ckpt, weights_only=True)["networks"]["G_rgb"].values()))
    raw = first.flatten()[:4].numpy().tobytes()
    data = bytearray(ckpt.read_bytes())
    at = data.index(raw) + 3
    data[at] ^= 0x40
    ckpt.write_bytes(bytes(data))


def _copy_faces(faces: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(faces, data)
    return data
