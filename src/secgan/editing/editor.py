"""The one inference API: load an exported model folder and edit aligned face crops.

An exported model folder (:mod:`secgan.models.export`) holds ``G`` and optionally ``classifier`` (predicts
the source labels so users only give the edits they want) and ``parser`` (12-segment masks: the input of
"concat" models, region-limited paste-back, mask drawings). Its meta names the ``attributes``, the
``conditioning`` (``diff`` | ``target01`` | ``target_pm``), ``target_scale``, ``image_size`` and
``needs_mask``.

Instance-norm statistics at inference (SPEC §10). The StarGAN generator's InstanceNorm layers have
``track_running_stats=True`` (as in the official code, so its checkpoints load strictly), but the official
code never calls ``eval()``: every published StarGAN result normalises each image with its *own* statistics
(train-mode behaviour), and ``eval()`` would switch to the running averages and change the outputs. The
editor therefore runs StarGAN generators -- imported official ones and our own, whose trainer samples them
the same way -- with per-image statistics, without ever updating the stored running buffers (``norm_stats:
"input"``). Generators whose norms are BatchNorm (AttGAN: the PyTorch port tests in ``eval()`` mode) run in
eval mode with their running statistics (``norm_stats: "running"``). A model folder may force either with
the meta key ``norm_stats``.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from secgan.data.attributes import conflicting_attributes
from secgan.data.masks import NUM_SEGMENTS, one_hot
from secgan.errors import ConfigError, SecganError, WeightsError
from secgan.models.conditioning import CONDITIONINGS, make_condition

log = logging.getLogger(__name__)

NORM_STATS = ("input", "running")
PRECISIONS = ("fp32", "bf16")


# --------------------------------------------------------------------------------------------- targets


def parse_edits(edits: Mapping[str, float] | Sequence[str], attributes: Sequence[str]) -> dict[str, float]:
    """Validate edits: a mapping ``{name: value}`` or strings ``"+Bangs"``, ``"-Young"``, ``"Bangs=0.5"``.

    The sign of a value gives the direction (+ turns the attribute on, - off), its magnitude the strength
    of that edit (1 = trained strength); 0 keeps the attribute. Unknown names raise a
    :class:`ConfigError` listing the model's attributes.
    """
    out: dict[str, float] = {}
    items: list[tuple[str, float]] = []
    if isinstance(edits, Mapping):
        items = [(str(k), float(v)) for k, v in edits.items()]
    else:
        for raw in edits:
            s = str(raw).strip()
            if "=" in s:
                name, _, val = s.partition("=")
                try:
                    items.append((name.strip(), float(val)))
                except ValueError as err:
                    raise ConfigError(f"bad edit {raw!r}: the value after '=' must be a number") from err
            elif s[:1] in "+-" and len(s) > 1:
                items.append((s[1:].strip(), 1.0 if s[0] == "+" else -1.0))
            else:
                raise ConfigError(f"bad edit {raw!r}: write +Attribute, -Attribute or Attribute=VALUE")
    for name, value in items:
        if name not in attributes:
            raise ConfigError(
                f"unknown attribute {name!r} for this model; valid attributes: {', '.join(attributes)}"
            )
        if value != value or abs(value) == float("inf"):
            raise ConfigError(f"edit of {name!r}: value must be a finite number, got {value}")
        out[name] = value
    return out


def edit_targets(
    y_src: torch.Tensor, edits: Mapping[str, float], attributes: Sequence[str], onehot: bool = False
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Target labels for the edits.

    Args:
        y_src: ``[N, n_a]`` source labels in {0, 1}.
        edits: validated ``{name: value}`` (see :func:`parse_edits`); 0 = keep.
        attributes: the ``n_a`` attribute names (column order).
        onehot: the labels are one-hot classes (RaFD expressions): ``+name`` moves the face to that class
            (every other class off); only one class can be the target.

    Returns:
        ``(y_trg [N, n_a] in {0, 1}, weight [N, n_a] >= 0, edited [N, n_a] bool)``: the target with every
        edited attribute set (+ -> 1, - -> 0) and the conflict rules applied (an explicit edit wins over
        an implied one); the strength of each change (an implied change takes the strength of the edit
        that caused it); the explicitly edited attributes.
    """
    n_a = len(attributes)
    if y_src.dim() != 2 or y_src.shape[1] != n_a:
        raise ValueError(f"y_src must be [N, {n_a}], got {tuple(y_src.shape)}")
    y = y_src.clone().float()
    weight = torch.zeros_like(y)
    edited = torch.zeros_like(y, dtype=torch.bool)
    active = {k: v for k, v in edits.items() if v != 0}
    if onehot and (sum(v > 0 for v in active.values()) != 1 or any(v < 0 for v in active.values())):
        raise ConfigError(
            f"this model's classes are exclusive ({', '.join(attributes)}): give exactly one +class edit, "
            "e.g. --edit +happy"
        )
    for name, value in active.items():  # implied changes first ...
        if value > 0:
            offs = (
                [a for a in attributes if a != name] if onehot else conflicting_attributes(name, attributes)
            )
            for off in offs:
                j = attributes.index(off)
                y[:, j] = 0
                weight[:, j] = torch.maximum(weight[:, j], torch.full_like(weight[:, j], abs(value)))
    for name, value in active.items():  # ... then the explicit edits, which win
        j = attributes.index(name)
        y[:, j] = 1.0 if value > 0 else 0.0
        weight[:, j] = abs(value)
        edited[:, j] = True
    return y, weight, edited


