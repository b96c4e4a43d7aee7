"""Paste an edited face crop back into its photo: feathered masks, region masks, heat maps.

Masks here are float32 ``[S, S]`` in ``[0, 1]`` in crop coordinates (1 = take the edit). The feathered
box mask is 0 in a thin band along the crop border and ramps smoothly to 1 inside, so after warping back
the seam is invisible and no pixel outside the crop's footprint in the photo is touched.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from secgan.data.masks import SEGMENTS_12
from secgan.editing.align import crop_bbox, warp_from_crop

# How an edited crop goes back into its photo (``secgan edit --blend``); the first is the default.
BLEND_MODES = ("delta", "residual", "replace")
BLEND_HELP = {
    "delta": "add the upsampled edit G(x,c) - G(x,c0) (c0 asks for no change): only what the edit "
    "changes moves, the generator's reconstruction error cancels, a zero edit returns the photo unchanged",
    "residual": "add the upsampled G(x,c) - x: also pastes the generator's reconstruction error",
    "replace": "paste the upsampled G(x,c) itself: the crop's resolution and reconstruction error",
}

# Which of the 12 segments an edit of each attribute may touch; ``None`` = the whole face (global
# attributes such as age or gender). Attributes not listed also count as global.
ATTRIBUTE_REGIONS: dict[str, tuple[str, ...] | None] = {
    "Bald": ("hair", "skin", "others"),
    "Bangs": ("hair", "skin"),
    "Receding_Hairline": ("hair", "skin"),
    "Black_Hair": ("hair",),
    "Blond_Hair": ("hair",),
    "Brown_Hair": ("hair",),
    "Gray_Hair": ("hair",),
    "Straight_Hair": ("hair",),
    "Wavy_Hair": ("hair",),
    "Bushy_Eyebrows": ("eyebrows",),
    "Arched_Eyebrows": ("eyebrows",),
    "Eyeglasses": ("eyes", "eyeglasses", "eyebrows", "nose"),
    "Narrow_Eyes": ("eyes",),
    "Mouth_Slightly_Open": ("mouth", "lips"),
    "Smiling": ("mouth", "lips", "skin"),
    "Big_Lips": ("mouth", "lips"),
    "Wearing_Lipstick": ("lips",),
    "Mustache": ("lips", "mouth", "nose", "skin"),
    "No_Beard": ("skin", "lips", "mouth", "neck"),
    "Goatee": ("skin", "lips", "mouth", "neck"),
    "Sideburns": ("skin", "hair", "ears"),
    "Pale_Skin": ("skin", "nose", "ears", "neck"),
    "Rosy_Cheeks": ("skin",),
    "Big_Nose": ("nose", "skin"),
    "Pointy_Nose": ("nose", "skin"),
    "Wearing_Earrings": ("ears", "earrings"),
    "Wearing_Hat": ("hair", "others"),
    "Male": None,
    "Young": None,
}


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def feather_mask(size: int, margin: float = 0.04, feather: float = 0.12) -> np.ndarray:
    """Box mask ``[S, S]`` float32: 0 within ``margin * S`` of the border, a smooth ramp over the next
    ``feather * S`` pixels, 1 inside."""
    idx = np.arange(size, dtype=np.float32)
    d1 = np.minimum(idx, size - 1 - idx)  # distance to the nearest edge along one axis
    d = np.minimum(d1[:, None], d1[None, :])
    return _smoothstep((d - margin * size) / max(feather * size, 1e-6)).astype(np.float32)


def region_mask(
    labels12: np.ndarray, attributes: Iterable[str], grow: float = 0.06, blur: float = 0.04
) -> np.ndarray | None:
    """The part of the crop an edit of ``attributes`` should touch, from a 12-segment label map
    ``[S, S]`` (ids in SEGMENTS_12 order): the union of the attributes' segments, dilated by
    ``grow * S`` and blurred by ``blur * S``; float32 ``[S, S]`` in [0, 1]. ``None`` when one of the
    attributes is global (age, gender, ... or unknown), i.e. the whole face may change."""
    names: set[str] = set()
    for attr in attributes:
        segs = ATTRIBUTE_REGIONS.get(attr)
        if segs is None:
            return None
        names.update(segs)
    size = labels12.shape[0]
    ids = [SEGMENTS_12.index(n) for n in sorted(names)]
    mask = np.isin(np.asarray(labels12), ids).astype(np.uint8)
    r = max(1, round(grow * size))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    sigma = max(0.5, blur * size)
    return np.clip(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), sigma), 0.0, 1.0)


def crop_change(crop: np.ndarray, edited: np.ndarray, reference: np.ndarray | None, mode: str) -> np.ndarray:
    """What a blend mode adds to the crop, float32 ``[S, S, 3]``: ``edited - reference`` (``"delta"``),
    ``edited - crop`` (``"residual"``, ``"replace"``). All inputs are uint8 ``[S, S, 3]``."""
    if mode not in BLEND_MODES:
        raise ValueError(f"unknown blend mode {mode!r}; valid: {', '.join(BLEND_MODES)}")
    if mode == "delta":
        if reference is None:
            raise ValueError("blend mode 'delta' needs the generator's no-change output (reference)")
        return edited.astype(np.float32) - reference.astype(np.float32)
    return edited.astype(np.float32) - crop.astype(np.float32)


def paste_back(
    photo: np.ndarray,
    crop: np.ndarray,
    edited: np.ndarray,
    matrix: np.ndarray,
    alpha: np.ndarray,
    mode: str = "delta",
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """Blend an edited crop into the photo (returns a new uint8 ``[H, W, 3]``; ``photo`` is unchanged).

    Args:
        photo: ``[H, W, 3]`` uint8.
        crop, edited: the aligned crop fed to the model and its edit ``G(x, c)``, ``[S, S, 3]`` uint8.
        matrix: photo -> crop similarity ``[2, 3]``.
        alpha: ``[S, S]`` float in [0, 1] (feathered box, optionally times a region mask).
        mode: one of :data:`BLEND_MODES` (see :data:`BLEND_HELP`): ``"delta"`` adds the upsampled
            ``edited - reference`` to the photo, ``"residual"`` the upsampled ``edited - crop`` (both keep
            the photo's own detail where nothing changes: crops are usually smaller than the face in the
            photo); ``"replace"`` pastes the upsampled edited crop itself.
        reference: ``G(x, c0)`` ``[S, S, 3]`` uint8, the generator's output for "no change" (``"delta"``).

    Pixels outside the crop's footprint, or where ``alpha`` is 0, keep their exact values; with
    ``"delta"`` so does every pixel when ``edited == reference``.
    """
    change = crop_change(crop, edited, reference, mode)
    size = crop.shape[0]
    box = crop_bbox(matrix, size, photo.shape[:2])
    x0, y0, x1, y1 = box
    out = photo.copy()
    if x1 <= x0 or y1 <= y0:
        return out
    a = warp_from_crop(alpha.astype(np.float32), matrix, box)[..., None]
    region = photo[y0:y1, x0:x1].astype(np.float32)
    if mode == "replace":
        new = region * (1.0 - a) + a * warp_from_crop(edited.astype(np.float32), matrix, box)
    else:
        new = region + a * warp_from_crop(change, matrix, box)
    blended = np.clip(np.rint(new), 0, 255).astype(np.uint8)
    # exact copy wherever alpha is 0 (no rounding noise outside the feathered region)
    keep = a[..., 0] <= 0.0
    blended[keep] = photo[y0:y1, x0:x1][keep]
    out[y0:y1, x0:x1] = blended
    return out


def apply_to_crop(
    crop: np.ndarray, edited: np.ndarray, reference: np.ndarray | None, mode: str
) -> np.ndarray:
    """The edited aligned crop ``[S, S, 3]`` uint8 under a blend mode: ``crop + (edited - reference)``
    for ``"delta"`` (equal to ``crop`` when nothing changes), ``edited`` otherwise."""
    if mode == "delta":
        return np.clip(crop.astype(np.float32) + crop_change(crop, edited, reference, mode), 0, 255).astype(
            np.uint8
        )
    crop_change(crop, edited, reference, mode)  # validates the mode
    return edited


def blend_crops(crop: np.ndarray, edited: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``crop * (1 - alpha) + edited * alpha`` for aligned crops ``[S, S, 3]`` uint8 and ``alpha [S, S]``;
    pixels where ``alpha`` is 0 keep the crop's exact values."""
    a = alpha.astype(np.float32)[..., None]
    out = np.clip(np.rint(crop.astype(np.float32) * (1.0 - a) + edited.astype(np.float32) * a), 0, 255)
    out = out.astype(np.uint8)
    keep = alpha <= 0.0
    out[keep] = crop[keep]
    return out


