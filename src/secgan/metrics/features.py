"""Feature extractors for the Fréchet distances and the Inception Scores, loaded from local files only.

Every extractor takes generator-style images ``[N, 3, H, W]`` in ``[-1, 1]`` and returns
``{"features": [N, D] float32}`` plus ``"probs"`` (``[N, K]``, or ``[N, H, K]`` for independent heads)
when it has a classifier head for an Inception Score. Its :meth:`FeatureExtractor.protocol` names what
the numbers depend on (network, weights file and hash, input resolution, normalisation) so a reported
number says which protocol produced it.

- :class:`SwAVResNet50` - ssFID (Morozov et al., ICLR 2021): torchvision ResNet-50 trunk with SwAV weights
  (``swav_800ep_pretrain.pth.tar``), 2048-d global-average-pool output (no projection head, no L2 norm),
  224 px bilinear, ImageNet normalisation.
- :class:`InceptionV3` - FID (2048-d pool features) and IS (softmax): either torchvision's ImageNet
  ``inception_v3_google-*.pth`` (1000 classes) or the TF-ported FID weights
  ``pt_inception-2015-12-05-6726825d.pth`` (1008 classes) in the FID variant of the network; 299 px.
- :class:`ClassifierFeatures` - the in-domain substitute used when those weights are absent (e.g. on the
  synthetic faces): the evaluation classifier's penultimate features (``fid_cls``) and its predictions
  (``is_cls``). It is never reported under the names ssFID / FID / IS.

Nothing here downloads: a missing file raises :class:`~secgan.errors.WeightsError` naming the file, the
option that passes it and what it is.
"""

from __future__ import annotations

import abc
import logging
import os
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models import inception as tv_inception

from secgan.errors import WeightsError
from secgan.metrics.inception_score import bernoulli_probs
from secgan.models.export import load_state_dict_strict
from secgan.utils.io import file_sha256, load_torch_file, state_dict_hash

log = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

SWAV_FILE = "swav_800ep_pretrain.pth.tar"
SWAV_WHAT = (
    f"the SwAV ResNet-50 weights for ssFID ({SWAV_FILE}, from facebookresearch/swav; "
    "pass --swav FILE or place it in the weights folder)"
)
INCEPTION_FILES = ("inception_v3_google-0cc3c7bd.pth", "pt_inception-2015-12-05-6726825d.pth")
INCEPTION_WHAT = (
    "the Inception-v3 weights for FID and IS (torchvision's inception_v3_google-*.pth, or the FID port "
    "pt_inception-2015-12-05-6726825d.pth; pass --inception FILE or place it in the weights folder)"
)


def default_weights_dir() -> Path:
    """``$SECGAN_WEIGHTS`` or ``~/.cache/secgan/weights``: where evaluation looks for weights not passed."""
    return Path(os.environ.get("SECGAN_WEIGHTS") or Path.home() / ".cache" / "secgan" / "weights")


def find_default_weights(names: tuple[str, ...]) -> Path | None:
    """The first of ``names`` present in :func:`default_weights_dir`, else ``None``."""
    for name in names:
        path = default_weights_dir() / name
        if path.is_file():
            return path
    return None


def _require_file(path: str | os.PathLike, what: str) -> Path:
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"weights file not found: {path} - expected {what}")
    return path


