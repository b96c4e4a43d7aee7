"""examples.npz's recorder keeps exactly the first K test images across batches, in order."""

import numpy as np
import torch

from secgan.metrics.examples import ExampleRecorder


def test_recorder_keeps_the_first_k_images_across_batches():
    rec = ExampleRecorder(3, ["Bangs", "Male"], ["Bangs", "Male"], expressions=False)
    S = 4
    names = [f"{i:03d}.png" for i in range(6)]
    for start in (0, 2, 4):  # three batches of 2
        x = torch.full((2, 3, S, S), -1.0)
        x[:, 0] = torch.tensor([start, start + 1]).view(2, 1, 1) / 10  # red channel holds the index / 10
        take = rec.wanted(2)
        assert take == [2, 1, 0][start // 2]
        if take:
            y = torch.zeros(2, 2)
            rec.add_inputs(take, x, names[start : start + 2], y, torch.ones(2, S, S, dtype=torch.long))
            for g in range(2):
                y_trg = y.clone()
                y_trg[:, g] = 1
                rec.add_edit(take, g, -x, y_trg, torch.tensor([True, False]), None, torch.zeros(take, S, S))
    a = rec.arrays()
    assert list(a["names"]) == names[:3]
    assert a["images"].shape == (3, S, S, 3) and a["images"].dtype == np.uint8
    assert a["translations"].shape == (2, 3, S, S, 3)
    red = a["images"][:, 0, 0, 0].astype(int)  # (v + 1) / 2 * 255 for v = 0, 0.1, 0.2
    np.testing.assert_allclose(red, [127.5, 140.25, 153.0], atol=1)
    assert a["y_trg"].shape == (2, 3, 2) and a["y_trg"][1, :, 1].tolist() == [1, 1, 1]
    assert a["correct"].tolist() == [[True, False, True]] * 2
    assert a["mask_in"].shape == (3, S, S) and "mask_out" not in a
    assert a["mask_parsed_out"].shape == (2, 3, S, S)


def test_recorder_without_examples_writes_nothing():
    rec = ExampleRecorder(0, ["Bangs"], ["Bangs"], expressions=False)
    assert rec.wanted(8) == 0 and rec.arrays() == {}
