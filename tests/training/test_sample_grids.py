from __future__ import annotations

import numpy as np
import torch

from secgan.data.attributes import attribute_edit_targets
from secgan.training.sample_grids import compose_grid


def test_edit_targets_follow_the_conflict_rules():
    attrs = ["Bald", "Bangs", "Black_Hair", "Blond_Hair", "Brown_Hair", "Male"]
    y = torch.tensor([[0, 1, 1, 0, 0, 1.0]])
    t = attribute_edit_targets(y, attrs)
    assert len(t) == 6
    assert t[0].tolist() == [[1, 0, 1, 0, 0, 1]]  # Bald on -> Bangs off
    assert t[1].tolist() == [[0, 0, 1, 0, 0, 1]]  # Bangs off: nothing else changes
    assert t[2].tolist() == [[0, 1, 0, 0, 0, 1]]  # Black off
    assert t[3].tolist() == [[0, 1, 0, 1, 0, 1]]  # Blond on -> other hair colours off
    assert t[5].tolist() == [[0, 1, 1, 0, 0, 0]]
    y2 = torch.tensor([[1, 0, 0, 0, 0, 0.0]])
    assert attribute_edit_targets(y2, attrs)[1].tolist() == [[0, 1, 0, 0, 0, 0]]  # Bangs on -> Bald off
    oh = attribute_edit_targets(torch.eye(3)[[0]], ["a", "b", "c"], onehot=True)
    assert [t.tolist() for t in oh] == [[[1, 0, 0]], [[0, 1, 0]], [[0, 0, 1]]]


def test_edit_targets_mustache_turns_no_beard_off():
    attrs = ["Male", "Mustache", "No_Beard"]
    t = attribute_edit_targets(torch.tensor([[1, 0, 1.0]]), attrs)
    assert t[1].tolist() == [[1, 1, 0]]  # Mustache on -> No_Beard off (AttGAN-PyTorch's rule)
    t = attribute_edit_targets(torch.tensor([[1, 1, 0.0]]), attrs)
    assert t[2].tolist() == [[1, 0, 1]]  # No_Beard on -> Mustache off
    assert t[1].tolist() == [[1, 0, 0]]  # Mustache off: nothing else changes


def test_grid_layout():
    x = torch.zeros(2, 3, 8, 8)
    edits = [torch.ones(2, 3, 8, 8), -torch.ones(2, 3, 8, 8)]
    g = compose_grid(x, edits, pad=2)
    assert g.shape == (2 * 10 + 2, 3 * 10 + 2, 3) and g.dtype == np.uint8
    assert (g[2:10, 12:20] == 255).all() and (g[2:10, 22:30] == 0).all()
    m = torch.zeros(2, 8, 8, dtype=torch.long)
    g2 = compose_grid(x, edits, masks_in=m, masks_out=[m, m], pad=2)
    assert g2.shape == (4 * 10 + 2, 32, 3)