def _resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize to ``size x size`` (``align_corners=False``, no antialiasing), skipped when equal."""
    if tuple(x.shape[-2:]) == (size, size):
        return x
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)


class FeatureExtractor(nn.Module, abc.ABC):
    """Base class: ``forward(x [N, 3, H, W] in [-1, 1]) -> {"features": [N, D], "probs"?: [N, (H,) K]}``."""

    name: str = ""
    dims: int = 0
    has_probs: bool = False

    @abc.abstractmethod
    def protocol(self) -> dict:
        """What the numbers depend on (JSON-ready): name, implementation, weights and hash, resolution."""

    def cache_id(self) -> str:
        """A short identity of network + weights + preprocessing for the real-statistics cache key."""
        p = self.protocol()
        return f"{p['name']}:{p.get('weights_sha256') or p.get('weights_hash')}:{p['resolution']}"


class SwAVResNet50(FeatureExtractor):
    """SwAV ResNet-50 trunk: 2048-d global-average-pool features (the ssFID features).

    Weights file: a state dict (bare, or under ``"state_dict"``) with DataParallel ``module.`` prefixes and the
    SwAV heads ``projection_head.*`` / ``prototypes.*``, which are dropped; the rest must match the
    torchvision ResNet-50 trunk exactly (strict load, no ``fc``). SwAV's own ResNet pads the input by one
    pixel and then convolves with padding 2, which equals torchvision's padding 3.
    """

    name = "swav_resnet50"
    dims = 2048
    resolution = 224

    def __init__(self, weights: str | os.PathLike) -> None:
        super().__init__()
        path = _require_file(weights, SWAV_WHAT)
        state = load_torch_file(path, what="SwAV weights file")
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict):
            raise WeightsError(f"{path}: expected a state dict, got {type(state).__name__}")
        state = {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in state.items()}
        dropped = [k for k in state if k.startswith(("projection_head.", "prototypes."))]
        state = {k: v for k, v in state.items() if k not in dropped}
        net = torchvision.models.resnet50(weights=None)
        net.fc = nn.Identity()
        load_state_dict_strict(net, state, path)
        log.info("loaded SwAV ResNet-50 from %s (dropped %d head keys)", path, len(dropped))
        self.net = net.eval().requires_grad_(False)
        self.weights_path = path
        self.weights_sha256 = file_sha256(path)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        x = _resize((x.float() + 1) * 0.5, self.resolution)
        x = (x - self.mean) / self.std
        return {"features": self.net(x).float()}

    def protocol(self) -> dict:
        return {
            "name": self.name,
            "implementation": "torchvision resnet50 trunk, fc=Identity, avgpool 2048-d, no projection head, no L2 norm",
            "weights": str(self.weights_path),
            "weights_sha256": self.weights_sha256,
            "resolution": self.resolution,
            "resize": "bilinear, align_corners=False",
            "normalisation": "ImageNet mean/std on [0, 1]",
            "dims": self.dims,
        }


# ---------------------------------------------------------------------------------------------- Inception
def _pool_input(x: torch.Tensor, mode: str) -> torch.Tensor:
    """The 3x3 stride-1 pooling in front of a block's ``branch_pool`` conv.

    ``"avg"``: torchvision (zero padding counted in the mean); ``"avg_tf"``: TensorFlow's average pool
    (padding excluded from the mean); ``"max"``: the last block of the TF graph used by FID pools by max.
    """
    if mode == "avg":
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1)
    if mode == "avg_tf":
        return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
    return F.max_pool2d(x, kernel_size=3, stride=1, padding=1)


class _TFInceptionA(tv_inception.InceptionA):
    """InceptionA with TensorFlow's average pooling (same parameters as torchvision's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        bp = self.branch_pool(_pool_input(x, "avg_tf"))
        return torch.cat([self.branch1x1(x), b5, b3, bp], 1)


