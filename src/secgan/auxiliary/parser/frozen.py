"""The frozen face parser P used by the SeCGAN trainer, the mask cache and the editor.

``FrozenParser`` wraps a :class:`~secgan.models.bisenet.BiSeNet`: its weights never require gradients and
it stays in eval mode even when a parent module calls ``.train()`` (BatchNorm must keep its running
statistics). Inputs are generator-style images ``[N, 3, H, W]`` in ``[-1, 1]`` at any resolution: they are
mapped to ``[0, 1]``, ImageNet-normalised and resized (bilinear) to the parser's input size; the logits are
resized back to ``H x W``. Gradients flow to the input (eq. 11 of the paper trains G_rgb through P).

A parser directory is an exported model folder (:mod:`secgan.models.export`) holding ``parser.safetensors``
and a ``config.json`` with ``{"kind": "parser", "input_size": S, "classes": 19, "mean": [...],
"std": [...], "trained_on": str}`` (+ ``"training"``: the settings of a parser trained here;
``"evaluation"``: its IoU report against the ground-truth masks of a held-out split, ``{"split", "images",
"mean_iou", "iou", "pixel_accuracy", ...}``). A folder without ``input_size`` runs at the default of
:mod:`secgan.models.parser_input` for the images it parses (:func:`folder_input_size`).

The network is any 19-class parser family of :mod:`secgan.models.registry` whose forward is
``net(x, output_size=(H, W)) -> (logits [N, 19, H, W], ...)``: the BiSeNet (the training parser P) or the
U-Net (:mod:`secgan.models.unet_parser`, the evaluation's independent judge); :meth:`FrozenParser.load`
rebuilds whichever the folder's spec names, and :attr:`FrozenParser.arch` says which.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from secgan.data.masks import log_soft_19_to_12, soft_19_to_12
from secgan.errors import WeightsError
from secgan.models.bisenet import IMAGENET_MEAN, IMAGENET_STD
from secgan.models.export import BundledParserCard, ModelCard
from secgan.models.parser_input import parser_input_size
from secgan.utils.io import state_dict_hash

PARSER_NAME = "parser"  # the network's name inside a parser directory


def parser_meta(
    input_size: int,
    trained_on: str,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
) -> dict:
    """The ``config.json`` extras of a parser directory."""
    return {
        "kind": "parser",
        "input_size": int(input_size),
        "classes": 19,
        "mean": [float(m) for m in mean],
        "std": [float(s) for s in std],
        "trained_on": trained_on,
    }


def normalize_images(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor, input_size: int) -> torch.Tensor:
    """Images ``[N, 3, H, W]`` in ``[-1, 1]`` -> ``[0, 1]`` -> ``(x - mean) / std`` (``mean``/``std``
    ``[1, 3, 1, 1]``) -> bilinear resize to ``[N, 3, input_size, input_size]`` (skipped when equal)."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"parser expects images [N, 3, H, W] in [-1, 1], got {tuple(x.shape)}")
    x = ((x + 1) * 0.5 - mean.to(x.device, x.dtype)) / std.to(x.device, x.dtype)
    if tuple(x.shape[2:]) != (input_size, input_size):
        x = F.interpolate(x, size=(input_size, input_size), mode="bilinear", align_corners=False)
    return x


