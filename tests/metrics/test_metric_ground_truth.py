"""Ground-truth edit metrics on hand-made images with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from secgan.metrics.ground_truth import (
    METRICS,
    PSNR_CAP,
    GroundTruthCounter,
    changed_segments,
    edit_error,
    ground_truth_metrics,
    mean_iou,
    nanmean,
    preservation,
    shape_iou,
)

SKIN, HAIR, EYES = 0, 10, 2


def _masks():
    """4x4: the source is all skin; the counterfactual grows hair over the top row; the parser finds hair in
    only the first two pixels of it."""
    src = torch.full((1, 4, 4), SKIN)
    dst = src.clone()
    dst[0, 0] = HAIR
    parsed = src.clone()
    parsed[0, 0, :2] = HAIR
    return src, dst, parsed


def test_shape_iou_pools_the_changed_segments():
    src, dst, parsed = _masks()
    assert changed_segments(src, dst)[0].nonzero().flatten().tolist() == [SKIN, HAIR]
    # hair: inter 2, union 4; skin: inter 12, union 14 -> (2 + 12) / (4 + 14)
    assert shape_iou(parsed, dst, src).item() == pytest.approx(14 / 18)
    assert shape_iou(dst, dst, src).item() == 1.0
    # eyes are no changed segment: a pixel parsed as eyes only costs skin its intersection (11 / 14)
    parsed_eyes = parsed.clone()
    parsed_eyes[0, 3, 3] = EYES
    assert shape_iou(parsed_eyes, dst, src).item() == pytest.approx((2 + 11) / (4 + 14))


def test_shape_iou_is_nan_for_a_colour_edit_and_miou_known():
    src, dst, parsed = _masks()
    assert math.isnan(shape_iou(parsed, src, src).item())
    assert mean_iou(parsed, dst).item() == pytest.approx((12 / 14 + 2 / 4) / 2)
    assert mean_iou(dst, dst).item() == 1.0


def test_batched_values_are_per_image():
    src, dst, parsed = _masks()
    got = shape_iou(torch.cat([parsed, dst]), torch.cat([dst, src]), torch.cat([src, src]))
    assert got[0].item() == pytest.approx(14 / 18) and math.isnan(got[1].item())


def test_edit_error_and_preservation_known_answers():
    target = torch.zeros(2, 3, 4, 4)
    source = torch.full((2, 3, 4, 4), 0.5)
    changed = torch.zeros(2, 4, 4, dtype=torch.bool)
    changed[:, :2] = True  # top half changed
    edited = torch.where(changed[:, None], target + 0.2, source - 0.1)
    l1, psnr = edit_error(edited, target, changed)
    assert l1.tolist() == pytest.approx([0.2, 0.2])
    assert psnr.tolist() == pytest.approx([20.0, 20.0])  # MSE on [0, 1]: (0.2 / 2)^2 = 0.01
    l1, psnr = preservation(edited, source, changed)
    assert l1.tolist() == pytest.approx([0.1, 0.1])
    assert psnr.tolist() == pytest.approx([10 * math.log10(1 / 0.0025)] * 2)
    # empty region -> NaN edit error; everything changed -> NaN preservation; identical -> the cap
    none = torch.zeros_like(changed)
    assert torch.isnan(edit_error(edited, target, none)[0]).all()
    assert torch.isnan(preservation(edited, source, ~none)[1]).all()
    assert preservation(source, source, changed)[1].tolist() == [PSNR_CAP, PSNR_CAP]


def test_ground_truth_metrics_and_counter():
    src, dst, parsed = _masks()
    img = torch.zeros(1, 3, 4, 4)
    changed = dst != src
    m = ground_truth_metrics(img + 0.2, img, img, parsed, src, dst, changed)
    assert set(m) == set(METRICS) and all(v.shape == (1,) and v.dtype == np.float64 for v in m.values())
    assert m["shape_iou"][0] == pytest.approx(14 / 18) and m["edit_l1"][0] == pytest.approx(0.2)
    counter = GroundTruthCounter(["Bangs", "Black_Hair"])
    counter.update("Bangs", m)
    counter.update("Bangs", {k: np.array([np.nan]) if k == "shape_iou" else v for k, v in m.items()})
    counter.update("Black_Hair", ground_truth_metrics(img, img, img, src, src, src, src != src))
    s = counter.summary()
    assert s["shape_iou"]["per_attribute"] == {"Bangs": pytest.approx(14 / 18), "Black_Hair": None}
    assert s["shape_iou"]["mean"] == pytest.approx(14 / 18)  # the undefined attribute is left out
    assert s["preserve_psnr"]["per_attribute"]["Black_Hair"] == PSNR_CAP
    per = counter.per_image("shape_iou")
    assert per.shape == (2, 2) and np.isnan(per[1]).all()
    assert nanmean([np.nan, 1.0, 3.0]) == 2.0 and nanmean([np.nan]) is None
