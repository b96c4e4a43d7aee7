"""Safe image reading: every way a file can be unreadable becomes one :class:`DataError` naming it; and
the photo I/O of the editing commands and the web app (RGB uint8 arrays in and out)."""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
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
            src = _to_8bit(img) if img.mode.startswith(("I", "F")) else img
            out = src.convert(mode) if src.mode != mode else src.copy()
    except (OSError, SyntaxError, ValueError) as err:
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DataError(f"cannot decode image {path} (truncated or corrupt): {msg}") from err
    finally:
        img.close()
    return out


def _to_8bit(img: Image.Image) -> Image.Image:
    """A 16-bit (``I;16*``), 32-bit integer (``I``) or float (``F``) grayscale image as 8-bit ``L``.

    PIL's own ``convert("RGB")`` clips such values at 255, which turns a 16-bit photo all white: 16-bit
    data (values up to 65535) is scaled by 1/257, float data in [0, 1] by 255."""
    arr = np.asarray(img)
    if img.mode == "F":
        scaled = arr * 255.0 if float(arr.max(initial=0.0)) <= 1.0 else arr
    elif img.mode.startswith("I;16") or int(arr.max(initial=0)) > 255:
        scaled = arr.astype(np.float64) / 257.0
    else:
        scaled = arr
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8), mode="L")


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


# ------------------------------------------------------------------------------ photos kept as they came
@dataclass
class PhotoMeta:
    """What a photo file carried besides its RGB pixels, so that an edited copy can be written like it.

    ``mode``: the PIL mode read (``"RGB"``, ``"RGBA"``, ``"L"``, ``"LA"``, ...); ``alpha``: the alpha
    channel ``[H, W]`` uint8 (after the EXIF rotation) for modes with one, else ``None``; ``format``: PIL's
    format name; ``qtables`` / ``subsampling``: a JPEG's quantisation tables and chroma subsampling (the
    edited copy is encoded with the same ones, i.e. at the input's quality); ``icc_profile``: the colour
    profile bytes, if any; ``exif``: the EXIF block (camera, date, copyright...) without its orientation
    tag, which was applied to the pixels; ``gray16``: a 16-bit grayscale photo's own levels ``[H, W]``
    uint16 and ``gray8`` the 8-bit levels the editor saw, so an edit is written back at 16 bits
    (:func:`photo_image`); ``bits16_lost``: a 16-bit colour PNG (decoded at 8 bits by PIL)."""

    mode: str = "RGB"
    format: str | None = None
    alpha: np.ndarray | None = None
    qtables: dict | None = None
    subsampling: int | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None
    gray16: np.ndarray | None = None
    gray8: np.ndarray | None = None
    bits16_lost: bool = False


# Modes written back as they came (edited in RGB, converted back); others are written as RGB.
KEPT_MODES = ("RGB", "RGBA", "L", "LA")


def read_photo(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, PhotoMeta]:
    """A photo as RGB uint8 ``[H, W, 3]`` (EXIF orientation applied) and its :class:`PhotoMeta`.

    Raises :class:`DataError` naming the file for the reasons listed in :func:`read_image`.
    """
    img = _open_checked(path, max_pixels)
    meta = PhotoMeta(mode=img.mode, format=img.format, icc_profile=img.info.get("icc_profile"))
    meta.exif = _exif_without_orientation(img)
    meta.bits16_lost = img.format == "PNG" and _png_colour_16bit(path)
    if img.format == "JPEG":
        from PIL import JpegImagePlugin

        meta.qtables = {k: list(v) for k, v in getattr(img, "quantization", {}).items()} or None
        sampling = JpegImagePlugin.get_sampling(img)
        meta.subsampling = sampling if sampling >= 0 else None
    img.close()
    full = read_image(path, max_pixels, mode=_decode_mode(meta.mode))
    try:
        full = ImageOps.exif_transpose(full)
    except Exception:  # noqa: BLE001 - a broken EXIF block only loses the rotation
        log.debug("ignoring unreadable EXIF orientation of %s", path)
    if full.mode in ("RGBA", "LA"):
        meta.alpha = np.asarray(full.getchannel("A")).copy()
    if meta.mode.startswith("I;16") or meta.mode == "I":
        meta.gray16, meta.gray8 = _gray16(path, max_pixels), np.asarray(full.convert("L")).copy()
    return np.asarray(full.convert("RGB")), meta


def _exif_without_orientation(img: Image.Image) -> bytes | None:
    """The EXIF block of an opened image with its orientation tag removed (it is applied to the pixels);
    ``None`` when there is none or it cannot be read."""
    try:
        exif = img.getexif()
        if not exif:
            return None
        exif.pop(0x0112, None)  # Orientation
        return exif.tobytes()
    except Exception:  # noqa: BLE001 - a broken EXIF block is dropped, the photo is still edited
        return None


