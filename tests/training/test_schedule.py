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


def _official_stargan_lrs(base: float, num_iters: int, num_iters_decay: int) -> list[float]:
    """The lr each iteration of official StarGAN's training loop uses (its solver.py decay, re-enacted)."""
    lr, out = base, []
    for i in range(num_iters):
        out.append(lr)
        if (i + 1) % 1000 == 0 and (i + 1) > (num_iters - num_iters_decay):
            lr -= base / float(num_iters_decay)
    return out


def test_stargan_official_decay_is_the_reference_loop():
    want = _official_stargan_lrs(1e-4, 20_000, 10_000)
    got = [lr_at(s, 1e-4, 20_000, 10_000, "stargan_official") for s in range(1, 20_001)]
    assert got == pytest.approx(want, rel=1e-12, abs=1e-18)
    # the paper's setting: 200K iterations, decay from 100K -> still 99.9 % of the rate at the end
    assert lr_at(200_000, 1e-4, 200_000, 100_000, "stargan_official") == pytest.approx(1e-4 * 0.99901)
    assert lr_at(200_000, 1e-4, 200_000, 100_000, "linear") == 0.0  # the paper's (the default)
