"""GroundTruthScorer on a small synthetic set: a perfect edit scores perfectly, doing nothing preserves
perfectly, and a set without counterfactuals gives no scorer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.data.counterfactuals import load_counterfactual
from secgan.data.registry import build_dataset
from secgan.data.synthetic import write_dataset
from secgan.metrics.ground_truth import PSNR_CAP
from secgan.metrics.ground_truth_eval import GroundTruthScorer

S = 64
SHAPE = ("Bald", "Bangs", "Eyeglasses", "Mouth_Slightly_Open", "Bushy_Eyebrows")


class _ListParser:
    """Returns fixed masks, as a parser that parses perfectly would."""

    def __init__(self, masks: torch.Tensor) -> None:
        self.masks = masks

    def labels12(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[0] == self.masks.shape[0]
        return self.masks


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("gt") / "synth"
    write_dataset(root, 30, seed=4, workers=1, progress=False, counterfactual_splits=("test",))
    ds = build_dataset("celeba", root, split="test", image_size=S)
    x = torch.stack([ds.load(i)["image"] for i in range(len(ds))])
    return root, list(ds.names), x


def test_perfect_and_identity_edits(data):
    root, names, x = data
    perfect = GroundTruthScorer.maybe(root, "test", PAPER_ATTRIBUTES, S)
    identity = GroundTruthScorer(root, "test", PAPER_ATTRIBUTES, S)
    rows = []
    for a in PAPER_ATTRIBUTES:
        cfs = [load_counterfactual(root, n, a, S) for n in names]
        target = torch.stack([c[0] for c in cfs])
        rows.append(perfect.update(a, names, x, target, _ListParser(torch.stack([c[1] for c in cfs]))))
        perfect.add_examples(a, names[:2])
        assert set(identity.update(a, names, x, x, None)) == {
            "edit_l1",
            "edit_psnr",
            "preserve_l1",
            "preserve_psnr",
        }
    s = perfect.summary()
    assert s["images"] == 3 and s["missing"] == 0
    assert s["edit_l1"]["mean"] == 0.0 and s["edit_psnr"]["mean"] == PSNR_CAP
    assert s["edit_l1"]["higher_is_better"] is False and s["shape_iou"]["higher_is_better"] is True
    assert s["edit_psnr"]["unit"] == "dB"
    assert s["miou"]["mean"] == 1.0
    for a in SHAPE:
        assert s["shape_iou"]["per_attribute"][a] == 1.0
    for a in ("Black_Hair", "Blond_Hair", "Brown_Hair", "Pale_Skin"):
        assert s["shape_iou"]["per_attribute"][a] is None  # colour edits change no segment
    # outside the changed region the counterfactual is the source up to JPEG and resampling
    assert s["preserve_l1"]["mean"] < 0.02
    t = identity.summary()
    assert t["preserve_l1"]["mean"] == 0.0 and t["preserve_psnr"]["mean"] == PSNR_CAP
    assert t["edit_l1"]["mean"] > 0.05 and "shape_iou" not in t  # no parser: no shape metrics
    # per-image values, [B] per attribute, NaN where undefined
    assert all(r["edit_l1"].shape == (3,) and np.all(r["edit_l1"] == 0) for r in rows)
    assert np.isnan(rows[PAPER_ATTRIBUTES.index("Pale_Skin")]["shape_iou"]).all()
    ex = perfect.example_arrays()
    assert ex["counterfactuals"].shape == (13, 2, S, S, 3) and ex["counterfactuals"].dtype == np.uint8
    assert ex["counterfactual_masks"].shape == (13, 2, S, S) and ex["counterfactual_masks"].max() < 12
    assert identity.example_arrays() == {}  # no examples added


def test_no_counterfactuals_no_scorer(tmp_path, data):
    bare = tmp_path / "bare"
    write_dataset(bare, 10, seed=1, workers=1, progress=False, counterfactuals=False)
    assert GroundTruthScorer.maybe(bare, "test", PAPER_ATTRIBUTES, S) is None
    root, names, x = data
    assert GroundTruthScorer.maybe(root, "test", ["Smiling"], S) is None
    train = build_dataset("celeba", root, split="train").names
    assert GroundTruthScorer.maybe(root, "all", PAPER_ATTRIBUTES, S, train[:5]) is None  # no test image
    scorer = GroundTruthScorer(root, "test", ["Bald", "Smiling"], S)
    scorer.update("Smiling", names, x, x)
    assert scorer.summary() is None  # no edit had a counterfactual
    scorer.update("Bald", names, x, x)
    assert scorer.summary()["missing"] == 3 and scorer.summary()["images"] == 3
