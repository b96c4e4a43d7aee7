"""The ceiling in and off the training distribution: which label pairs the training faces show, which
counterfactuals leave them, and the split counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from secgan.metrics.accuracy_ceiling import (
    CEILING_TARGET,
    DistributionCeiling,
    ceiling_keys,
    off_distribution,
    seen_pairs,
)

ATTRS = ["Male", "No_Beard", "Bald"]
# training faces: no woman with a beard (Male 0, No_Beard 0), no bald woman (Male 0, Bald 1)
TRAIN = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 1, 0], [1, 1, 1]], np.float32)


def test_seen_pairs_closed_form():
    seen = seen_pairs(TRAIN)
    assert seen.shape == (3, 3, 2, 2)
    assert not seen[0, 1, 0, 0] and not seen[1, 0, 0, 0]  # woman with a beard, both orders
    assert not seen[0, 2, 0, 1]  # bald woman
    assert seen[0, 1, 1, 0] and seen[0, 2, 1, 1] and seen[1, 2, 1, 1]
    assert seen[0, 0, 1, 1] and seen[0, 0, 0, 0] and not seen[0, 0, 0, 1]  # a label with itself: its values


def test_off_distribution_rows():
    seen = seen_pairs(TRAIN)
    rows = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0]])
    np.testing.assert_array_equal(off_distribution(rows, seen), [True, True, False, False, False])
    # a combination never seen whole but with every pair seen is in-distribution
    seen3 = seen_pairs(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1]]))
    assert not off_distribution(np.array([[1, 1, 1]]), seen3)[0]  # (1,1,1) unseen, its pairs all seen


def test_distribution_ceiling_counts_and_flags():
    d = DistributionCeiling(ATTRS, TRAIN)
    # edit Male (group 0): targets of 4 counterfactuals, 2 off-distribution
    targets = torch.tensor([[0, 0, 0], [0, 1, 1], [1, 0, 0], [0, 1, 0]], dtype=torch.float32)
    d.update(0, targets, torch.tensor([False, True, True, True]))
    d.update(1, torch.tensor([[1, 0, 0], [1, 1, 0]]), torch.tensor([True, True]))
    s = d.summary()
    assert s["ceiling_off_distribution"]["Male"] == 0.5 and s["ceiling_in_distribution"]["Male"] == 1.0
    assert (
        s["ceiling_in_distribution"]["No_Beard"] == 1.0 and s["ceiling_off_distribution"]["No_Beard"] is None
    )
    assert s["ceiling_in_distribution"]["Bald"] is None  # no Bald edit seen
    assert s["ceiling_distribution_counts"]["Male"] == {"in": 2, "off": 2}
    assert s["ceiling_below_target"] == ["Male"]  # 3 / 4 < 0.95; No_Beard 2 / 2
    assert CEILING_TARGET == 0.95


def test_ceiling_keys_without_counterfactuals():
    assert ceiling_keys(None) == {
        "ceiling_in_distribution": None,
        "ceiling_off_distribution": None,
        "ceiling_below_target": None,
    }
    assert ceiling_keys(DistributionCeiling(ATTRS, TRAIN))["ceiling_below_target"] is None


def test_bad_label_width():
    with pytest.raises(ValueError, match="3 columns"):
        DistributionCeiling(ATTRS, TRAIN[:, :2])