class _TFInceptionC(tv_inception.InceptionC):
    """InceptionC with TensorFlow's average pooling."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7d = self.branch7x7dbl_3(self.branch7x7dbl_2(self.branch7x7dbl_1(x)))
        b7d = self.branch7x7dbl_5(self.branch7x7dbl_4(b7d))
        bp = self.branch_pool(_pool_input(x, "avg_tf"))
        return torch.cat([self.branch1x1(x), b7, b7d, bp], 1)


class _TFInceptionE(tv_inception.InceptionE):
    """InceptionE with a configurable pooling branch (``"avg_tf"`` for Mixed_7b, ``"max"`` for Mixed_7c)."""

    def __init__(self, in_channels: int, pool: str) -> None:
        super().__init__(in_channels)
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
        bp = self.branch_pool(_pool_input(x, self.pool))
        return torch.cat([self.branch1x1(x), b3, bd, bp], 1)


def _fid_inception_net() -> tv_inception.Inception3:
    """The network of the TF Inception graph used by FID tools (1008 classes, TF pooling, no aux head).

    Same parameter names as torchvision's Inception3, so ``pt_inception-2015-12-05-6726825d.pth`` loads
    strictly; only the pooling of the mixed blocks differs (see :func:`_pool_input`).
    """
    net = tv_inception.Inception3(
        num_classes=1008, aux_logits=False, transform_input=False, init_weights=False
    )
    net.Mixed_5b = _TFInceptionA(192, pool_features=32)
    net.Mixed_5c = _TFInceptionA(256, pool_features=64)
    net.Mixed_5d = _TFInceptionA(288, pool_features=64)
    net.Mixed_6b = _TFInceptionC(768, channels_7x7=128)
    net.Mixed_6c = _TFInceptionC(768, channels_7x7=160)
    net.Mixed_6d = _TFInceptionC(768, channels_7x7=160)
    net.Mixed_6e = _TFInceptionC(768, channels_7x7=192)
    net.Mixed_7b = _TFInceptionE(1280, pool="avg_tf")
    net.Mixed_7c = _TFInceptionE(2048, pool="max")
    return net


class InceptionV3(FeatureExtractor):
    """Inception-v3: 2048-d pool features (FID) and softmax predictions (IS).

    The layout is read from the weights file: ``fc.weight`` of 1000 rows = torchvision's ImageNet model
    (``inception_v3_google-*.pth``, with its aux head), 1008 rows = the TF-ported FID model
    (``pt_inception-2015-12-05-6726825d.pth``). Both were trained on inputs ``(x01 - 0.5) / 0.5``: the
    images in ``[-1, 1]`` go in as they are. (torchvision's ``transform_input=True`` converts an
    ImageNet-normalised input to exactly that scale, so this is the same as torchvision's pretrained
    model fed ImageNet-normalised images.) Resize to 299 bilinear.
    """

    name = "inception_v3"
    dims = 2048
    resolution = 299
    has_probs = True

    def __init__(self, weights: str | os.PathLike) -> None:
        super().__init__()
        path = _require_file(weights, INCEPTION_WHAT)
        state = load_torch_file(path, what="Inception-v3 weights file")
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict) or "fc.weight" not in state:
            raise WeightsError(
                f"{path}: not an Inception-v3 state dict (no 'fc.weight'); supported layouts: torchvision "
                "inception_v3_google-*.pth and pytorch-fid pt_inception-2015-12-05-6726825d.pth"
            )
        classes = int(state["fc.weight"].shape[0])
        if classes == 1000:
            net = tv_inception.Inception3(
                num_classes=1000,
                aux_logits="AuxLogits.fc.weight" in state,
                transform_input=False,
                init_weights=False,
            )
            self.implementation = "torchvision inception_v3 (ImageNet, 1000 classes)"
            self.variant = "torchvision"
        elif classes == 1008:
            net = _fid_inception_net()
            self.implementation = "TF FID Inception (pt_inception-2015-12-05 layout, 1008 classes)"
            self.variant = "tf_fid"
        else:
            raise WeightsError(
                f"{path}: Inception-v3 head with {classes} classes; supported: 1000 (torchvision "
                "inception_v3_google-*.pth) or 1008 (pt_inception-2015-12-05-6726825d.pth)"
            )
        load_state_dict_strict(net, state, path)
        self.net = net.eval().requires_grad_(False)
        self.classes = classes
        self.weights_path = path
        self.weights_sha256 = file_sha256(path)
        log.info("loaded %s from %s", self.implementation, path)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        n = self.net
        x = _resize(x.float(), self.resolution)  # [-1, 1] is the scale both weight sets expect
        for layer in (n.Conv2d_1a_3x3, n.Conv2d_2a_3x3, n.Conv2d_2b_3x3, n.maxpool1, n.Conv2d_3b_1x1):
            x = layer(x)
        for layer in (
            n.Conv2d_4a_3x3,
            n.maxpool2,
            n.Mixed_5b,
            n.Mixed_5c,
            n.Mixed_5d,
            n.Mixed_6a,
            n.Mixed_6b,
        ):
            x = layer(x)
        for layer in (n.Mixed_6c, n.Mixed_6d, n.Mixed_6e, n.Mixed_7a, n.Mixed_7b, n.Mixed_7c):
            x = layer(x)
        pool = torch.flatten(n.avgpool(x), 1)  # [N, 2048]
        logits = n.fc(pool)  # [N, 1000 | 1008]
        return {"features": pool.float(), "probs": torch.softmax(logits.float(), dim=1)}

    def protocol(self) -> dict:
        return {
            "name": self.name,
            "implementation": self.implementation,
            "variant": self.variant,
            "weights": str(self.weights_path),
            "weights_sha256": self.weights_sha256,
            "resolution": self.resolution,
            "resize": "bilinear, align_corners=False",
            "normalisation": "input in [-1, 1] (= torchvision transform_input on ImageNet-normalised input)",
            "dims": self.dims,
            "classes": self.classes,
        }


# ---------------------------------------------------------------------------------------------- substitute
class ClassifierFeatures(FeatureExtractor):
    """The in-domain substitute: the evaluation classifier's penultimate features and its predictions.

    ``features``: ``net.features(x)`` ``[N, fc_dim]`` (``fid_cls``). ``probs``: multi-label -> one Bernoulli
    head per attribute ``[N, n_a, 2]`` (sigmoid); ``is_cls`` is then the mean over attributes of each
    attribute's two-class Inception Score (each in [1, 2]); multi-class (RaFD) -> softmax ``[N, K]`` and the
    ordinary IS over the K expressions (in [1, K]). Inputs are resized to the classifier's resolution.
    """

    name = "classifier_penultimate"

    def __init__(self, net: nn.Module, image_size: int, multilabel: bool, source: str = "") -> None:
        super().__init__()
        self.net = net
        self.image_size = int(image_size)
        self.multilabel = bool(multilabel)
        self.source = source
        self.dims = int(getattr(net, "spec_kwargs", {}).get("fc_dim", 0)) or 0
        self.weights_hash = state_dict_hash(net.state_dict())
        self.has_probs = True

    def logits_and_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits [N, n], features [N, D])`` of images in ``[-1, 1]`` at any resolution (resized as
        :func:`secgan.auxiliary.classifier.predict_probs` does: bilinear, antialiased when shrinking)."""
        if tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            down = x.shape[-1] > self.image_size
            x = F.interpolate(
                x, size=(self.image_size,) * 2, mode="bilinear", align_corners=False, antialias=down
            )
        feats = self.net.features(x)
        head = getattr(self.net, "head", None)
        logits = head(feats) if head is not None else self.net(x)
        return logits.float(), feats.float()

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        logits, feats = self.logits_and_features(x)
        return {"features": feats, "probs": self.probs_from_logits(logits)}

    def probs_from_logits(self, logits: torch.Tensor) -> torch.Tensor:
        if self.multilabel:
            return bernoulli_probs(torch.sigmoid(logits))
        return torch.softmax(logits, dim=1)

    def protocol(self) -> dict:
        return {
            "name": self.name,
            "implementation": "evaluation classifier, penultimate layer (FC + ReLU); substitute, not (ss)FID",
            "weights": self.source,
            "weights_hash": self.weights_hash,
            "resolution": self.image_size,
            "resize": "bilinear, align_corners=False, antialiased when shrinking",
            "normalisation": "input in [-1, 1]",
            "dims": self.dims,
            "is_definition": (
                "mean over attributes of the two-class IS of each attribute's sigmoid"
                if self.multilabel
                else "IS over the classifier's softmax"
            ),
        }
