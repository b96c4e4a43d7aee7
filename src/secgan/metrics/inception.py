"""Inception-v3 for FID and IS, with the input protocol of torch-fidelity (and of the TF reference code).

FID and IS numbers are only comparable between papers when the network *and* its inputs match. The FID
network is the TF Inception graph of 2015-12-05 ported to PyTorch (``pt_inception-2015-12-05-6726825d.pth``,
the file pytorch-fid and torch-fidelity load: 1008 classes, TensorFlow's average pooling, max pooling in
the last block). Its inputs, as torch-fidelity feeds them (``FeatureExtractorInceptionV3``):

1. images quantised to uint8 (ours: ``round((x + 1) * 127.5)`` of ``x`` in ``[-1, 1]``, what saving the
   images as PNG gives);
2. resized to 299 x 299 by TensorFlow 1.x bilinear resizing (``align_corners=False``: source coordinate
   ``i * in / out``, no half-pixel offset; not ``F.interpolate``'s);
3. scaled to ``(u - 128) / 128``;
4. FID: the 2048-d average-pool features; IS: the softmax of the *unbiased* logits ``pool @ fc.weight.T``
   (the fc bias is left out), over 10 splits after a ``numpy.random.RandomState(2020)`` shuffle
   (:class:`secgan.metrics.inception_score.InceptionScoreAccumulator` with ``rule="torch-fidelity"``).

torchvision's ImageNet Inception (``inception_v3_google-*.pth``, 1000 classes) is a different network; its
numbers are not FID/IS and it is refused unless ``allow_imagenet=True`` (kept for experiments; it then runs
torchvision's own protocol and says so in :meth:`InceptionV3.protocol`).
"""

from __future__ import annotations

import logging
import os

import torch
import torch.nn.functional as F
from torchvision.models import inception as tv_inception

from secgan.errors import WeightsError
from secgan.metrics.features import FeatureExtractor, _require_file, _resize
from secgan.metrics.inception_score import InceptionScoreAccumulator
from secgan.models.export import load_state_dict_strict
from secgan.utils.io import file_sha256, load_torch_file

log = logging.getLogger(__name__)

FID_INCEPTION_FILE = "pt_inception-2015-12-05-6726825d.pth"
IMAGENET_INCEPTION_FILE = "inception_v3_google-0cc3c7bd.pth"
FIDELITY_INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"  # torch-fidelity's name, same layout
# looked up in the weights folder when --inception is not given
INCEPTION_FILES = (FID_INCEPTION_FILE, FIDELITY_INCEPTION_FILE)
INCEPTION_WHAT = (
    f"the FID Inception weights {FID_INCEPTION_FILE} or {FIDELITY_INCEPTION_FILE} (the TF 2015-12-05 "
    "graph ported to PyTorch, as pytorch-fid and torch-fidelity load it; pass --inception FILE or place it "
    "in the weights folder)"
)
IS_SPLIT_SEED = 2020  # torch-fidelity's default rng_seed for the IS shuffle
PROTOCOL = "torch-fidelity"


