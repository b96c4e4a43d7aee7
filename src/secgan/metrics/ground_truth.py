"""Ground-truth edit metrics against rendered counterfactuals (synthetic data, ``secgan synth``).

Pure, batched functions. Inputs per image ``n`` of a batch of ``N``:

- ``edited``, ``source``, ``target``: images ``[N, 3, H, W]`` in ``[-1, 1]`` (the edit G(x, c), the input x,
  the counterfactual ground truth);
- ``parsed``: the parser's 12-segment map of the edited image ``[N, H, W]`` (long);
- ``source_mask``, ``target_mask``: ground-truth 12-segment maps of the input and of the counterfactual;
- ``changed``: the counterfactual's changed region ``[N, H, W]`` (bool).

Definitions (each returns one value per image, ``[N]`` float64):

- **shape IoU**: the segments the edit changes are ``K = {k : (source_mask == k) != (target_mask == k)
  somewhere}``; ``shape_iou = sum_k |P_k & G_k| / sum_k |P_k | G_k|`` over ``k`` in ``K`` (``P`` = parsed,
  ``G`` = target mask): the IoU of the changed segments pooled, so a segment of a few pixels cannot swing
  it. ``K`` empty (a colour edit) -> NaN.
- **mIoU**: the mean over the segments present in ``P`` or ``G`` of ``|P_k & G_k| / |P_k | G_k|``.
- **edit error**: L1 on ``[-1, 1]`` (mean over channels and pixels) and PSNR on ``[0, 1]``
  (``10 log10(1 / MSE)``) between ``edited`` and ``target`` inside ``changed``; empty region -> NaN.
- **preservation**: the same between ``edited`` and ``source`` outside ``changed``; empty -> NaN.

PSNR is capped at :data:`PSNR_CAP` dB (identical pixels). NaN marks "not defined for this image" and is left
out of every mean (:func:`nanmean`).

The shape metrics depend on the parser that gives ``parsed``. ``shape_iou`` and ``miou`` use the training
parser, the one SeCGAN's consistency loss trains through; ``judge_shape_iou`` and ``judge_miou`` are the
same definitions with ``parsed`` from an independent evaluation parser (another architecture and seed,
``secgan evaluate --judge-parser``), so an editor cannot score by pleasing the parser it was trained with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from secgan.data.masks import NUM_SEGMENTS
from secgan.metrics.registry import GROUND_TRUTH

PSNR_CAP = 100.0  # dB, the PSNR of identical pixels (MSE floor 1e-10)
METRICS = ("shape_iou", "miou", "edit_l1", "edit_psnr", "preserve_l1", "preserve_psnr")
JUDGE_METRICS = ("judge_shape_iou", "judge_miou")  # shape_iou and miou with the judge's parse
ALL_METRICS = METRICS + JUDGE_METRICS
# direction (higher is better) and unit of each, from the metric registry
DIRECTIONS = {m: GROUND_TRUTH[m].higher_is_better for m in ALL_METRICS}
UNITS = {m: GROUND_TRUTH[m].unit for m in ALL_METRICS}


def changed_segments(
    source_mask: torch.Tensor, target_mask: torch.Tensor, num: int = NUM_SEGMENTS
) -> torch.Tensor:
    """``[N, num]`` bool: segment ``k`` of image ``n`` covers different pixels before and after the edit."""
    src = torch.nn.functional.one_hot(source_mask.long(), num).bool()  # [N, H, W, num]
    dst = torch.nn.functional.one_hot(target_mask.long(), num).bool()
    return (src ^ dst).flatten(1, 2).any(1)


def _inter_union(
    parsed: torch.Tensor, target_mask: torch.Tensor, num: int
) -> tuple[torch.Tensor, torch.Tensor]:
    p = torch.nn.functional.one_hot(parsed.long(), num).flatten(1, 2)  # [N, HW, num]
    g = torch.nn.functional.one_hot(target_mask.long(), num).flatten(1, 2)
    inter = (p & g).sum(1).double()  # [N, num]
    union = (p | g).sum(1).double()
    return inter, union


def shape_iou(
    parsed: torch.Tensor, target_mask: torch.Tensor, source_mask: torch.Tensor, num: int = NUM_SEGMENTS
) -> torch.Tensor:
    """Pooled IoU ``[N]`` of the parsed edit and the counterfactual over the segments the edit changes."""
    k = changed_segments(source_mask, target_mask, num).double()
    inter, union = _inter_union(parsed, target_mask, num)
    den = (union * k).sum(1)
    out = (inter * k).sum(1) / den.clamp_min(1)
    return torch.where(den > 0, out, torch.full_like(out, math.nan))


def mean_iou(parsed: torch.Tensor, target_mask: torch.Tensor, num: int = NUM_SEGMENTS) -> torch.Tensor:
    """Per-image mIoU ``[N]`` over the segments present in the parsed map or the ground truth."""
    inter, union = _inter_union(parsed, target_mask, num)
    present = union > 0
    iou = torch.where(present, inter / union.clamp_min(1), torch.zeros_like(inter))
    return iou.sum(1) / present.sum(1).clamp_min(1)


def _region_errors(
    a: torch.Tensor, b: torch.Tensor, region: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """L1 on [-1, 1] and PSNR on [0, 1] ``[N]`` between images ``a``, ``b`` ``[N, 3, H, W]`` over ``region``."""
    w = region.to(torch.float64).unsqueeze(1)  # [N, 1, H, W]
    n = w.flatten(1).sum(1) * a.shape[1]  # values in the region
    diff = a.double() - b.double()
    l1 = (diff.abs() * w).flatten(1).sum(1) / n.clamp_min(1)
    mse = ((diff / 2) ** 2 * w).flatten(1).sum(1) / n.clamp_min(1)  # on the [0, 1] scale
    psnr = (10 * torch.log10(1.0 / mse.clamp_min(10 ** (-PSNR_CAP / 10)))).clamp_max(PSNR_CAP)
    nan = torch.full_like(l1, math.nan)
    return torch.where(n > 0, l1, nan), torch.where(n > 0, psnr, nan)


def edit_error(
    edited: torch.Tensor, target: torch.Tensor, changed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(L1 [N], PSNR [N])`` of the edit against the counterfactual inside the changed region."""
    return _region_errors(edited, target, changed.bool())


