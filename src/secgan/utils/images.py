"""Safe image reading: every way a file can be unreadable becomes one :class:`DataError` naming it; and
the photo I/O of the editing commands and the web app (RGB uint8 arrays in and out)."""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from secgan.errors import DataError
from secgan.utils.io import atomic_path

log = logging.getLogger(__name__)

# 64 megapixels: far above any face dataset (CelebA-HQ is 1 MP) and far below a decompression bomb.
DEFAULT_MAX_PIXELS = 64_000_000

# The photo formats the editing commands read and write (suffix -> PIL format).
PHOTO_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".bmp": "BMP",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
IMAGE_SUFFIXES = tuple(PHOTO_FORMATS)


def _open_checked(path: str | os.PathLike, max_pixels: int) -> Image.Image:
    """Open ``path`` lazily (header only) after the existence / zero-byte / pixel-limit checks."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"image file not found: {path}")
    if path.stat().st_size == 0:
        raise DataError(f"image file is empty (0 bytes): {path}")
    try:
        with warnings.catch_warnings():
            # PIL warns (and past 2x its own limit raises) on huge images; we apply our own limit below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except Image.DecompressionBombError as err:
        raise DataError(f"image {path} exceeds the pixel limit ({err})") from err
    except UnidentifiedImageError as err:
        raise DataError(f"not an image file (unknown format): {path}") from err
    except OSError as err:
        raise DataError(f"cannot read image {path}: {err}") from err
    # The size comes from the header: check it before any pixel is decoded (decompression bombs).
    w, h = img.size
    if w <= 0 or h <= 0:
        img.close()
        raise DataError(f"image {path} has an invalid size {w}x{h}")
    if w * h > max_pixels:
        img.close()
        raise DataError(f"image {path} is {w}x{h} = {w * h} pixels, over the limit of {max_pixels}")
    return img


def image_size(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[int, int]:
    """``(width, height)`` of an image from its header only (nothing is decoded)."""
    img = _open_checked(path, max_pixels)
    size = img.size
    img.close()
    return size


def read_image(
    path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS, mode: str = "RGB"
) -> Image.Image:
    """Read an image fully into memory and convert it to ``mode`` (RGB by default).

    Raises :class:`DataError` naming the file when it is missing, zero-byte, not an image, truncated or
    corrupt, or larger than ``max_pixels`` (checked from the header before decoding).
    """
    img = _open_checked(path, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img.load()  # truncated files raise OSError here (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
            out = img.convert(mode) if img.mode != mode else img.copy()
    except (OSError, SyntaxError, ValueError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"cannot decode image {path} (truncated or corrupt): {msg}") from err
    finally:
        img.close()
    return out


def read_binary_mask(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """A CelebAMask-HQ part mask (white on black PNG) -> bool ``[H, W]``; present = first channel > 0."""
    img = _open_checked(path, max_pixels)
    try:
        img.load()
        arr = np.asarray(img.convert("RGB") if img.mode in ("P", "PA") else img)
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError(f"cannot decode mask {path} (truncated or corrupt): {err}") from err
    finally:
        img.close()
    if arr.ndim == 3:
        arr = arr[..., 0]
    return arr > 0


def load_photo(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an RGB uint8 array ``[H, W, 3]`` (EXIF orientation applied)."""
    img = read_image(path)
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the rotation
        log.debug("ignoring unreadable EXIF orientation of %s", path)
    return np.asarray(img.convert("RGB"))


def save_photo(array: np.ndarray, path: str | os.PathLike) -> None:
    """Write an RGB uint8 array ``[H, W, 3]`` (JPEG/WebP at quality 95; PNG for unknown suffixes);
    atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = PHOTO_FORMATS.get(path.suffix.lower(), "PNG")
    with atomic_path(path) as tmp:
        kwargs = {"quality": 95} if fmt in ("JPEG", "WEBP") else {}
        Image.fromarray(array).save(tmp, format=fmt, **kwargs)
