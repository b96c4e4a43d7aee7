"""Exported models: a folder with ``config.json`` and one ``NAME.safetensors`` per network.

``config.json`` = ``{"format": "secgan-model", "version": 1, "networks": {NAME: spec},
"sha256": {NAME: hex digest of NAME.safetensors}, **meta}``; every network rebuilds from its spec
(:func:`secgan.models.registry.build_model`) and loads its weights strictly, after its spec is bounded and
its file's header shapes are checked (:mod:`secgan.models.spec_checks`: an untrusted folder allocates
nothing first), its digest is checked (a folder mixing files of two exports, or a damaged file, is refused)
and its values are found finite (NaN/Inf weights are refused when saving and when loading).

An editing model's meta is its :class:`ModelCard`: the one place that says what an exported generator
takes (attributes, conditioning, image size, whether it needs the parser's mask) and holds every default.
The trainer's export and the checkpoint importers build a card; the editor and the evaluation read one.
Parser and classifier directories keep their own small metas (:mod:`secgan.auxiliary`).
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from torch import nn

from secgan.data.masks import NUM_SEGMENTS, one_hot
from secgan.errors import WeightsError
from secgan.models.bisenet import IMAGENET_MEAN, IMAGENET_STD
from secgan.models.conditioning import CONDITIONINGS
from secgan.models.inference import NORM_STATS
from secgan.models.parser_input import parser_input_size
from secgan.models.registry import build_model, spec_of
from secgan.models.spec_checks import (
    NAME_RE,
    build_checked,
    check_header,
    check_network_name,
    check_shapes,
    check_spec,
)
from secgan.utils.io import publish_dir, verify_sha256, write_bytes_atomic, write_json_atomic

log = logging.getLogger(__name__)

FORMAT = "secgan-model"
VERSION = 1
RESERVED = ("format", "version", "networks", "sha256")
MAX_CONFIG_BYTES = 1 << 20
MIN_SIDE, MAX_SIDE = 8, 2048  # px: image_size bounds of an untrusted card
MAX_ATTRIBUTES = 256
MODES = ("baseline", "concat", "secgan")
EDITOR_KIND = "editor"
# Written by earlier versions and read by nothing; accepted and dropped when a card is read.
RETIRED_KEYS = ("crop",)


# ----------------------------------------------------------------------------------------- model card
@dataclass(frozen=True)
class BundledParserCard:
    """How to run the parser bundled with a model (``config.json``'s ``parser``)."""

    input_size: int | None = None  # None: models.parser_input's default for the model's image_size
    mean: tuple[float, ...] = IMAGENET_MEAN  # normalisation after mapping [-1, 1] to [0, 1]
    std: tuple[float, ...] = IMAGENET_STD
    trained_on: str | None = None  # provenance, reported by the evaluation
    dir: str | None = None  # the parser directory the model was trained with (provenance)


@dataclass(frozen=True)
class ModelCard:
    """What an exported editing model is; :meth:`from_json` holds every default.

    ``needs_mask`` (the generator takes ``concat(x, one_hot(s_in))``) follows from ``mode == "concat"``.
    ``classifier`` is the bundled classifier's own meta (see :mod:`secgan.auxiliary.classifier`).
    """

    attributes: tuple[str, ...]
    conditioning: str = "diff"  # diff | target01 | target_pm (secgan.models.conditioning)
    target_scale: float = 0.5  # AttGAN's thres_int for target_pm
    image_size: int = 128
    mode: str = "baseline"  # baseline | concat | secgan
    onehot_labels: bool = False  # exclusive classes (RaFD expressions)
    norm_stats: str | None = None  # "input" | "running"; None: by the generator's norms
    backbone: str | None = None
    dataset: str | None = None
    lambda_sc: float | None = None
    iterations: int | None = None
    seed: int | None = None
    imported_from: dict[str, Any] | None = None  # importer, file, sha256 of an imported checkpoint
    parser: BundledParserCard | None = None
    classifier: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys of a newer writer, kept verbatim

    @property
    def needs_mask(self) -> bool:
        return self.mode == "concat"

    @property
    def in_channels(self) -> int:
        """Channels of the generator's input: RGB, plus the 12 one-hot segments when it needs the mask."""
        return 3 + (NUM_SEGMENTS if self.needs_mask else 0)

    @property
    def parser_input_size(self) -> int:
        """The side the bundled parser runs at: the recorded one, else the default of
        :mod:`secgan.models.parser_input` for this model's image size (a BiSeNet)."""
        return parser_input_size(self.parser.input_size if self.parser else None, self.image_size)

    def generator_input(self, x: torch.Tensor, s_in: torch.Tensor | None) -> torch.Tensor:
        """G's input: ``x [N, 3, S, S]``, or ``concat(x, one_hot(s_in))`` ``[N, 15, S, S]`` when the model
        needs the mask (``s_in [N, S, S]`` long labels, or already one-hot ``[N, 12, S, S]``)."""
        return generator_input(x, s_in if self.needs_mask else None)

    # ---------------------------------------------------------------------------------- json
    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": EDITOR_KIND, **asdict(self)}
        out["attributes"] = list(self.attributes)
        out.pop("extra")
        out["needs_mask"] = self.needs_mask
        out["in_channels"] = self.in_channels
        if self.parser is not None:
            p = asdict(self.parser)
            out["parser"] = {**p, "mean": list(p["mean"]), "std": list(p["std"])}
        return {**self.extra, **{k: v for k, v in out.items() if v is not None}}

    @classmethod
    def from_json(cls, meta: dict[str, Any], source: str | os.PathLike = "model meta") -> ModelCard:
        """Read a card from ``config.json``'s meta (any version written so far); raises
        :class:`WeightsError` naming ``source`` and the field for a value it cannot use."""
        d = {k: v for k, v in meta.items() if k not in RESERVED}
        kind = d.pop("kind", EDITOR_KIND)
        if kind != EDITOR_KIND:
            raise WeightsError(f"{source}: not an editing model (kind={kind!r}; an editing model has 'G')")
        attributes = d.pop("attributes", None)
        if not attributes or not isinstance(attributes, list):
            raise WeightsError(f"{source}: model meta has no 'attributes' list")
        needs_mask = d.pop("needs_mask", None)
        mode = d.pop("mode", "concat" if needs_mask else "baseline")
        if mode not in MODES:
            raise WeightsError(f"{source}: unknown mode {mode!r}; valid: {', '.join(MODES)}")
        if needs_mask is not None and bool(needs_mask) != (mode == "concat"):
            raise WeightsError(f"{source}: needs_mask={needs_mask} contradicts mode={mode!r}")
        in_channels = d.pop("in_channels", None)
        expected = 3 + (NUM_SEGMENTS if mode == "concat" else 0)
        if in_channels is not None and int(in_channels) != expected:
            raise WeightsError(
                f"{source}: in_channels={in_channels} but a {mode!r} generator takes {expected}"
            )
        conditioning = str(d.pop("conditioning", "diff"))
        if conditioning not in CONDITIONINGS:
            raise WeightsError(
                f"{source}: unknown conditioning {conditioning!r}; valid: {', '.join(CONDITIONINGS)}"
            )
        norm_stats = d.pop("norm_stats", None) or None
        if norm_stats is not None and norm_stats not in NORM_STATS:
            raise WeightsError(f"{source}: unknown norm_stats {norm_stats!r}; valid: {', '.join(NORM_STATS)}")
        parser = d.pop("parser", None)
        if isinstance(parser, dict):
            known = {k: parser[k] for k in ("input_size", "trained_on", "dir") if parser.get(k) is not None}
            parser = BundledParserCard(
                **known,
                mean=tuple(float(v) for v in (parser.get("mean") or IMAGENET_MEAN)),
                std=tuple(float(v) for v in (parser.get("std") or IMAGENET_STD)),
            )
        classifier = d.pop("classifier", None)
        for key in RETIRED_KEYS:
            d.pop(key, None)
        fields = {k: d.pop(k) for k in list(d) if k in _OPTIONAL_FIELDS}
        if not 1 <= len(attributes) <= MAX_ATTRIBUTES or not all(
            isinstance(a, str) and 0 < len(a) <= 64 for a in attributes
        ):
            raise WeightsError(
                f"{source}: 'attributes' must be 1..{MAX_ATTRIBUTES} names of 1..64 characters"
            )
        try:
            card = cls(
                attributes=tuple(str(a) for a in attributes),
                conditioning=conditioning,
                mode=mode,
                norm_stats=norm_stats,
                parser=parser if isinstance(parser, BundledParserCard) else None,
                classifier=dict(classifier) if isinstance(classifier, dict) else None,
                extra=d,
                **{k: _OPTIONAL_FIELDS[k](v) if v is not None else None for k, v in fields.items()},
            )
        except (TypeError, ValueError) as err:
            raise WeightsError(f"{source}: bad model meta: {err}") from err
        _check_card_bounds(card, source)
        return card


def _check_card_bounds(card: ModelCard, source: str | os.PathLike) -> None:
    """Sizes and scales of an untrusted card: ``image_size: 60000`` would make OpenCV allocate 10 GB."""
    sides = {"image_size": card.image_size}
    if card.parser is not None and card.parser.input_size is not None:
        sides["parser.input_size"] = card.parser.input_size
    for key, v in sides.items():
        if not (isinstance(v, int) and MIN_SIDE <= v <= MAX_SIDE):
            raise WeightsError(f"{source}: {key} = {v} is out of bounds ({MIN_SIDE}..{MAX_SIDE})")
    for key in ("target_scale", "lambda_sc"):
        v = getattr(card, key)
        if v is not None and not (math.isfinite(v) and abs(v) <= 1e3):
            raise WeightsError(f"{source}: {key} = {v} is not a finite number of at most 1000")


# field -> how its JSON value is read (the defaults are the dataclass's)
_OPTIONAL_FIELDS: dict[str, Any] = {
    "target_scale": float,
    "image_size": int,
    "onehot_labels": bool,
    "backbone": str,
    "dataset": str,
    "lambda_sc": float,
    "iterations": int,
    "seed": int,
    "imported_from": dict,
}


def generator_input(x: torch.Tensor, s_in: torch.Tensor | None) -> torch.Tensor:
    """``x [N, 3, S, S]`` alone, or ``concat(x, s_in one-hot)`` ``[N, 15, S, S]`` in x's dtype and memory
    format when ``s_in`` is given (``[N, S, S]`` labels or ``[N, 12, S, S]`` one-hot)."""
    if s_in is None:
        return x
    if s_in.dim() == 3:
        s_in = one_hot(s_in, NUM_SEGMENTS)
    return torch.cat([x, s_in.to(x.dtype)], dim=1)


def read_card(directory: str | os.PathLike) -> ModelCard:
    """The :class:`ModelCard` of an exported editing model folder."""
    return ModelCard.from_json(read_config(directory), Path(directory) / "config.json")


def _tensors_for_safetensors(module: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as independent, contiguous CPU tensors.

    safetensors refuses tensors that share storage; a state dict can hold views of one storage (tied
    weights, or small buffers carved from a larger one), so every tensor is cloned into its own storage.
    Buffers such as BatchNorm's ``num_batches_tracked`` (a 0-d int64) are stored like any other tensor.
    """
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}


def save_pretrained(
    directory: str | os.PathLike, networks: dict[str, nn.Module], meta: dict[str, Any] | ModelCard
) -> Path:
    """Write ``NAME.safetensors`` for every network and then ``config.json`` (with their digests).

    The files are written into a temporary folder that replaces ``directory`` as a whole (see
    :func:`secgan.utils.io.publish_dir`: files of the user's there are kept), so a kill never leaves a mix
    of two exports. ``meta`` is an editing model's :class:`ModelCard`, or the extra config keys of a parser
    or classifier directory; it must be JSON-serialisable and must not use the reserved keys ``format``,
    ``version``, ``networks``, ``sha256``. Non-finite weights are refused.
    """
    directory = Path(directory)
    if isinstance(meta, ModelCard):
        meta = meta.to_json()
    clash = [k for k in meta if k in RESERVED]
    if clash:
        raise ValueError(f"meta uses reserved key(s) {clash}")
    specs, blobs = {}, {}
    for name, net in networks.items():
        if not name or not NAME_RE.match(name):
            raise ValueError(f"bad network name {name!r}")
        specs[name] = spec_of(net)
        tensors = _tensors_for_safetensors(net)
        check_finite(tensors, f"network {name}", "refusing to export it")
        blobs[name] = save(tensors, metadata={"family": specs[name]["family"]})
    own = (*[f"{name}.safetensors" for name in blobs], "config.json")
    with publish_dir(directory, own) as tmp:
        digests = {
            name: write_bytes_atomic(data, tmp / f"{name}.safetensors") for name, data in blobs.items()
        }
        config = {"format": FORMAT, "version": VERSION, "networks": specs, "sha256": digests, **meta}
        write_json_atomic(config, tmp / "config.json")
    return directory


def check_finite(tensors: dict[str, torch.Tensor], what: str, action: str) -> None:
    """Raise :class:`WeightsError` when a floating tensor holds NaN or Inf (naming the first such key)."""
    bad = [k for k, t in tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise WeightsError(f"{what} has NaN/Inf weights in {len(bad)} tensor(s), e.g. {bad[0]}: {action}")


def read_config(directory: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``config.json`` of an exported model folder."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise WeightsError(f"not an exported secgan model folder: {path} not found")
    if path.stat().st_size > MAX_CONFIG_BYTES:
        raise WeightsError(
            f"{path}: {path.stat().st_size} bytes, over the {MAX_CONFIG_BYTES} of a model config"
        )
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, RecursionError) as err:
        msg = "nested too deeply" if isinstance(err, RecursionError) else err
        raise WeightsError(f"cannot read {path}: {msg}") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a secgan model config (format must be {FORMAT!r})")
    if config.get("version") != VERSION:
        raise WeightsError(
            f"{path}: unsupported version {config.get('version')!r} (this secgan reads {VERSION})"
        )
    if not isinstance(config.get("networks"), dict):
        raise WeightsError(f"{path}: no 'networks' mapping")
    for name, spec in config["networks"].items():
        check_network_name(name, path)
        check_spec(name, spec, path)
    return config


def load_state_dict_strict(
    module: nn.Module, state: dict[str, torch.Tensor], source: str | os.PathLike
) -> None:
    """Strict load with one clear :class:`WeightsError` naming ``source`` on any key or shape mismatch."""
    check_shapes(
        {k: tuple(v.shape) for k, v in module.state_dict().items()},
        {k: tuple(v.shape) for k, v in state.items()},
        type(module).__name__,
        source,
    )
    module.load_state_dict(state, strict=True)


def load_pretrained(
    directory: str | os.PathLike, names: list[str] | None = None, device: str | torch.device = "cpu"
) -> tuple[dict[str, nn.Module], dict[str, Any]]:
    """Rebuild and strictly load the networks of an exported folder.

    Returns ``({name: module}, meta)`` with the modules on ``device`` in ``eval()`` mode (a StarGAN
    generator reproduces the official outputs in train mode, see :mod:`secgan.models.stargan`) and ``meta``
    = the config keys other than format/version/networks. Raises :class:`WeightsError` naming the file for a
    missing file or a checkpoint of another architecture.
    """
    directory = Path(directory)
    config = read_config(directory)
    specs = config["networks"]
    wanted = list(specs) if names is None else list(names)
    nets: dict[str, nn.Module] = {}
    for name in wanted:
        if name not in specs:
            raise WeightsError(
                f"{directory / 'config.json'}: no network {name!r}; present: {', '.join(specs)}"
            )
        path = directory / f"{name}.safetensors"
        if not path.is_file():
            raise WeightsError(f"weights file not found: {path}")
        # Untrusted folder: the spec is built on the meta device (no memory), its size bounded and its
        # shapes compared with the file's header before any tensor is allocated.
        check_header(path, build_checked(specs[name], name, directory / "config.json"))
        try:
            state = load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as err:
            raise WeightsError(f"cannot read {path}: {err}") from err
        check_finite(state, str(path), "the file is unusable (a diverged or damaged export)")
        net = build_model(specs[name])
        load_state_dict_strict(net, state, path)
        # The digest last: files of another architecture get the clearer message above.
        digests = config.get("sha256") if isinstance(config.get("sha256"), dict) else {}
        verify_sha256(path, digests.get(name), what="weights file")
        nets[name] = net.to(device).eval()
    meta = {k: v for k, v in config.items() if k not in RESERVED}
    return nets, meta
