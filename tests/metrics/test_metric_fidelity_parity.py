"""FID and IS equal torch-fidelity's on the same images and the same FID-Inception weights file.

A randomly initialised network saved in the ``pt_inception-2015-12-05`` layout stands in for the real file
(torch-fidelity loads it from the path and downloads nothing). Its weights are scaled so activations keep
their size through the 90-odd layers and the fc bias is large, so a protocol slip (bias in the IS logits,
no uint8 quantisation, PyTorch's half-pixel resize, another split shuffle) moves the numbers by far more
than the tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from secgan.errors import WeightsError
from secgan.metrics.frechet import FrechetReference, GaussianAccumulator
from secgan.metrics.inception import (
    FID_INCEPTION_FILE,
    InceptionV3,
    fid_inception_net,
    quantize_uint8,
    resize_bilinear_tf1,
)
from secgan.metrics.inception_score import InceptionScoreAccumulator, fidelity_split_of

torch_fidelity = pytest.importorskip("torch_fidelity")


def _random_fid_inception(path) -> None:
    """Random FID-Inception weights whose features depend on the image: the batch-norm statistics are
    calibrated on a batch of images (each layer normalised to zero mean, unit variance), so the input's
    signal is not washed out through the depth of the network; the fc bias is large."""
    torch.manual_seed(0)
    net = fid_inception_net()
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the calibration batch
    net.train()
    with torch.no_grad():
        net((resize_bilinear_tf1(quantize_uint8(_images(16, 99)).float(), 299) - 128) / 128)
    net.eval()
    w = torch.randn(1008, 2048) * 20 / 2048**0.5
    net.fc.weight.data.copy_(w - w.mean(1, keepdim=True))  # logits that vary with the image: IS ~ 3-4
    nn.init.normal_(net.fc.bias, std=3.0)
    torch.save(net.state_dict(), path)


def _images(n: int, seed: int, size: int = 40) -> torch.Tensor:
    """Smooth random images ``[n, 3, size, size]`` in ``[-1, 1]`` (not on the uint8 grid)."""
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, 3, 6, 6, generator=g) * 2 - 1
    return F.interpolate(low, size=(size, size), mode="bicubic", align_corners=False).clamp(-1, 1)


class _U8(torch.utils.data.Dataset):
    def __init__(self, x: torch.Tensor) -> None:
        self.x = quantize_uint8(x)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.x[i]


@pytest.mark.slow
def test_fid_and_is_match_torch_fidelity(tmp_path):
    path = tmp_path / FID_INCEPTION_FILE
    _random_fid_inception(path)
    fake, real = _images(24, 1), _images(20, 2)
    splits = 4

    ext = InceptionV3(path)
    with torch.no_grad():
        of, orl = ext(fake), ext(real)
    acc_f, acc_r = GaussianAccumulator(), GaussianAccumulator()
    acc_f.update(of["features"])
    acc_r.update(orl["features"])
    fid = FrechetReference(*acc_r.compute()).distance(*acc_f.compute())
    is_acc = ext.is_accumulator(len(fake), splits, seed=123)  # the seed is torch-fidelity's, not ours
    is_acc.update(of["probs"])
    ours_is = is_acc.compute()

    ref = torch_fidelity.calculate_metrics(
        input1=_U8(fake), input2=_U8(real), cuda=False, isc=True, fid=True, isc_splits=splits,
        feature_extractor_weights_path=str(path), verbose=False, batch_size=16,
    )  # fmt: skip
    assert ref["frechet_inception_distance"] > 1 and ref["inception_score_mean"] > 1.5  # not degenerate
    assert fid == pytest.approx(ref["frechet_inception_distance"], abs=1e-3)
    assert ours_is["mean"] == pytest.approx(ref["inception_score_mean"], abs=1e-3)
    assert ours_is["std"] == pytest.approx(ref["inception_score_std"], abs=1e-3)

    # The protocol is what makes them equal: the biased logits alone shift IS by far more than 1e-3.
    with torch.no_grad():
        pool = of["features"]
        biased = torch.softmax((pool @ ext.net.fc.weight.T + ext.net.fc.bias).double(), 1)
    wrong = ext.is_accumulator(len(fake), splits, seed=0)
    wrong.update(biased)
    assert abs(wrong.compute()["mean"] - ref["inception_score_mean"]) > 1e-2
    p = ext.protocol()
    assert p["protocol"] == "torch-fidelity" and "unbiased" in p["is_logits"] and "uint8" in p["quantisation"]


def test_tf1_resize_samples_without_half_pixel_offset():
    x = torch.arange(4.0).view(1, 1, 1, 4).expand(1, 1, 4, 4).contiguous()
    up = resize_bilinear_tf1(x, 8)  # source coordinate i * 4 / 8 = i / 2
    assert up[0, 0, 0].tolist() == [0, 0.5, 1, 1.5, 2, 2.5, 3, 3]  # edge clamped, no half-pixel shift
    same = resize_bilinear_tf1(x, 4)
    assert torch.equal(same, x)
    down = resize_bilinear_tf1(torch.arange(8.0).view(1, 1, 1, 8).expand(1, 1, 8, 8), 4)
    assert down[0, 0, 0].tolist() == [0, 2, 4, 6]  # F.interpolate would give 0.5, 2.5, ...


def test_quantisation_rounds_to_the_uint8_grid():
    x = torch.tensor([-1.0, -0.999, 0.0, 0.5, 1.0, 1.5]).view(1, 1, 1, 6).expand(1, 3, 1, 6)
    assert quantize_uint8(x)[0, 0, 0].tolist() == [0, 0, 128, 191, 255, 255]


@pytest.mark.parametrize("total,splits", [(15, 10), (24, 4), (1003, 10), (7, 7)])
def test_fidelity_split_rule_equals_shuffle_then_chunks(total, splits):
    perm = np.random.RandomState(2020).permutation(total)
    want = np.empty(total, np.int64)
    for i in range(splits):
        want[perm[i * total // splits : (i + 1) * total // splits]] = i
    assert fidelity_split_of(total, splits, 2020).tolist() == want.tolist()
    acc = InceptionScoreAccumulator(total, splits, seed=2020, rule="torch-fidelity")
    assert acc.count.sum() == 0 and acc.split_of.max() == splits - 1


def test_imagenet_inception_is_not_accepted_as_the_fid_network(tmp_path):
    torch.save({"fc.weight": torch.zeros(1000, 2048), "fc.bias": torch.zeros(1000)}, tmp_path / "tv.pth")
    with pytest.raises(WeightsError, match="not the FID network"):
        InceptionV3(tmp_path / "tv.pth")
