"""Counterfactual augmentation of the evaluation classifier: only the training split's counterfactuals are
read (never a validation or test face's), each with its own labels, and the classifier's meta says so."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import secgan.data.counterfactuals as cf_mod
from secgan.auxiliary.batches import BatchSource
from secgan.auxiliary.classifier.augment import AugmentedSource, load_training_counterfactuals
from secgan.auxiliary.classifier.train import train_classifier
from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.data.registry import build_dataset
from secgan.data.synthetic import write_dataset
from secgan.errors import DataError

S = 32


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("aug") / "synth"
    write_dataset(root, 20, seed=6, size="64x80", workers=1, progress=False)  # 16 / 2 / 2
    return root


def _split(root, split):
    return list(build_dataset("celeba", root, split=split).names)


def test_training_counterfactuals_have_their_own_labels(data):
    names = _split(data, "train")
    images, labels, sources = load_training_counterfactuals(data, names, PAPER_ATTRIBUTES, S)
    assert images.shape == (16 * 13, 3, S, S) and images.dtype == torch.uint8
    src = build_dataset("celeba", data, split="train").labels
    for (k, a), y in zip(sources, labels, strict=True):
        col = PAPER_ATTRIBUTES.index(a)
        assert y[col] != src[k, col]  # the edited attribute is inverted in the counterfactual's label
    # the images are the loader's, quantised to 8 bits
    ref = cf_mod.load_counterfactual(data, names[3], sources[3][1], S)[0]
    assert (images[3].float() / 127.5 - 1 - ref).abs().max() <= 1 / 255 + 1e-6


def test_validation_or_test_faces_are_refused(data):
    for split in ("val", "test"):
        with pytest.raises(DataError, match="validation/test"):
            load_training_counterfactuals(
                data, _split(data, "train")[:2] + _split(data, split)[:1], ["Male"], S
            )


def test_augmented_epoch(data):
    ds = build_dataset("celeba", data, split="train", image_size=S)
    faces = BatchSource(ds, 5, preload=True)
    images = torch.zeros(40, 3, S, S, dtype=torch.uint8)
    labels = torch.ones(40, len(PAPER_ATTRIBUTES))
    src = AugmentedSource(faces, images, labels, per_face=0.5)
    assert len(src) == 16 + 8
    seen = list(src.batches(shuffle=True, generator=torch.Generator().manual_seed(0)))
    index = torch.cat([b["index"] for b in seen])
    assert (
        len(index) == 24
        and (index == -1).sum() == 8
        and sorted(index[index >= 0].tolist()) == list(range(16))
    )
    cf_rows = torch.cat([b["image"][b["index"] == -1] for b in seen])
    assert torch.all(cf_rows == -1.0)  # uint8 0 -> -1


def test_train_reads_only_training_counterfactuals(data, tmp_path, monkeypatch):
    asked: list[str] = []
    real = cf_mod.load_counterfactual_image

    def spy(root, name, attribute, image_size):
        asked.append(name)
        return real(root, name, attribute, image_size)

    monkeypatch.setattr(cf_mod, "load_counterfactual_image", spy)
    kw = dict(epochs=1, batch_size=8, widths=(4, 8), fc_dim=8, eval_split="val")
    res = train_classifier(data, "celeba", S, tmp_path / "aug", **kw)
    held_out = set(_split(data, "val")) | set(_split(data, "test"))
    assert asked and set(asked) <= set(_split(data, "train")) and not set(asked) & held_out
    assert res["augmentation"]["counterfactuals"] and res["augmentation"]["pool"] == 16 * 13
    assert res["train_items_per_epoch"] == 32
    meta = json.loads((tmp_path / "aug" / "config.json").read_text())
    assert meta["augmentation"]["per_epoch"] == 16
    asked.clear()
    res = train_classifier(data, "celeba", S, tmp_path / "plain", augment=False, **kw)
    assert (
        not asked and res["augmentation"] == {"counterfactuals": False} and res["train_items_per_epoch"] == 16
    )
    assert np.isfinite(res["mean_accuracy"])
