"""The parts a :class:`~secgan.training.trainer.Trainer` is assembled from, built from the config: the
frozen parser, the dataset (with the parser mask cache when one is built) and the export classifier (the
state of a run to resume: :func:`secgan.training.checkpoint.restore_checkpoint`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from secgan.auxiliary.parser.protocol import ParserLike
from secgan.config import Config
from secgan.errors import ConfigError, DataError

log = logging.getLogger(__name__)

# torch.compile backend of train.compile ("inductor": generated kernels; the tests use "aot_eager").
COMPILE_BACKEND = "inductor"


def needs_masks(cfg: Config) -> bool:
    """Whether the run feeds source masks to a network (concat and secgan modes)."""
    return cfg.model.mode in ("concat", "secgan")


def load_parser(cfg: Config, device: torch.device) -> ParserLike | None:
    """The frozen parser of ``parser.dir`` (``None`` without one; an error in secgan mode, which needs P),
    run at its recorded input size, else the default for ``data.image_size``."""
    pdir = cfg.parser.dir
    if pdir is None:
        if cfg.model.mode == "secgan":
            raise ConfigError(
                "model.mode=secgan needs the frozen parser P: pass --parser P_DIR (or parser.dir)"
            )
        return None
    from secgan.auxiliary.parser import FrozenParser

    return FrozenParser.load(pdir, device=device, image_size=cfg.data.image_size)


def build_dataset(cfg: Config, parser: ParserLike | None) -> Any:
    """The training dataset of ``cfg.data`` (flips are drawn by the trainer, for an exact resume), with the
    parser's cached masks attached when the cache exists."""
    from secgan.data.registry import build_dataset as build

    dc = cfg.data
    if dc.root is None:
        raise ConfigError("data.root is not set: pass --data DIR (the dataset folder)")
    need_mask = needs_masks(cfg)
    masks = "gt" if (need_mask and dc.masks == "gt") else None
    ds = build(
        dc.dataset,
        dc.root,
        split=dc.split,
        attrs=list(dc.attributes) if dc.attributes else None,
        image_size=dc.image_size,
        flip=False,  # flips are drawn by the trainer from the run's seed (exact resume)
        masks=masks,
        max_items=dc.max_items,
        **dc.loader_options(),  # RaFD: cameras and identity split
    )
    if need_mask and dc.masks == "parser" and parser is not None and cfg.parser.use_cache:
        attach_mask_cache(cfg, ds, parser)
    return ds


def attach_mask_cache(cfg: Config, ds: Any, parser: Any) -> None:
    """Serve the source masks from the parser mask cache of this dataset and parser, when one is built."""
    from secgan.auxiliary.parser import parser_hash
    from secgan.auxiliary.parser.cache import default_cache_dir, load_mask_cache

    dc = cfg.data
    h = parser_hash(parser)
    cache = default_cache_dir(dc.root, dc.dataset, dc.split, dc.image_size, h)
    if not (cache / "meta.json").is_file():
        log.info("no parser mask cache at %s: source masks are parsed on the fly", cache)
        return
    try:
        paths = getattr(ds, "paths", None)  # the cache is stale when an image changed under its name
        ds.set_mask_array(load_mask_cache(cache, list(ds.names), dc.image_size, h, paths=paths))
        log.info("source masks from the parser mask cache %s", cache)
    except DataError as err:
        log.warning("%s; source masks are parsed on the fly instead", err)


def check_dataset(cfg: Config, dataset: Any, parser: ParserLike | None, attributes: list[str]) -> None:
    """The dataset fits the run: masks where the mode needs them, the config's labels, one full batch."""
    mode = cfg.model.mode
    if needs_masks(cfg) and parser is None:
        has = getattr(dataset, "has_masks", None)
        if not (has if has is not None else "mask" in dataset[0]):
            raise ConfigError(
                f"model.mode={mode} needs source masks: pass --parser P_DIR (or parser.dir), or "
                "use data.masks=gt with a dataset that has ground-truth masks"
            )
        log.warning("no parser: the exported concat model needs masks from elsewhere (no parser bundled)")
    ds_attrs = list(getattr(dataset, "attributes", attributes))
    if ds_attrs != attributes:
        raise ConfigError(
            f"the dataset's labels are {ds_attrs} but the config trains on {attributes} (data.attributes)"
        )
    if len(dataset) < cfg.train.batch_size:
        raise DataError(
            f"the dataset has {len(dataset)} images, fewer than one batch of {cfg.train.batch_size}"
        )


def load_export_classifier(cfg: Config) -> tuple[nn.Module, dict] | None:
    """The classifier bundled into the export (``export.classifier``): ``(net, its meta)`` or ``None``."""
    cdir = cfg.export.classifier
    if cdir is None:
        return None
    from secgan.models.export import load_pretrained

    nets, meta = load_pretrained(cdir, device="cpu")
    if "classifier" in nets:
        return nets["classifier"], meta
    if len(nets) == 1:
        return next(iter(nets.values())), meta
    raise ConfigError(
        f"export.classifier={cdir}: expected one network named 'classifier', found {list(nets)}"
    )


def compile_forwards(
    nets: dict[str, nn.Module], parser: ParserLike | None, mode: str
) -> tuple[dict[str, Callable[..., Any]], Callable[..., Any] | None]:
    """``torch.compile`` the generators, the critics' loss passes and (secgan mode) the parser's
    ``log_probs12`` on G_rgb's output, each with static shapes: ``(forward callables by name,
    log_probs12)``.

    The critics' gradient-penalty pass stays eager: AOTAutograd (torch.compile's autograd) does not
    support double backward, which the penalty's ``create_graph=True`` needs. The compiled and eager
    critics share their parameters, so both passes train the same weights.
    """
    fwd = {name: torch.compile(net, dynamic=False, backend=COMPILE_BACKEND) for name, net in nets.items()}
    log_probs = parser.log_probs12 if parser is not None else None
    if mode == "secgan" and parser is not None:
        log_probs = torch.compile(parser.log_probs12, dynamic=False, backend=COMPILE_BACKEND)
    log.info("train.compile: generators, critics (gradient penalty eager) and parser compiled")
    return fwd, log_probs