def quantize_uint8(x: torch.Tensor) -> torch.Tensor:
    """Images ``[N, 3, H, W]`` in ``[-1, 1]`` -> uint8 ``[N, 3, H, W]`` (``round((x + 1) * 127.5)``)."""
    return ((x.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def resize_bilinear_tf1(x: torch.Tensor, size: int) -> torch.Tensor:
    """TensorFlow 1.x ``resize_bilinear(align_corners=False)`` of float ``[N, C, H, W]`` to ``size x size``.

    Output pixel ``i`` samples the source at ``i * in / out`` (no half-pixel centres): ``lo = floor``,
    ``hi = min(lo + 1, in - 1)``, linear weights; rows and columns separately. Float32 coordinates, as TF.
    """
    n, c, h, w = x.shape

    def axis(n_in: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        src = torch.arange(size, dtype=torch.float32, device=x.device) * torch.tensor(
            n_in / size, dtype=torch.float32
        )
        lo = src.long()
        return lo, (lo + 1).clamp_max(n_in - 1), (src - lo.float()).to(x.dtype)

    ylo, yhi, dy = axis(h)
    xlo, xhi, dx = axis(w)
    top, bottom = x[:, :, ylo, :], x[:, :, yhi, :]  # [N, C, size, W]
    dx = dx.view(1, 1, 1, size)
    t = top[..., xlo] + (top[..., xhi] - top[..., xlo]) * dx
    b = bottom[..., xlo] + (bottom[..., xhi] - bottom[..., xlo]) * dx
    return t + (b - t) * dy.view(1, 1, size, 1)  # [N, C, size, size]


# ---------------------------------------------------------------------------------------------- network
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


def fid_inception_net() -> tv_inception.Inception3:
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


def _trunk(n: tv_inception.Inception3, x: torch.Tensor) -> torch.Tensor:
    """Inception-v3 up to the global average pool: ``[N, 3, 299, 299]`` -> ``[N, 2048]``."""
    for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1", "Conv2d_3b_1x1",
                 "Conv2d_4a_3x3", "maxpool2", "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b",
                 "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):  # fmt: skip
        x = getattr(n, name)(x)
    return torch.flatten(n.avgpool(x), 1)


class InceptionV3(FeatureExtractor):
    """Inception-v3: 2048-d pool features (FID) and predictions (IS), torch-fidelity's protocol.

    The layout is read from the weights file: ``fc.weight`` of 1008 rows = the FID network
    (``pt_inception-2015-12-05-6726825d.pth``), run with the protocol of the module docstring; 1000 rows =
    torchvision's ImageNet model, refused unless ``allow_imagenet`` (then: inputs in ``[-1, 1]`` as they are,
    ``F.interpolate`` bilinear resize, softmax of the biased logits; numbers not comparable with FID tools).
    """

    name = "inception_v3"
    dims = 2048
    resolution = 299
    has_probs = True

    def __init__(self, weights: str | os.PathLike, allow_imagenet: bool = False) -> None:
        super().__init__()
        path = _require_file(weights, INCEPTION_WHAT)
        state = load_torch_file(path, what="Inception-v3 weights file")
        if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
            state = state["state_dict"]
        if not isinstance(state, dict) or "fc.weight" not in state:
            raise WeightsError(
                f"{path}: not an Inception-v3 state dict (no 'fc.weight'); expected {INCEPTION_WHAT}"
            )
        classes = int(state["fc.weight"].shape[0])
        if classes == 1008:
            net = fid_inception_net()
            self.implementation = "TF FID Inception (pt_inception-2015-12-05 layout, 1008 classes)"
            self.variant = "tf_fid"
        elif classes == 1000 and allow_imagenet:
            net = tv_inception.Inception3(
                num_classes=1000,
                aux_logits="AuxLogits.fc.weight" in state,
                transform_input=False,
                init_weights=False,
            )
            self.implementation = "torchvision inception_v3 (ImageNet, 1000 classes); not the FID network"
            self.variant = "torchvision"
        elif classes == 1000:
            raise WeightsError(
                f"{path}: torchvision's ImageNet Inception (1000 classes) is not the FID network; its FID/IS "
                f"are not comparable with pytorch-fid or torch-fidelity. Pass {INCEPTION_WHAT}"
            )
        else:
            raise WeightsError(f"{path}: Inception-v3 head with {classes} classes; expected {INCEPTION_WHAT}")
        load_state_dict_strict(net, state, path)
        self.net = net.eval().requires_grad_(False)
        self.classes = classes
        self.weights_path = path
        self.weights_sha256 = file_sha256(path)
        log.info("loaded %s from %s", self.implementation, path)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``x [N, 3, H, W]`` in ``[-1, 1]`` -> ``features [N, 2048]`` float32, ``probs [N, K]`` float64."""
        n = self.net
        if self.variant == "tf_fid":
            u = quantize_uint8(x).float()  # [N, 3, H, W] in {0..255}
            pool = _trunk(n, (resize_bilinear_tf1(u, self.resolution) - 128) / 128)
            logits = pool @ n.fc.weight.T  # [N, 1008] unbiased logits (torch-fidelity's IS input)
        else:
            pool = _trunk(n, _resize(x.float(), self.resolution))
            logits = n.fc(pool)  # [N, 1000]
        return {"features": pool.float(), "probs": torch.softmax(logits.double(), dim=1)}

    def is_accumulator(self, total: int, splits: int, seed: int) -> InceptionScoreAccumulator:
        """The FID network: torch-fidelity's splits (its seed 2020, not ``seed``); else the default."""
        if self.variant == "tf_fid":
            return InceptionScoreAccumulator(total, splits, seed=IS_SPLIT_SEED, rule="torch-fidelity")
        return super().is_accumulator(total, splits, seed)

    def cache_id(self) -> str:
        return f"{super().cache_id()}:{self.variant}:{PROTOCOL if self.variant == 'tf_fid' else 'tv'}"

    def protocol(self) -> dict:
        common = {
            "name": self.name,
            "implementation": self.implementation,
            "variant": self.variant,
            "weights": str(self.weights_path),
            "weights_sha256": self.weights_sha256,
            "resolution": self.resolution,
            "dims": self.dims,
            "classes": self.classes,
        }
        if self.variant == "tf_fid":
            return {
                **common,
                "protocol": PROTOCOL,
                "quantisation": "uint8: round((x + 1) * 127.5)",
                "resize": "TensorFlow 1.x bilinear, align_corners=False (as torch-fidelity)",
                "normalisation": "(u - 128) / 128",
                "is_logits": "unbiased (pool @ fc.weight.T)",
                "is_split_rule": f"torch-fidelity: numpy RandomState({IS_SPLIT_SEED}) shuffle, contiguous chunks",
            }
        return {
            **common,
            "protocol": "torchvision ImageNet Inception (NOT comparable with FID/IS tools)",
            "quantisation": "none",
            "resize": "bilinear, align_corners=False",
            "normalisation": "input in [-1, 1] (= torchvision transform_input on ImageNet-normalised input)",
            "is_logits": "biased (fc)",
        }
