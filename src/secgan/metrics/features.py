"""Feature extractors for the Fréchet distances and the Inception Scores, loaded from local files only.

Every extractor takes generator-style images ``[N, 3, H, W]`` in ``[-1, 1]`` and returns
``{"features": [N, D] float32}`` plus ``"probs"`` (``[N, K]``, or ``[N, H, K]`` for independent heads)
when it has a classifier head for an Inception Score. Its :meth:`FeatureExtractor.protocol` names what
the numbers depend on (network, weights file and hash, input resolution, normalisation) so a reported
number says which protocol produced it.

- :class:`SwAVResNet50` - ssFID (Morozov et al., ICLR 2021): torchvision ResNet-50 trunk with SwAV weights
  (``swav_800ep_pretrain.pth.tar``), 2048-d global-average-pool output (no projection head, no L2 norm),
  224 px bilinear, ImageNet normalisation.
- :class:`secgan.metrics.inception.InceptionV3` (its own module) - FID (2048-d pool features) and IS: the
  TF-ported FID weights ``pt_inception-2015-12-05-6726825d.pth`` with torch-fidelity's input protocol.
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

from secgan.errors import WeightsError
from secgan.metrics.inception_score import InceptionScoreAccumulator, bernoulli_probs
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

    def is_accumulator(self, total: int, splits: int, seed: int) -> InceptionScoreAccumulator:
        """The Inception Score accumulator for a pool of ``total`` predictions (how the pool is split)."""
        return InceptionScoreAccumulator(total, splits=splits, seed=seed)

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
