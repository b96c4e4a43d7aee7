"""Feature extractors load the public weight layouts strictly from local files and compute what the
reference networks compute (randomly initialised weights stand in for the real files)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torchvision.models import inception as tv_inception

from secgan.errors import WeightsError
from secgan.metrics.features import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    SWAV_FILE,
    ClassifierFeatures,
    SwAVResNet50,
)
from secgan.metrics.inception import InceptionV3, _pool_input, quantize_uint8, resize_bilinear_tf1
from secgan.models.classifier import AttributeClassifier


def _imagenet(x01: torch.Tensor) -> torch.Tensor:
    return (x01 - torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)) / torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def test_swav_loads_checkpoint_layout_and_matches_trunk(tmp_path):
    torch.manual_seed(0)
    ref = torchvision.models.resnet50(weights=None)
    ref.fc = torch.nn.Identity()
    ref.eval()
    state = {f"module.{k}": v for k, v in ref.state_dict().items()}
    state["module.projection_head.0.weight"] = torch.randn(16, 2048)
    state["module.projection_head.0.bias"] = torch.randn(16)
    state["module.prototypes.weight"] = torch.randn(8, 16)
    path = tmp_path / SWAV_FILE
    torch.save({"state_dict": state, "epoch": 800}, path)

    ext = SwAVResNet50(path)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        got = ext(x)["features"]
        want = ref(
            _imagenet(F.interpolate((x + 1) / 2, size=(224, 224), mode="bilinear", align_corners=False))
        )
    assert got.shape == (2, 2048)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-5)
    p = ext.protocol()
    assert p["weights_sha256"] and p["resolution"] == 224 and p["name"] == "swav_resnet50"

    # An unexpected key (e.g. a different trunk) is refused, not silently ignored.
    state["module.extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(WeightsError, match="unexpected"):
        SwAVResNet50(tmp_path / "bad.pth")


def test_missing_weights_name_file_option_and_what(tmp_path):
    with pytest.raises(WeightsError) as err:
        SwAVResNet50(tmp_path / SWAV_FILE)
    msg = str(err.value)
    assert SWAV_FILE in msg and "--swav" in msg and "SwAV" in msg
    with pytest.raises(WeightsError, match="--inception"):
        InceptionV3(tmp_path / "inception.pth")


def test_torchvision_inception_equals_transform_input_reference(tmp_path):
    torch.manual_seed(1)
    ref = tv_inception.Inception3(num_classes=1000, aux_logits=True, transform_input=True, init_weights=False)
    ref.eval()
    path = tmp_path / "inception_v3_google-0cc3c7bd.pth"
    torch.save(ref.state_dict(), path)
    with pytest.raises(WeightsError, match="not the FID network"):
        InceptionV3(path)
    ext = InceptionV3(path, allow_imagenet=True)
    assert ext.variant == "torchvision" and "NOT comparable" in ext.protocol()["protocol"]

    pooled = {}
    ref.avgpool.register_forward_hook(lambda m, i, o: pooled.setdefault("x", o.flatten(1)))
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    with torch.no_grad():
        out = ext(x)
        logits = ref(
            _imagenet(F.interpolate((x + 1) / 2, size=(299, 299), mode="bilinear", align_corners=False))
        )
    torch.testing.assert_close(out["features"], pooled["x"], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(out["probs"], torch.softmax(logits.double(), 1), rtol=1e-4, atol=1e-5)


def test_fid_inception_layout_loads_strictly_and_pools_like_tf(tmp_path):
    torch.manual_seed(2)
    tv = tv_inception.Inception3(
        num_classes=1008, aux_logits=False, transform_input=False, init_weights=False
    )
    tv.eval()
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(tv.state_dict(), path)
    ext = InceptionV3(path)
    assert ext.variant == "tf_fid" and "1008" in ext.protocol()["implementation"]
    pooled = {}
    tv.avgpool.register_forward_hook(lambda m, i, o: pooled.setdefault("x", o.flatten(1)))
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.no_grad():
        out = ext(x)
        # the same input protocol (uint8, TF1 resize, (u - 128) / 128) through torchvision's pooling
        tv((resize_bilinear_tf1(quantize_uint8(x).float(), 299) - 128) / 128)
    assert out["features"].shape == (2, 2048) and out["probs"].shape == (2, 1008)
    torch.testing.assert_close(out["probs"].sum(1), torch.ones(2, dtype=torch.float64))
    # Same weights, TF pooling: the features differ (else the FID variant would be pointless).
    rel = (out["features"] - pooled["x"]).norm() / pooled["x"].norm()
    assert rel > 1e-3


def test_tf_pooling_excludes_padding():
    ones = torch.ones(1, 1, 4, 4)
    assert _pool_input(ones, "avg")[0, 0, 0, 0].item() == pytest.approx(4 / 9)
    assert _pool_input(ones, "avg_tf")[0, 0, 0, 0].item() == pytest.approx(1.0)
    ramp = torch.arange(16.0).view(1, 1, 4, 4)
    assert _pool_input(ramp, "max")[0, 0, 0, 0].item() == 5.0


def test_wrong_inception_head_is_refused(tmp_path):
    torch.save({"fc.weight": torch.zeros(10, 2048), "fc.bias": torch.zeros(10)}, tmp_path / "x.pth")
    with pytest.raises(WeightsError, match="10 classes"):
        InceptionV3(tmp_path / "x.pth")


def test_classifier_substitute_outputs():
    torch.manual_seed(3)
    net = AttributeClassifier(n_outputs=5, image_size=32, widths=(4, 4, 4, 4, 4), fc_dim=16).eval()
    ext = ClassifierFeatures(net, 32, multilabel=True)
    x = torch.rand(3, 3, 64, 64) * 2 - 1  # resized to the classifier's 32 px
    with torch.no_grad():
        out = ext(x)
        logits, feats = ext.logits_and_features(x)
        direct = net(F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False, antialias=True))
    assert out["features"].shape == (3, 16) and out["probs"].shape == (3, 5, 2)
    torch.testing.assert_close(logits, direct)
    torch.testing.assert_close(out["probs"][..., 1], torch.sigmoid(direct))
    ext_mc = ClassifierFeatures(net, 32, multilabel=False)
    with torch.no_grad():
        assert ext_mc(x)["probs"].shape == (3, 5)
    assert "substitute" in ext.protocol()["implementation"]
