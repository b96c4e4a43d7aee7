"""The evaluation classifier network."""

from __future__ import annotations

import pytest
import torch

from secgan.errors import ConfigError
from secgan.models.classifier import AttributeClassifier
from secgan.models.registry import count_parameters


def test_reference_architecture_size_and_shapes():
    net = AttributeClassifier(13, image_size=128)
    # convs (no bias) + BN affine, FC 4096->512, FC 512->13
    widths, n_in, convs = (16, 32, 64, 128, 256), 3, 0
    for w in widths:
        convs += n_in * w * 9 + 2 * w + w * w * 9 + 2 * w
        n_in = w
    assert count_parameters(net) == convs + (256 * 4 * 4 * 512 + 512) + (512 * 13 + 13)
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    assert net(x).shape == (2, 13)
    assert net.features(x).shape == (2, 512) and (net.features(x) >= 0).all()


def test_tiny_classifier_and_bad_size():
    net = AttributeClassifier(8, image_size=32, widths=(4, 8), fc_dim=16, multilabel=False)
    assert net(torch.randn(3, 3, 32, 32)).shape == (3, 8)
    with pytest.raises(ConfigError):
        AttributeClassifier(3, image_size=100)
