"""The one inference API: load an exported model folder and edit aligned face crops.

An exported model folder (:mod:`secgan.models.export`) holds ``G`` and optionally ``classifier`` (predicts
the source labels so users only give the edits they want) and ``parser`` (12-segment masks: the input of
"concat" models, region-limited paste-back, mask drawings). Its meta names the ``attributes``, the
``conditioning`` (``diff`` | ``target01`` | ``target_pm``), ``target_scale``, ``image_size`` and
``needs_mask``: its :class:`~secgan.models.export.ModelCard`.

Instance-norm statistics at inference (paper-notes §10) follow the card's ``norm_stats``: see
:mod:`secgan.models.inference`, which the evaluation shares.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from secgan.auxiliary.classifier import classifier_columns
from secgan.data.transforms import tensor_to_image
from secgan.editing.edits import (  # noqa: F401  (re-exported: the edit rules are the editor's public names)
    MAX_EDIT_VALUE,
    MAX_STRENGTH,
    canonical_attribute,
    check_strength,
    edit_targets,
    effective_edits,
    parse_edits,
)
from secgan.errors import ConfigError, SecganError, WeightsError
from secgan.models.conditioning import make_condition
from secgan.models.export import ModelCard
from secgan.models.inference import (  # noqa: F401  (re-exported: the editor's public names)
    NORM_STATS,
    default_norm_stats,
    prepare_generator,
    use_input_statistics,
)

log = logging.getLogger(__name__)

PRECISIONS = ("fp32", "bf16")


# -------------------------------------------------------------------------------------------- editor
class Editor:
    """Edits aligned face crops with a generator.

    Args:
        generator: ``G(x [N, C, S, S], c [N, n_a]) -> [N, 3, S, S]`` in ``[-1, 1]``.
        card: the model's :class:`~secgan.models.export.ModelCard` (or its JSON meta).
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
        card: ModelCard | Mapping[str, Any],
        classifier: tuple[nn.Module, Mapping[str, Any]] | None = None,
        parser: nn.Module | None = None,
        device: str | torch.device = "cpu",
        batch_size: int = 32,
        precision: str = "fp32",
    ) -> None:
        self.card = card if isinstance(card, ModelCard) else ModelCard.from_json(dict(card))
        if precision not in PRECISIONS:
            raise ConfigError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
        self.precision = precision
        self.attributes: list[str] = list(self.card.attributes)
        self.conditioning = self.card.conditioning
        self.target_scale = self.card.target_scale
        self.image_size = self.card.image_size
        self.needs_mask = self.card.needs_mask
        self.onehot = self.card.onehot_labels
        self.device = torch.device(device)
        self.batch_size = int(batch_size)
        n_attrs = getattr(generator, "n_attrs", len(self.attributes))
        if n_attrs != len(self.attributes):
            raise WeightsError(
                f"generator takes {n_attrs} attributes but the model meta lists {len(self.attributes)}"
            )
        self.G = generator.to(self.device)
        self.norm_stats = prepare_generator(self.G, self.card.norm_stats)
        self.classifier = None
        if classifier is not None:
            net, cmeta = classifier
            self.classifier = (net.to(self.device).eval(), dict(cmeta))
            try:
                self._classifier_columns = classifier_columns(self.attributes, dict(cmeta))
            except WeightsError as err:
                raise WeightsError(f"{err}; give the source labels with --source instead") from None
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
        from secgan.auxiliary.classifier import bundled_classifier_meta
        from secgan.auxiliary.parser.frozen import FrozenParser
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
        card = ModelCard.from_json(meta, model_dir / "config.json")
        classifier = None
        if classifier_dir is not None:
            from secgan.auxiliary.classifier import load_classifier

            classifier = load_classifier(classifier_dir, device="cpu")
        elif "classifier" in nets:
            classifier = (nets["classifier"], bundled_classifier_meta(nets["classifier"], card))
        parser = None
        if parser_dir is not None:
            parser = FrozenParser.load(parser_dir, device="cpu", image_size=card.image_size)
        elif "parser" in nets:
            parser = FrozenParser.from_bundled(nets["parser"], card)
        editor = cls(
            nets["G"], card, classifier=classifier, parser=parser, device=device, batch_size=batch_size,
            precision=precision,
        )  # fmt: skip
        editor.model_dir = model_dir
        log.info(
            "loaded %s (%s, %d attributes, %d px, conditioning %s, norm stats %s)",
            model_dir,
            card.backbone or type(nets["G"]).__name__,
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

    def labels_from_names(self, present: Sequence[str] | str, n: int = 1) -> torch.Tensor:
        """Source labels ``[n, n_a]`` from the names of the attributes the face has (others absent; names
        in any case)."""
        if isinstance(present, str):
            present = [p.strip() for p in present.split(",") if p.strip()]
        y = torch.zeros(n, len(self.attributes))
        for name in present:
            y[:, self.attributes.index(canonical_attribute(name, self.attributes, "--source"))] = 1
        return y

    @torch.no_grad()
    def predict_probs(self, images: torch.Tensor) -> torch.Tensor:
        """The classifier's probability of each attribute ``[N, n_a]`` in ``[0, 1]`` for images
        ``[N, 3, S, S]`` in ``[-1, 1]`` (model attribute order)."""
        if self.classifier is None:
            raise SecganError(
                "this model has no classifier to predict the source attributes: pass --source "
                "(the attributes the face has, e.g. --source Brown_Hair,Young) or --classifier C_DIR"
            )
        from secgan.auxiliary.classifier import predict_probs

        net, cmeta = self.classifier
        out = [predict_probs(net, cmeta, chunk.to(self.device)) for chunk in images.split(self.batch_size)]
        return torch.cat(out)[:, self._classifier_columns].float().to(images.device)

    def labels_from_probs(self, probs: torch.Tensor) -> torch.Tensor:
        """Source labels ``[N, n_a]`` in {0, 1} from :meth:`predict_probs`: each probability > 0.5, or the
        most probable class for one-hot (RaFD) models."""
        if self.onehot or not self.classifier[1].get("multilabel", True):
            return torch.nn.functional.one_hot(probs.argmax(dim=1), probs.shape[1]).float()
        return (probs > 0.5).float()

    @torch.no_grad()
    def predict_source(self, images: torch.Tensor) -> torch.Tensor:
        """Source labels ``[N, n_a]`` in {0, 1} predicted by the classifier from images ``[N, 3, S, S]``."""
        return self.labels_from_probs(self.predict_probs(images))

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

    def _check_inputs(self, images: torch.Tensor, source: torch.Tensor | None) -> torch.Tensor:
        """Validated source labels ``[N, n_a]`` for aligned crops ``images [N, 3, S, S]``."""
        if images.dim() != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images [N, 3, S, S], got {tuple(images.shape)}")
        if tuple(images.shape[2:]) != (self.image_size, self.image_size):
            raise ConfigError(
                f"images are {images.shape[2]}x{images.shape[3]} but the model edits "
                f"{self.image_size}x{self.image_size} aligned crops"
            )
        n = images.shape[0]
        if source is None:
            source = self.predict_source(images)
        source = source.float()
        if source.dim() == 1:
            source = source.unsqueeze(0).expand(n, -1)
        if source.shape != (n, len(self.attributes)):
            raise ValueError(f"source must be [{n}, {len(self.attributes)}], got {tuple(source.shape)}")
        return source

    @torch.no_grad()
    def _generate(self, images: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``G(x, c)`` in batches: ``[N, 3, S, S]`` in ``[-1, 1]`` on the device of ``images``."""
        out = []
        for x, cc in zip(images.split(self.batch_size), c.split(self.batch_size)):
            x = x.to(self.device, torch.float32)
            x = self.card.generator_input(x, self.parser.labels12(x) if self.needs_mask else None)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                y = self.G(x, cc.to(self.device))
            out.append(y.float().clamp(-1, 1))
        return torch.cat(out).to(images.device)

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
        return self.edit_with_reference(images, edits, source, intensity, reference=False)[0]

    @torch.no_grad()
    def edit_with_reference(
        self,
        images: torch.Tensor,
        edits: Mapping[str, float] | Sequence[str],
        source: torch.Tensor | None = None,
        intensity: float = 1.0,
        reference: bool = True,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(G(x, c), G(x, c0))``: the edit and the generator's no-change output, both ``[N, 3, S, S]`` in
        ``[-1, 1]``. ``c0`` is the condition that asks for no change (0 for ``diff``, the source labels for
        target conditioning); ``G(x, c) - G(x, c0)`` is the edit alone, without the generator's
        reconstruction error. Faces whose condition equals ``c0`` (nothing to change) get the very same
        tensor for both, so their difference is exactly 0. ``reference=False`` skips ``G(x, c0)``."""
        edits = parse_edits(edits, self.attributes)
        source = self._check_inputs(images, source)
        c, _ = self.condition(source.cpu(), edits, intensity)
        if not reference:
            return self._generate(images, c), None
        c0, _ = self.condition(source.cpu(), {}, intensity)
        same = (c == c0).all(dim=1)
        if bool(same.all()):
            out = self._generate(images, c)
            return out, out
        # one pass over [x; x] with [c; c0] (per-image norms: a face's output does not depend on the batch)
        n = images.shape[0]
        both = self._generate(torch.cat([images, images]), torch.cat([c, c0]))
        out, ref = both[:n], both[n:]
        ref = torch.where(same.to(ref.device)[:, None, None, None], out, ref)
        return out, ref


def images_to_tensor(images: Sequence[Any]) -> torch.Tensor:
    """uint8 RGB arrays ``[S, S, 3]`` -> float tensor ``[N, 3, S, S]`` in ``[-1, 1]``."""
    import numpy as np

    arr = np.stack([np.asarray(im, dtype=np.uint8) for im in images])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)


def tensor_to_images(x: torch.Tensor) -> list[Any]:
    """``[N, 3, S, S]`` in ``[-1, 1]`` -> list of uint8 RGB arrays ``[S, S, 3]``."""
    return list(tensor_to_image(x))