def paste_labels(
    canvas: np.ndarray, labels12: np.ndarray, matrix: np.ndarray, alpha: np.ndarray
) -> np.ndarray:
    """Warp a crop's label map ``[S, S]`` back into a photo-sized label canvas ``[H, W]`` uint8 (255 = no
    face), where the feathered ``alpha`` is above one half; returns the updated canvas."""
    size = labels12.shape[0]
    box = crop_bbox(matrix, size, canvas.shape[:2])
    x0, y0, x1, y1 = box
    if x1 <= x0 or y1 <= y0:
        return canvas
    lab = warp_from_crop(labels12.astype(np.uint8), matrix, box, cv2.INTER_NEAREST, 255)
    inside = warp_from_crop(alpha.astype(np.float32), matrix, box) > 0.5
    region = canvas[y0:y1, x0:x1]
    region[inside] = lab[inside]
    return canvas


def difference_heatmap(before: np.ndarray, after: np.ndarray, floor: float = 32.0) -> np.ndarray:
    """``|after - before|`` averaged over channels as an RGB heat map ``[H, W, 3]`` uint8 (inferno-like
    colour map of OpenCV), normalised by ``max(max difference, floor)`` so that noise-level changes stay
    dark."""
    diff = np.abs(after.astype(np.float32) - before.astype(np.float32)).mean(axis=-1)
    scale = max(float(diff.max()), floor)
    grey = np.clip(diff / scale * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)


def colorize_labels(labels: np.ndarray) -> np.ndarray:
    """A 12-segment label map ``[H, W]`` (255 = none) -> RGB ``[H, W, 3]`` uint8 (black where none)."""
    from secgan.data.masks import colorize

    labels = np.asarray(labels)
    none = labels >= len(SEGMENTS_12)
    out = colorize(np.where(none, 0, labels))
    out[none] = 0
    return out