def preservation(
    edited: torch.Tensor, source: torch.Tensor, changed: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(L1 [N], PSNR [N])`` of the edit against the input outside the changed region."""
    return _region_errors(edited, source, ~changed.bool())


def ground_truth_metrics(
    edited: torch.Tensor,
    source: torch.Tensor,
    target: torch.Tensor,
    parsed: torch.Tensor,
    source_mask: torch.Tensor,
    target_mask: torch.Tensor,
    changed: torch.Tensor,
) -> dict[str, np.ndarray]:
    """All of :data:`METRICS` for a batch: ``{name: float64 [N]}`` (NaN where undefined)."""
    e_l1, e_psnr = edit_error(edited, target, changed)
    p_l1, p_psnr = preservation(edited, source, changed)
    out = {
        "shape_iou": shape_iou(parsed, target_mask, source_mask),
        "miou": mean_iou(parsed, target_mask),
        "edit_l1": e_l1,
        "edit_psnr": e_psnr,
        "preserve_l1": p_l1,
        "preserve_psnr": p_psnr,
    }
    return {k: v.detach().cpu().numpy().astype(np.float64) for k, v in out.items()}


def nanmean(values: np.ndarray | Sequence[float]) -> float | None:
    """Mean of the non-NaN values; ``None`` when there are none (JSON-valid, unlike NaN)."""
    arr = np.asarray(values, dtype=np.float64)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if arr.size else None


class GroundTruthCounter:
    """Collects per-image metrics per attribute; summarises as per-attribute means and their unweighted mean
    over the attributes (like the editing accuracy). Per-image arrays are kept for paired bootstraps."""

    def __init__(self, attributes: Sequence[str]) -> None:
        self.attributes = list(attributes)
        self.values: dict[str, dict[str, list[np.ndarray]]] = {
            a: {m: [] for m in ALL_METRICS} for a in attributes
        }

    def update(self, attribute: str, metrics: dict[str, np.ndarray]) -> None:
        """Add a batch's per-image values (any subset of :data:`ALL_METRICS`)."""
        for m, v in metrics.items():
            self.values[attribute][m].append(np.asarray(v, np.float64))

    def per_image(self, metric: str) -> np.ndarray:
        """``[n_images, n_attributes]`` float64 (NaN where undefined), attributes in constructor order."""
        cols = [
            np.concatenate(self.values[a][metric]) if self.values[a][metric] else np.zeros(0)
            for a in self.attributes
        ]
        n = max((len(c) for c in cols), default=0)
        return np.stack([np.pad(c, (0, n - len(c)), constant_values=np.nan) for c in cols], 1)

    def summary(self) -> dict:
        """``{metric: {"per_attribute": {a: mean or None}, "mean": mean over attributes or None}}``."""
        out = {}
        for m in ALL_METRICS:
            per = {
                a: nanmean(np.concatenate(self.values[a][m])) if self.values[a][m] else None
                for a in self.attributes
            }
            defined = [v for v in per.values() if v is not None]
            out[m] = {"per_attribute": per, "mean": float(np.mean(defined)) if defined else None}
        return out
