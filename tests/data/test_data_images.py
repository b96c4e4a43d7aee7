"""read_image: every way a file can be unreadable is one DataError naming the file."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from secgan.errors import DataError
from secgan.utils.images import image_size, read_binary_mask, read_image


def _png_header_only(path, width: int, height: int) -> None:
    """A PNG whose header claims ``width x height`` but which holds no pixel data (a bomb's header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))


def test_reads_rgb(tmp_path):
    p = tmp_path / "a.png"
    Image.new("L", (5, 7), 200).save(p)
    img = read_image(p)
    assert img.mode == "RGB" and img.size == (5, 7)
    assert np.asarray(img)[0, 0].tolist() == [200, 200, 200]
    assert image_size(p) == (5, 7)


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="image file not found: .*nope.jpg"):
        read_image(tmp_path / "nope.jpg")


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    with pytest.raises(DataError, match="empty .*empty.jpg"):
        read_image(p)


def test_truncated_jpeg(tmp_path):
    p = tmp_path / "cut.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(p, quality=95)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated or corrupt.*cut.jpg|cut.jpg.*truncated"):
        read_image(p)


def test_not_an_image(tmp_path):
    p = tmp_path / "notes.jpg"
    p.write_text("hello, I am text")
    with pytest.raises(DataError, match="not an image file.*notes.jpg"):
        read_image(p)


def test_pixel_limit_checked_from_header(tmp_path):
    p = tmp_path / "bomb.png"
    _png_header_only(p, 20_000, 20_000)  # 400 MP claimed, no data: decoding would fail differently
    with pytest.raises(DataError, match="bomb.png.*(limit)"):
        read_image(p)
    small = tmp_path / "small.png"
    Image.new("RGB", (20, 20)).save(small)
    with pytest.raises(DataError, match="20x20 = 400 pixels, over the limit of 100"):
        read_image(small, max_pixels=100)


def test_binary_mask_first_channel(tmp_path):
    arr = np.zeros((4, 4, 3), np.uint8)
    arr[1, 2, 0] = 255
    arr[3, 3, 1] = 255  # second channel only: not "present"
    p = tmp_path / "m.png"
    Image.fromarray(arr).save(p)
    m = read_binary_mask(p)
    assert m.dtype == bool and m.sum() == 1 and m[1, 2]
    q = tmp_path / "bilevel.png"
    Image.fromarray(arr[..., 0] > 0).save(q)  # 1-bit PNG
    np.testing.assert_array_equal(read_binary_mask(q), m)