class FrozenParser(nn.Module):
    """A frozen, always-eval face parser taking images in ``[-1, 1]``.

    Args:
        net: a 19-class BiSeNet or U-Net parser (its weights are frozen in place).
        input_size: the side the parser runs at (it was trained at this resolution; no default here:
            :func:`secgan.models.parser_input.parser_input_size` chooses one where none is recorded).
        mean, std: the normalisation applied after mapping the input to ``[0, 1]``.
    """

    def __init__(
        self,
        net: nn.Module,
        input_size: int,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        super().__init__()
        self.net = net
        self.input_size = int(input_size)
        self.meta: dict = {}  # config.json extras when loaded from a parser directory
        # the exact values (the float32 buffers below would round them in config.json and the hash)
        self.mean_values = [float(m) for m in mean]
        self.std_values = [float(v) for v in std]
        self.register_buffer(
            "mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False
        )
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        for p in self.net.parameters():
            p.requires_grad_(False)
        super().train(False)

    @property
    def arch(self) -> str:
        """The network's family: ``"bisenet"`` or ``"unet_parser"``."""
        return str(getattr(self.net, "family", type(self.net).__name__))

    @property
    def miou_vs_ground_truth(self) -> float | None:
        """Its mean IoU against the ground-truth masks as measured when it was trained (``None``: not
        recorded, e.g. an imported parser)."""
        value = (self.meta.get("evaluation") or {}).get("mean_iou")
        return float(value) if isinstance(value, (int, float)) else None

    def train(self, mode: bool = True) -> FrozenParser:
        """Ignore ``mode``: the parser is always in eval mode (a parent's ``.train()`` reaches here)."""
        return super().train(False)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls, directory: str | os.PathLike, device: str | torch.device = "cpu", image_size: int | None = None
    ) -> FrozenParser:
        """Load a parser directory (see the module docstring). ``image_size``: the side of the images it
        will parse, for a folder that records no ``input_size`` (else the image size it was trained on)."""
        from secgan.models.export import load_pretrained

        nets, meta = load_pretrained(directory, names=[PARSER_NAME], device="cpu")
        if meta.get("kind") != "parser":
            raise WeightsError(
                f"{Path(directory) / 'config.json'}: not a parser directory (kind={meta.get('kind')!r})"
            )
        net = nets[PARSER_NAME]
        parser = cls(
            net,
            input_size=folder_input_size(directory, meta, image_size, str(getattr(net, "family", ""))),
            mean=meta.get("mean", IMAGENET_MEAN),
            std=meta.get("std", IMAGENET_STD),
        )
        parser.meta = meta
        return parser.to(device)

    @classmethod
    def from_bundled(cls, net: nn.Module, card: ModelCard) -> FrozenParser:
        """Wrap the parser network stored inside an editing model's folder, run as its card says (input
        size and normalisation; the model's image size and ImageNet statistics when not written)."""
        p = card.parser or BundledParserCard()
        size = parser_input_size(p.input_size, card.image_size, str(getattr(net, "family", "bisenet")))
        return cls(net, input_size=size, mean=p.mean, std=p.std)

    def save(
        self,
        directory: str | os.PathLike,
        trained_on: str,
        training: dict | None = None,
        evaluation: dict | None = None,
    ) -> Path:
        """Write this parser as a parser directory (``training``: the settings it was trained with;
        ``evaluation``: its IoU report on held-out ground-truth masks)."""
        from secgan.models.export import save_pretrained

        meta = parser_meta(self.input_size, trained_on, self.mean_values, self.std_values)
        if training is not None:
            meta["training"] = dict(training)
        if evaluation is not None:
            meta["evaluation"] = dict(evaluation)
        self.meta = dict(meta)
        return save_pretrained(directory, {PARSER_NAME: self.net}, meta)

    # ------------------------------------------------------------------ inference
    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` in ``[-1, 1]`` -> normalised ``[N, 3, S, S]`` at the parser's input size."""
        return normalize_images(x, self.mean, self.std, self.input_size)

    def logits19(self, x: torch.Tensor) -> torch.Tensor:
        """Main-head logits ``[N, 19, H, W]`` at the input's resolution (differentiable w.r.t. ``x``); the
        network runs at its input size and its stride-8 logits are upsampled straight to ``H x W``."""
        return self.net(self.normalize(x), output_size=tuple(x.shape[2:]))[0]

    def probs12(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities over the 12 segments ``[N, 12, H, W]`` (softmax over 19, summed by segment).

        Contiguous: the einsum in ``soft_19_to_12`` returns a permuted view, and ``nll_loss`` on such a
        view fails in backward on CPU ("grad_input must be contiguous").
        """
        return soft_19_to_12(torch.softmax(self.logits19(x), dim=1)).contiguous()

    def log_probs12(self, x: torch.Tensor) -> torch.Tensor:
        """Log-probabilities over the 12 segments ``[N, 12, H, W]``: the logsumexp over each segment's classes
        of the 19-class log-softmax (exact where :meth:`probs12` underflows; what the losses use)."""
        return log_soft_19_to_12(torch.log_softmax(self.logits19(x).float(), dim=1))

    @torch.no_grad()
    def labels12(self, x: torch.Tensor) -> torch.Tensor:
        """Hard 12-segment label map ``[N, H, W]`` (long).

        The argmax is taken over the merged 12-segment probabilities, the decision rule consistent with
        :meth:`probs12` (a parser trained on the 12 segments may split a segment's mass between, e.g.,
        l_brow and r_brow); for confident predictions it equals mapping the 19-class argmax.
        """
        return self.probs12(x).argmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.probs12(x)


def folder_input_size(
    directory: str | os.PathLike, meta: dict, image_size: int | None, arch: str = "bisenet"
) -> int:
    """The side the parser of ``directory`` (its ``config.json`` ``meta``) runs at: the recorded
    ``input_size``, else :func:`~secgan.models.parser_input.parser_input_size`'s default for ``image_size``
    (else the image size it was trained on, ``training.image_size``)."""
    size = image_size or (meta.get("training") or {}).get("image_size")
    if not meta.get("input_size") and not size:
        raise WeightsError(
            f"{Path(directory) / 'config.json'}: no input_size, and the image size it parses is not known "
            '(add "input_size": S to config.json)'
        )
    return parser_input_size(meta.get("input_size"), int(size or 0), arch or "bisenet")


def _spec_family(config: dict) -> str:
    """The parser network's family named in a folder's full ``config.json`` (``"bisenet"`` when absent)."""
    spec = (config.get("networks") or {}).get(PARSER_NAME) or {}
    return str(spec.get("family") or "bisenet")


def _hash_extras(input_size: int, mean: Sequence[float], std: Sequence[float]) -> dict[str, torch.Tensor]:
    return {
        "__input_size__": torch.tensor([int(input_size)], dtype=torch.int64),
        "__mean__": torch.tensor([float(m) for m in mean], dtype=torch.float64),
        "__std__": torch.tensor([float(s) for s in std], dtype=torch.float64),
    }


def parser_hash(parser: FrozenParser | str | os.PathLike) -> str:
    """Content hash (16 hex chars) of a parser: its weights, input size and normalisation. The same for a
    parser directory and the :class:`FrozenParser` loaded from it."""
    if isinstance(parser, FrozenParser):
        state = dict(parser.net.state_dict())
        extras = _hash_extras(parser.input_size, parser.mean_values, parser.std_values)
    else:
        from safetensors.torch import load_file

        from secgan.models.export import read_config

        directory = Path(parser)
        meta = read_config(directory)
        path = directory / f"{PARSER_NAME}.safetensors"
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
        state = load_file(str(path))
        extras = _hash_extras(
            folder_input_size(directory, meta, None, _spec_family(meta)),
            meta.get("mean", IMAGENET_MEAN),
            meta.get("std", IMAGENET_STD),
        )
    state.update(extras)
    return state_dict_hash(state)
