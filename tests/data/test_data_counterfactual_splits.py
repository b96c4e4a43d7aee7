"""Counterfactuals of every split (version 2 of the index), a version-1 folder loading unchanged, and the
Bald edit taking a hat off."""

from __future__ import annotations

import json

import numpy as np
import pytest

from secgan.data.attributes import CELEBA_ATTRIBUTES, PAPER_ATTRIBUTES
from secgan.data.counterfactuals import (
    CF_DIR,
    counterfactual_labels,
    counterfactual_splits,
    load_counterfactual,
)
from secgan.data.registry import build_dataset
from secgan.data.synthetic import make_face, write_dataset
from secgan.data.synthetic.canvas import PARTS
from secgan.data.synthetic.counterfactual import render_counterfactuals
from secgan.errors import ConfigError


def test_every_split_gets_counterfactuals_by_default(tmp_path):
    root = tmp_path / "all"
    info = write_dataset(root, 20, seed=3, size="64x80", workers=1, progress=False)
    assert info["counterfactual_splits"] == ["train", "val", "test"] and info["counterfactuals"] == 20 * 13
    index = json.loads((root / CF_DIR / "info.json").read_text())
    assert index["version"] == 2 and index["images_per_split"] == {"train": 16, "val": 2, "test": 2}
    assert counterfactual_splits(root) == ["train", "val", "test"]
    files, names40, values = counterfactual_labels(root, "Male")
    assert len(files) == 20 and names40 == list(CELEBA_ATTRIBUTES)
    src = build_dataset("celeba", root, split="all")
    male = CELEBA_ATTRIBUTES.index("Male")
    flipped = (values[:, male] > 0) != (src.labels[:, PAPER_ATTRIBUTES.index("Male")].numpy() > 0.5)
    assert flipped.all()  # each row is its own face's Male edit
    for split in ("train", "val", "test"):
        name = build_dataset("celeba", root, split=split).names[0]
        assert load_counterfactual(root, name, "Bangs", 32) is not None, split


def test_chosen_splits_and_a_version_1_folder(tmp_path):
    root = tmp_path / "test_only"
    write_dataset(root, 10, seed=3, size="64x80", workers=1, progress=False, counterfactual_splits=["test"])
    assert counterfactual_splits(root) == ["test"]
    train_name = build_dataset("celeba", root, split="train").names[0]
    test_name = build_dataset("celeba", root, split="test").names[0]
    assert load_counterfactual(root, train_name, "Bald", 32) is None
    got = load_counterfactual(root, test_name, "Bald", 32)
    # the index as written before version 2: a folder written then loads unchanged
    index = json.loads((root / CF_DIR / "info.json").read_text())
    old = {"version": 1, "split": "test", "attributes": index["attributes"], "images": index["images"]}
    (root / CF_DIR / "info.json").write_text(json.dumps(old))
    assert counterfactual_splits(root) == ["test"]
    again = load_counterfactual(root, test_name, "Bald", 32)
    assert all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(got, again, strict=True))
    with pytest.raises(ConfigError, match="valid: train, val, test"):
        write_dataset(tmp_path / "bad", 4, workers=1, progress=False, counterfactual_splits=["dev"])


def test_bald_takes_the_hat_off():
    hatted = []
    for i in range(400):
        face = make_face(11, i, 89, 109)
        if face[0].hat:
            hatted.append((i, face))
        if len(hatted) == 3:
            break
    assert len(hatted) == 3
    for i, face in hatted:
        assert (face[2] == PARTS["hat"]).any()
        (cf,) = render_counterfactuals(11, i, 89, 109, ["Bald"], face=face)
        assert cf.spec.bald and not cf.spec.hat
        assert not (cf.labels == PARTS["hat"]).any()  # the skull shows: no hat pixel is left
        assert (cf.labels == PARTS["skin"]).sum() > (face[2] == PARTS["skin"]).sum()
