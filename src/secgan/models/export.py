"""Exported models: a folder with ``config.json`` and one ``NAME.safetensors`` per network.

``config.json`` = ``{"format": "secgan-model", "version": 1, "networks": {NAME: spec}, **meta}``; every
network rebuilds from its spec (:func:`secgan.models.registry.build_model`) and loads its weights strictly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from secgan.errors import WeightsError
from secgan.models.registry import build_model, spec_of
from secgan.utils.io import atomic_path, write_json_atomic

FORMAT = "secgan-model"
VERSION = 1
RESERVED = ("format", "version", "networks")


def _tensors_for_safetensors(module: nn.Module) -> dict[str, torch.Tensor]:
    """The state dict as independent, contiguous CPU tensors.

    safetensors refuses tensors that share storage; a state dict can hold views of one storage (tied
    weights, or small buffers carved from a larger one), so every tensor is cloned into its own storage.
    Buffers such as BatchNorm's ``num_batches_tracked`` (a 0-d int64) are stored like any other tensor.
    """
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in module.state_dict().items()}


def save_pretrained(
    directory: str | os.PathLike, networks: dict[str, nn.Module], meta: dict[str, Any]
) -> Path:
    """Write ``NAME.safetensors`` for every network and then ``config.json`` (all atomically).

    ``meta`` holds the extra config keys (attributes, conditioning, image_size, dataset, ...); it must be
    JSON-serialisable and must not use the reserved keys ``format``, ``version``, ``networks``.
    """
    directory = Path(directory)
    clash = [k for k in meta if k in RESERVED]
    if clash:
        raise ValueError(f"meta uses reserved key(s) {clash}")
    specs = {}
    for name, net in networks.items():
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"bad network name {name!r}")
        specs[name] = spec_of(net)
        with atomic_path(directory / f"{name}.safetensors") as tmp:
            save_file(_tensors_for_safetensors(net), str(tmp), metadata={"family": specs[name]["family"]})
    config = {"format": FORMAT, "version": VERSION, "networks": specs, **meta}
    write_json_atomic(config, directory / "config.json")
    return directory


def read_config(directory: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``config.json`` of an exported model folder."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise WeightsError(f"not an exported secgan model folder: {path} not found")
    try:
        config = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise WeightsError(f"cannot read {path}: {err}") from err
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise WeightsError(f"{path}: not a secgan model config (format must be {FORMAT!r})")
    if config.get("version") != VERSION:
        raise WeightsError(
            f"{path}: unsupported version {config.get('version')!r} (this secgan reads {VERSION})"
        )
    if not isinstance(config.get("networks"), dict):
        raise WeightsError(f"{path}: no 'networks' mapping")
    return config


def load_state_dict_strict(
    module: nn.Module, state: dict[str, torch.Tensor], source: str | os.PathLike
) -> None:
    """Strict load with one clear :class:`WeightsError` naming ``source`` on any key or shape mismatch."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s) e.g. {missing[:3]}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s) e.g. {unexpected[:3]}")
        if wrong:
            k = wrong[0]
            parts.append(
                f"{len(wrong)} shape mismatch(es) e.g. {k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
            )
        raise WeightsError(
            f"{source}: checkpoint of another architecture ({type(module).__name__}): {'; '.join(parts)}"
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
        try:
            state = load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as err:
            raise WeightsError(f"cannot read {path}: {err}") from err
        net = build_model(specs[name])
        load_state_dict_strict(net, state, path)
        nets[name] = net.to(device).eval()
    meta = {k: v for k, v in config.items() if k not in RESERVED}
    return nets, meta
