"""Image/mask transforms shared by the loaders: crop boxes, resize, joint horizontal flip, to-tensor.

A *box* is ``(left, top, right, bottom)`` in pixels of the full image (PIL's convention). Images are
resized bilinearly (PIL's antialiased filter, as torchvision does for PIL images), label maps with nearest
neighbour, so a mask always stays a valid label map aligned with its image.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

Box = tuple[int, int, int, int]

# RaFD reference head crop on the 681x1024 (w x h) originals: rows 170:770, cols 40:640 (paper-notes §6).
RAFD_REF_SIZE = (681, 1024)
RAFD_REF_BOX: Box = (40, 170, 640, 770)


def center_square_box(width: int, height: int, side: int | None = None) -> Box:
    """The centred square of ``side`` (default ``min(width, height)``), rounded like torchvision's
    ``CenterCrop``: CelebA's 178x218 with side 178 gives ``(0, 20, 178, 198)``."""
    side = min(width, height) if side is None else min(side, width, height)
    top = int(round((height - side) / 2.0))
    left = int(round((width - side) / 2.0))
    return (left, top, left + side, top + side)


def celeba_box(width: int, height: int) -> Box:
    """CelebA preprocessing (paper): centre crop 178x178; for other sizes the centred ``min(w, h)``
    square (which is the same thing at 178x218)."""
    return center_square_box(width, height)


def rafd_box(width: int, height: int) -> Box:
    """RaFD head crop: the reference box on 681x1024 images; on other sizes the reference box scaled
    proportionally (``x * w/681``, ``y * h/1024``; the side follows the width), clamped inside the image."""
    if (width, height) == RAFD_REF_SIZE:
        return RAFD_REF_BOX
    sx, sy = width / RAFD_REF_SIZE[0], height / RAFD_REF_SIZE[1]
    side = max(1, min(int(round(600 * sx)), width, height))
    left = min(max(int(round(40 * sx)), 0), width - side)
    top = min(max(int(round(170 * sy)), 0), height - side)
    return (left, top, left + side, top + side)


def scale_box(box: Box, src_size: tuple[int, int], dst_size: tuple[int, int]) -> Box:
    """Map a box from an image of ``src_size (w, h)`` onto one of ``dst_size`` (e.g. a 512 mask of a 1024 image)."""
    if src_size == dst_size:
        return box
    sx, sy = dst_size[0] / src_size[0], dst_size[1] / src_size[1]
    left, top, right, bottom = box
    return (int(round(left * sx)), int(round(top * sy)), int(round(right * sx)), int(round(bottom * sy)))


def crop_resize_image(img: Image.Image, box: Box, size: int) -> Image.Image:
    """Crop ``box`` and resize to ``size x size`` (bilinear, antialiased)."""
    if box != (0, 0, img.width, img.height):
        img = img.crop(box)
    if img.size != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    return img


def resize_label_map(labels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize of a uint8 label map ``[H, W]`` to ``size = (w, h)``."""
    if (labels.shape[1], labels.shape[0]) == tuple(size):
        return labels
    return np.asarray(Image.fromarray(labels).resize(size, Image.NEAREST))


def crop_resize_mask(labels: np.ndarray, box: Box, image_size: tuple[int, int], size: int) -> np.ndarray:
    """A label map ``[h, w]`` uint8 belonging to an image of ``image_size (w, h)``: bring it to the image's
    size (nearest) when it differs, crop ``box`` and resize to ``size x size`` (nearest)."""
    labels = resize_label_map(labels, image_size)
    left, top, right, bottom = box
    labels = labels[top:bottom, left:right]
    return resize_label_map(np.ascontiguousarray(labels), (size, size))


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    """PIL RGB image -> float tensor ``[3, H, W]`` in ``[-1, 1]``."""
    arr = np.asarray(img, dtype=np.uint8)
    t = torch.from_numpy(arr.copy()).permute(2, 0, 1).float()
    return t.div_(127.5).sub_(1.0)


def tensor_to_image(t: torch.Tensor) -> np.ndarray:
    """Float tensor ``[..., 3, H, W]`` in ``[-1, 1]`` -> uint8 ``[..., H, W, 3]`` (the one inverse of
    :func:`image_to_tensor`, for one image or a batch)."""
    arr = ((t.detach().cpu().float().clamp(-1, 1) + 1) * 127.5).round().byte()
    return arr.movedim(-3, -1).numpy()


def hflip(image: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Flip ``image [3, H, W]`` and (when given) ``mask [H, W]`` left-right together."""
    image = image.flip(-1)
    if mask is not None:
        mask = mask.flip(-1)
    return image, mask