def _png_colour_16bit(path: str | os.PathLike) -> bool:
    """Whether a PNG stores 16-bit colour (IHDR bit depth 16, colour type RGB/RGBA/gray+alpha), which PIL
    decodes at 8 bits."""
    with open(path, "rb") as fh:
        head = fh.read(26)
    return len(head) == 26 and head[24] == 16 and head[25] in (2, 4, 6)


def _gray16(path: str | os.PathLike, max_pixels: int) -> np.ndarray:
    """A 16-bit grayscale photo's levels ``[H, W]`` uint16, EXIF orientation applied."""
    img = _open_checked(path, max_pixels)
    try:
        img.load()
        arr = np.asarray(ImageOps.exif_transpose(img) or img)
    except (OSError, SyntaxError, ValueError) as err:
        raise DataError(f"cannot decode image {path} (truncated or corrupt): {err}") from err
    finally:
        img.close()
    return np.clip(arr, 0, 65535).astype(np.uint16)


def _decode_mode(mode: str) -> str:
    """The mode a photo is decoded to before its RGB view is taken (keeps the alpha channel)."""
    if mode in KEPT_MODES:
        return mode
    if mode in ("P", "PA") or mode.endswith("A"):
        return "RGBA"
    return "RGB"


def photo_image(rgb: np.ndarray, meta: PhotoMeta | None = None) -> Image.Image:
    """RGB uint8 ``[H, W, 3]`` -> a PIL image in the input's mode: grayscale stays single-channel (the
    luma of the edit), an alpha channel is put back untouched."""
    img = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8), "RGB")
    if meta is None:
        return img
    if meta.gray16 is not None and meta.gray16.shape == rgb.shape[:2] and meta.gray8 is not None:
        # 16-bit grey: the input's own levels plus the edit's change (x 257), exact where nothing changed
        change = np.asarray(img.convert("L"), np.int32) - meta.gray8.astype(np.int32)
        levels = np.clip(meta.gray16.astype(np.int32) + 257 * change, 0, 65535).astype(np.uint16)
        return Image.fromarray(levels)
    grey = meta.mode in ("L", "LA", "1") or meta.mode.startswith(("I", "F"))  # float: written 8-bit
    base = "L" if grey else "RGB"
    img = img.convert(base) if base != "RGB" else img
    if meta.alpha is not None and meta.alpha.shape == rgb.shape[:2]:
        img.putalpha(Image.fromarray(meta.alpha, "L"))
    return img


def write_photo(rgb: np.ndarray, path: str | os.PathLike, meta: PhotoMeta | None = None) -> None:
    """Write a photo atomically in the format its suffix names, in the input's mode (see
    :func:`photo_image`); a JPEG is encoded with the input JPEG's quantisation tables (its quality), else at
    quality 95; a colour profile is kept. A mode the format cannot store (alpha in JPEG) is dropped."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = PHOTO_FORMATS.get(path.suffix.lower(), "PNG")
    img = photo_image(rgb, meta)
    kwargs: dict = {}
    if img.mode.startswith("I") and fmt not in ("PNG", "TIFF"):
        log.warning("%s: a 16-bit photo is written at 8 bits (%s stores no 16-bit grey)", path, fmt)
        img = photo_image(rgb, PhotoMeta(mode="L", alpha=None))
    if meta is not None and meta.bits16_lost:
        log.warning("%s: the input is a 16-bit colour PNG, read and written at 8 bits per channel", path)
    if meta is not None and meta.exif and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        kwargs["exif"] = meta.exif
    if fmt == "JPEG":
        if img.mode not in ("RGB", "L"):
            img = img.convert("RGB")
        if meta is not None and meta.qtables:
            kwargs["qtables"] = meta.qtables
            if meta.subsampling is not None:
                kwargs["subsampling"] = meta.subsampling
        else:
            kwargs["quality"] = 95
    elif fmt == "WEBP":
        kwargs["quality"] = 95
    elif fmt == "BMP" and img.mode == "LA":
        img = img.convert("L")
    if meta is not None and meta.icc_profile and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        kwargs["icc_profile"] = meta.icc_profile
    with atomic_path(path) as tmp:
        img.save(tmp, format=fmt, **kwargs)


def load_photo(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as an RGB uint8 array ``[H, W, 3]`` (EXIF orientation applied); see
    :func:`read_photo` for what else the file carried."""
    return read_photo(path)[0]


def save_photo(array: np.ndarray, path: str | os.PathLike, meta: PhotoMeta | None = None) -> None:
    """Write an RGB uint8 array ``[H, W, 3]`` atomically (PNG for unknown suffixes), like the photo
    ``meta`` describes when given (:func:`write_photo`), else JPEG/WebP at quality 95."""
    write_photo(array, path, meta)
