"""Held-out reconstruction errors in closed form."""

from __future__ import annotations

import pytest
import torch

from secgan.metrics.reconstruction import ReconstructionMeter, reconstruction_errors


def test_closed_forms():
    x = torch.zeros(2, 3, 4, 4)
    x_rec = torch.zeros(2, 3, 4, 4)
    x_rec[0] += 0.2  # off by 0.2 on [-1, 1] = 0.1 on [0, 1]: MSE 0.01 -> 20 dB
    l1, psnr = reconstruction_errors(x, x_rec)
    assert l1.tolist() == pytest.approx([0.2, 0.0])
    assert psnr.tolist() == pytest.approx([20.0, 100.0])  # an exact copy scores the 1e-10 floor's 100 dB


def test_meter_averages_over_images_not_batches():
    meter = ReconstructionMeter()
    assert meter.summary() is None
    x = torch.zeros(3, 3, 2, 2)
    meter.update(x[:1], x[:1] + 0.2)  # one image at 20 dB
    meter.update(x[1:], x[1:])  # two exact copies at 100 dB
    s = meter.summary()
    assert s["images"] == 3 and s["psnr"] == pytest.approx((20 + 100 + 100) / 3)
    assert s["l1"] == pytest.approx(0.2 / 3)
