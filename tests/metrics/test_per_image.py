"""``per_image.npz``: round trip, the generic ground-truth keys, shape checks, atomic writes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from secgan.errors import ConfigError
from secgan.metrics.per_image import (
    PER_IMAGE_FILE,
    PerImage,
    PerImageRecorder,
    load_per_image,
    write_per_image,
)


def test_recorder_round_trip_with_ground_truth_keys(tmp_path) -> None:
    rec = PerImageRecorder(["Bald", "Bangs"])
    for names, ok, iou in ((["a.jpg", "b.jpg"], [1, 0], [0.5, np.nan]), (["c.jpg"], [1], [0.25])):
        rec.add_names(names)
        rec.add(0, torch.tensor(ok, dtype=torch.bool), shape_iou=torch.tensor(iou))
        rec.add(1, np.array(ok[::-1], dtype=bool))  # no ground truth recorded for Bangs
    path = rec.write(tmp_path)
    assert path == tmp_path / PER_IMAGE_FILE
    assert not [p for p in tmp_path.iterdir() if p.name != PER_IMAGE_FILE]  # no temporary left behind
    back = load_per_image(tmp_path)
    assert back.names == ["a.jpg", "b.jpg", "c.jpg"] and back.attributes == ["Bald", "Bangs"]
    assert back.acc_correct.tolist() == [[True, False], [False, True], [True, True]]
    assert set(back.gt) == {"shape_iou"}
    iou = back.gt["shape_iou"]
    assert iou[:, 0][[0, 2]].tolist() == [0.5, 0.25] and np.isnan(iou[1, 0])
    assert np.isnan(iou[:, 1]).all()  # never recorded: undefined, not zero


def test_shape_mismatch_and_missing_keys_name_the_file(tmp_path) -> None:
    bad = PerImage(["a", "b"], ["Bald"], np.zeros((2, 2), bool))
    with pytest.raises(ConfigError, match=r"acc_correct.*\[2 images, 1 attributes\]"):
        write_per_image(tmp_path / "x.npz", bad)
    with open(tmp_path / "y.npz", "wb") as fh:
        np.savez(fh, names=np.array(["a"]))
    with pytest.raises(ConfigError, match=r"y\.npz: missing attributes, acc_correct"):
        load_per_image(tmp_path / "y.npz")
    assert load_per_image(tmp_path / "nothing") is None


def test_a_partly_recorded_group_is_an_error() -> None:
    rec = PerImageRecorder(["Bald"])
    rec.add_names(["a", "b"])
    rec.add(0, np.array([True]))
    with pytest.raises(ValueError, match="'Bald': 1 values for 2 images"):
        rec.result()
