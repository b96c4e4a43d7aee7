from __future__ import annotations

import pytest

from secgan.errors import ConfigError
from secgan.training.schedule import lr_at


def test_linear_decay_to_zero():
    # StarGAN: constant for the first half, then linear to 0 (paper §4.3).
    assert lr_at(1, 1e-4, 200_000, 100_000) == 1e-4
    assert lr_at(100_000, 1e-4, 200_000, 100_000) == 1e-4
    assert lr_at(150_000, 1e-4, 200_000, 100_000) == pytest.approx(5e-5)
    assert lr_at(200_000, 1e-4, 200_000, 100_000) == 0.0


def test_exponential_decay_to_final():
    args = dict(base_lr=2e-4, total=1000, decay_start=500, kind="exponential", final_lr=2e-6)
    assert lr_at(500, **args) == 2e-4
    assert lr_at(750, **args) == pytest.approx(2e-5)  # geometric midpoint
    assert lr_at(1000, **args) == pytest.approx(2e-6)
    vals = [lr_at(s, **args) for s in range(500, 1001, 50)]
    assert all(a > b for a, b in zip(vals, vals[1:]))


def test_constant_and_errors():
    assert lr_at(999, 3e-4, 1000, 10, "constant") == 3e-4
    with pytest.raises(ConfigError, match="unknown lr schedule"):
        lr_at(20, 1e-4, 100, 10, "cosine")
    with pytest.raises(ConfigError, match="final_lr"):
        lr_at(20, 1e-4, 100, 10, "exponential", 0.0)
