"""One intra-op thread for the trainer tests: on a small shared CPU, OpenMP threads spinning against each
other make tiny convolutions up to 40x slower than a single thread."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