# ------------------------------------------------------------------------------------- instance norms
def _instance_norm_input_stats(
    module: nn.modules.instancenorm._InstanceNorm, x: torch.Tensor
) -> torch.Tensor:
    """InstanceNorm with each image's own statistics; the running buffers are neither used nor updated."""
    return F.instance_norm(x, None, None, module.weight, module.bias, True, 0.0, module.eps)


def use_input_statistics(net: nn.Module) -> int:
    """Make every InstanceNorm of ``net`` normalise with per-image statistics in any mode, leaving the
    stored running buffers untouched (the official StarGAN's train-mode behaviour, SPEC §10). Returns the
    number of layers changed."""
    n = 0
    for m in net.modules():
        if isinstance(m, nn.modules.instancenorm._InstanceNorm):
            m.forward = functools.partial(_instance_norm_input_stats, m)  # type: ignore[method-assign]
            n += 1
    return n


def default_norm_stats(net: nn.Module) -> str:
    """``"input"`` for generators normalised by InstanceNorm (StarGAN), ``"running"`` otherwise."""
    has_in = any(isinstance(m, nn.modules.instancenorm._InstanceNorm) for m in net.modules())
    return "input" if has_in else "running"


# -------------------------------------------------------------------------------------------- editor
class Editor:
    """Edits aligned face crops with a generator.

    Args:
        generator: ``G(x [N, C, S, S], c [N, n_a]) -> [N, 3, S, S]`` in ``[-1, 1]``.
        meta: the model folder's meta (``attributes``, ``conditioning``, ``target_scale``, ``image_size``,
            ``needs_mask``, optional ``norm_stats``).
        classifier: optional ``(net, meta)`` predicting source labels (see
            :mod:`secgan.auxiliary.classifier`).
        parser: optional module with ``labels12(x [N, 3, H, W] in [-1, 1]) -> [N, H, W]``.
        device: where the networks run.
        batch_size: images per forward pass.
        precision: ``"fp32"`` or ``"bf16"`` (autocast: about 1.5-2x faster on CPUs with AVX512-BF16 or
            AMX and on GPUs, outputs differ from fp32 by up to a few 1e-2).
    """

    def __init__(
        self,
        generator: nn.Module,
        meta: Mapping[str, Any],
        classifier: tuple[nn.Module, Mapping[str, Any]] | None = None,
        parser: nn.Module | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = 32,
        precision: str = "fp32",
    ) -> None:
        self.meta = dict(meta)
        if precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
        self.precision = precision
        self.attributes: list[str] = list(self.meta.get("attributes") or [])
        if not self.attributes:
            raise WeightsError("model meta has no 'attributes' list")
        self.conditioning = str(self.meta.get("conditioning", "diff"))
        if self.conditioning not in CONDITIONINGS:
            raise WeightsError(
                f"model meta: unknown conditioning {self.conditioning!r}; valid: {', '.join(CONDITIONINGS)}"
            )
        self.target_scale = float(self.meta.get("target_scale", 0.5))
        self.image_size = int(self.meta.get("image_size", 128))
        self.needs_mask = bool(self.meta.get("needs_mask", False))
        self.onehot = bool(self.meta.get("onehot_labels", False))
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        n_attrs = getattr(generator, "n_attrs", len(self.attributes))
        if n_attrs != len(self.attributes):
            raise WeightsError(
                f"generator takes {n_attrs} attributes but the model meta lists {len(self.attributes)}"
            )
        self.G = generator.to(self.device).eval()
        for p in self.G.parameters():
            p.requires_grad_(False)
        self.norm_stats = str(self.meta.get("norm_stats") or default_norm_stats(self.G))
        if self.norm_stats not in NORM_STATS:
            raise WeightsError(
                f"model meta: unknown norm_stats {self.norm_stats!r}; valid: {', '.join(NORM_STATS)}"
            )
        if self.norm_stats == "input":
            use_input_statistics(self.G)
        self.classifier = None
        if classifier is not None:
            net, cmeta = classifier
            self.classifier = (net.to(self.device).eval(), dict(cmeta))
            self._classifier_columns = self._match_classifier(dict(cmeta))
        self.parser = parser.to(self.device).eval() if parser is not None else None
        if self.needs_mask and self.parser is None:
            raise WeightsError("this model takes the parser's masks as input (needs_mask) but has no parser")

    # ------------------------------------------------------------------------------------ loading
    @classmethod
    def load(
        cls,
        model_dir: str | os.PathLike,
        device: str | torch.device = "cpu",
        classifier_dir: str | os.PathLike | None = None,
        parser_dir: str | os.PathLike | None = None,
        batch_size: int = 32,
        precision: str = "fp32",
    ) -> Editor:
        """Load an exported model folder (its ``G`` and, when present, ``classifier`` and ``parser``).

        ``classifier_dir`` / ``parser_dir`` override (or supply) the classifier and parser from their own
        directories.
        """
        from secgan.models.export import load_pretrained, read_config

        model_dir = Path(model_dir)
        config = read_config(model_dir)
        present = set(config["networks"])
        if "G" not in present:
            raise WeightsError(
                f"{model_dir / 'config.json'}: no generator 'G' (networks: {', '.join(sorted(present))})"
            )
        names = ["G"] + [n for n in ("classifier", "parser") if n in present]
        nets, meta = load_pretrained(model_dir, names=names, device="cpu")
        classifier = None
        if classifier_dir is not None:
            from secgan.auxiliary.classifier import load_classifier

            classifier = load_classifier(classifier_dir, device="cpu")
        elif "classifier" in nets:
            classifier = (nets["classifier"], _bundled_classifier_meta(nets["classifier"], meta))
        parser = None
        if parser_dir is not None:
            from secgan.auxiliary.parser.frozen import FrozenParser

            parser = FrozenParser.load(parser_dir, device="cpu")
        elif "parser" in nets:
            parser = _bundled_parser(nets["parser"], meta)
        editor = cls(
            nets["G"], meta, classifier=classifier, parser=parser, device=device, batch_size=batch_size,
            precision=precision,
        )  # fmt: skip
        editor.model_dir = model_dir
        log.info(
            "loaded %s (%s, %d attributes, %d px, conditioning %s, norm stats %s)",
            model_dir,
            meta.get("backbone", type(nets["G"]).__name__),
            len(editor.attributes),
            editor.image_size,
            editor.conditioning,
            editor.norm_stats,
        )
        return editor

    # ------------------------------------------------------------------------------------ labels
    @property
    def has_classifier(self) -> bool:
        return self.classifier is not None

    @property
    def has_parser(self) -> bool:
        return self.parser is not None

    def _match_classifier(self, cmeta: dict[str, Any]) -> list[int]:
        names = list(cmeta.get("attributes") or [])
        missing = [a for a in self.attributes if a not in names]
        if missing:
            raise WeightsError(
                f"the classifier does not predict {', '.join(missing)} (it knows: {', '.join(names)}); "
                "give the source labels with --source instead"
            )
        return [names.index(a) for a in self.attributes]

    def labels_from_names(self, present: Sequence[str] | str, n: int = 1) -> torch.Tensor:
        """Source labels ``[n, n_a]`` from the names of the attributes the face has (others absent)."""
        if isinstance(present, str):
            present = [p.strip() for p in present.split(",") if p.strip()]
        y = torch.zeros(n, len(self.attributes))
        for name in present:
            if name not in self.attributes:
                raise ConfigError(
                    f"--source: unknown attribute {name!r}; valid attributes: {', '.join(self.attributes)}"
                )
            y[:, self.attributes.index(name)] = 1
        return y

    @torch.no_grad()
    def predict_source(self, images: torch.Tensor) -> torch.Tensor:
        """Source labels ``[N, n_a]`` in {0, 1} predicted by the classifier from images ``[N, 3, S, S]``."""
        if self.classifier is None:
            raise SecganError(
                "this model has no classifier to predict the source attributes: pass --source "
                "(the attributes the face has, e.g. --source Brown_Hair,Young) or --classifier C_DIR"
            )
        from secgan.auxiliary.classifier import predict_labels

        net, cmeta = self.classifier
        out = []
        for chunk in images.split(self.batch_size):
            out.append(predict_labels(net, cmeta, chunk.to(self.device)))
        return torch.cat(out)[:, self._classifier_columns].to(images.device)

    @torch.no_grad()
    def parse(self, images: torch.Tensor) -> torch.Tensor:
        """12-segment label maps ``[N, S, S]`` (long) of images ``[N, 3, S, S]`` in ``[-1, 1]``."""
        if self.parser is None:
            raise SecganError("this model has no parser (no masks available)")
        out = [self.parser.labels12(c.to(self.device)).long() for c in images.split(self.batch_size)]
        return torch.cat(out).to(images.device)

    # ------------------------------------------------------------------------------------ editing
    def condition(
        self, y_src: torch.Tensor, edits: Mapping[str, float], intensity: float = 1.0
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(c [N, n_a], y_trg [N, n_a])`` for validated edits under the model's conditioning."""
        y_trg, weight, edited = edit_targets(y_src, edits, self.attributes, onehot=self.onehot)
        w = weight * float(intensity)
        if self.conditioning == "diff":
            c = make_condition(y_src, y_trg, "diff", intensity=w)
        elif self.conditioning == "target01":
            # partial strengths move the target label part of the way (StarGAN's labels are continuous)
            c = make_condition(y_src, y_src + (y_trg - y_src) * w, "target01")
        else:
            # AttGAN: untouched attributes at +-thres_int, the edited ones at +-test_int (= strength)
            c = make_condition(y_src, y_trg, "target_pm", intensity=w, scale=self.target_scale, edited=edited)
        return c, y_trg

    @torch.no_grad()
    def edit(
        self,
        images: torch.Tensor,
        edits: Mapping[str, float] | Sequence[str],
        source: torch.Tensor | None = None,
        intensity: float = 1.0,
    ) -> torch.Tensor:
        """Edit aligned crops.

        Args:
            images: ``[N, 3, S, S]`` in ``[-1, 1]`` at the model's size ``S``.
            edits: ``{"Bangs": +1, "Young": -1}`` (sign = direction, magnitude = strength of that edit)
                or strings ``["+Bangs", "-Young"]``.
            source: ``[N, n_a]`` (or ``[n_a]``) labels in {0, 1}; predicted by the classifier when None.
            intensity: global strength multiplier (the paper's test intensity).

        Returns:
            ``[N, 3, S, S]`` in ``[-1, 1]`` on the device of ``images``.
        """
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [N, 3, S, S], got {tuple(images.shape)}")
        if tuple(images.shape[2:]) != (self.image_size, self.image_size):
            raise ConfigError(
                f"images are {images.shape[2]}x{images.shape[3]} but the model edits "
                f"{self.image_size}x{self.image_size} aligned crops"
            )
        edits = parse_edits(edits, self.attributes)
        n = images.shape[0]
        if source is None:
            source = self.predict_source(images)
        source = source.float()
        if source.dim() == 1:
            source = source.unsqueeze(0).expand(n, -1)
        if source.shape != (n, len(self.attributes)):
            raise ValueError(f"source must be [{n}, {len(self.attributes)}], got {tuple(source.shape)}")
        c, _ = self.condition(source.cpu(), edits, intensity)
        out = []
        for x, cc in zip(images.split(self.batch_size), c.split(self.batch_size)):
            x = x.to(self.device, torch.float32)
            if self.needs_mask:
                x = torch.cat([x, one_hot(self.parser.labels12(x), NUM_SEGMENTS)], dim=1)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                y = self.G(x, cc.to(self.device))
            out.append(y.float().clamp(-1, 1))
        return torch.cat(out).to(images.device)


# ------------------------------------------------------------------------------- bundled networks
def _bundled_classifier_meta(net: nn.Module, meta: Mapping[str, Any]) -> dict[str, Any]:
    """The prediction meta of a classifier stored inside a model folder: ``meta["classifier"]`` when the
    exporter wrote one, else the model's attributes and the network's own input size."""
    sub = meta.get("classifier")
    cmeta: dict[str, Any] = dict(sub) if isinstance(sub, Mapping) else {}
    cmeta.setdefault("attributes", list(meta.get("attributes") or []))
    cmeta.setdefault("image_size", int(getattr(net, "image_size", meta.get("image_size", 128))))
    cmeta.setdefault("multilabel", bool(getattr(net, "multilabel", True)))
    n_out = getattr(getattr(net, "head", None), "out_features", None)
    if n_out is not None and n_out != len(cmeta["attributes"]):
        raise WeightsError(
            f"bundled classifier has {n_out} outputs but {len(cmeta['attributes'])} attribute names; "
            "the model folder's meta should carry classifier.attributes"
        )
    return cmeta


def _bundled_parser(net: nn.Module, meta: Mapping[str, Any]) -> nn.Module:
    """Wrap a parser network stored inside a model folder in a :class:`FrozenParser` (input size and
    normalisation from ``meta["parser"]`` when the exporter wrote them, else the model's image size and
    ImageNet statistics)."""
    from secgan.auxiliary.parser.frozen import IMAGENET_MEAN, IMAGENET_STD, FrozenParser

    sub = meta.get("parser")
    pmeta: dict[str, Any] = dict(sub) if isinstance(sub, Mapping) else {}
    return FrozenParser(
        net,
        input_size=int(pmeta.get("input_size", meta.get("parser_input_size", meta.get("image_size", 128)))),
        mean=pmeta.get("mean", IMAGENET_MEAN),
        std=pmeta.get("std", IMAGENET_STD),
    )


def images_to_tensor(images: Sequence[Any]) -> torch.Tensor:
    """uint8 RGB arrays ``[S, S, 3]`` -> float tensor ``[N, 3, S, S]`` in ``[-1, 1]``."""
    import numpy as np

    arr = np.stack([np.asarray(im, dtype=np.uint8) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def tensor_to_images(x: torch.Tensor) -> list[Any]:
    """``[N, 3, S, S]`` in ``[-1, 1]`` -> list of uint8 RGB arrays ``[S, S, 3]``."""
    arr = ((x.detach().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    return list(arr)
