"""Checks of an untrusted model folder's network specs and weight files, before anything is built.

``config.json`` comes with the folder, so it is no more trusted than the weights: a spec's constructor
arguments are typed and bounded (:func:`check_spec`: ``conv_dim: 4096`` would build a 10-billion-parameter
network), network names stay plain file stems inside the folder (:func:`check_network_name`), a network is
first built on the meta device (shapes only, no memory) with a parameter limit (:func:`build_checked`), and
the safetensors header's names and shapes must match it before any tensor is read (:func:`check_header`).
Every failure is one :class:`WeightsError` naming the file and the field.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from torch import nn

from secgan.errors import ConfigError, WeightsError
from secgan.models.registry import FAMILIES, build_model, count_parameters

MAX_PARAMETERS = 400_000_000  # per network (1.6 GB in float32); the paper's largest is ~50M
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
# Bounds of the integer constructor arguments of every family (by argument name).
_INT_BOUNDS = {
    "image_size": (8, 2048),
    "in_channels": (1, 64),
    "out_channels": (1, 64),
    "n_attrs": (1, 256),
    "n_outputs": (1, 256),
    "n_classes": (1, 256),
    "stu_kernel": (1, 15),  # STGAN's selective transfer units (odd sizes only: the model refuses even ones)
}
_DEPTHS = (
    "n_res",
    "n_down",
    "n_layers",
    "shortcut_layers",
    "inject_layers",
    "stu_layers",
    "stu_inject_layers",
)
_WIDTHS = ("conv_dim", "enc_dim", "dec_dim", "max_dim", "fc_dim", "dim", "base_width", "widths", "stu_dim")


def check_shapes(
    own: dict[str, tuple], found: dict[str, tuple], model: str, source: str | os.PathLike
) -> None:
    """:class:`WeightsError` naming ``source`` when the tensor names or shapes ``found`` in a file differ
    from the model's ``own``."""
    missing = sorted(set(own) - set(found))
    unexpected = sorted(set(found) - set(own))
    wrong = [k for k in own if k in found and own[k] != found[k]]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s) e.g. {missing[:3]}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s) e.g. {unexpected[:3]}")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} shape mismatch(es) e.g. {k}: file {found[k]} vs model {own[k]}")
        raise WeightsError(f"{source}: checkpoint of another architecture ({model}): {'; '.join(parts)}")


def check_network_name(name: Any, source: Path) -> None:
    """A network name is a plain file stem: never a path (``../x``, ``/abs``) out of the folder."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise WeightsError(
            f"{source}: network name {str(name)[:80]!r} is not a plain name (letters, digits, '_', '-'); "
            "weights are read only from the model folder itself"
        )


def _bound(key: str, value: Any) -> tuple[int, int] | None:
    if key in _INT_BOUNDS:
        return _INT_BOUNDS[key]
    if key in _DEPTHS:
        return (0, 16)
    if key in _WIDTHS:
        return (1, 4096)
    return None


def check_spec(name: str, spec: Any, source: Path) -> None:
    """Types and bounds of a network spec from an untrusted ``config.json`` (one line naming the field)."""
    where = f"{source}: networks.{name}"
    if not isinstance(spec, dict) or not isinstance(spec.get("family"), str):
        raise WeightsError(f"{where} must be {{'family': str, 'kwargs': {{...}}}}")
    if spec["family"] not in FAMILIES:
        raise WeightsError(
            f"{where}: unknown family {spec['family'][:40]!r}; valid: {', '.join(sorted(FAMILIES))}"
        )
    kwargs = spec.get("kwargs") or {}
    if not isinstance(kwargs, dict):
        raise WeightsError(f"{where}.kwargs must be a mapping")
    for key, value in kwargs.items():
        values = value if isinstance(value, list) and len(value) <= 16 else [value]
        for v in values:
            ok = isinstance(v, (bool, str)) and len(str(v)) <= 64
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                lo, hi = _bound(key, v) or (0, 4096)
                ok = math.isfinite(v) and lo <= v <= hi and (isinstance(v, int) or key not in _INT_BOUNDS)
            if not ok:
                raise WeightsError(
                    f"{where}.kwargs.{key} = {str(value)[:60]} is out of bounds or of the wrong type"
                )


def build_checked(spec: dict[str, Any], name: str, source: Path) -> nn.Module:
    """Build ``spec`` on the meta device (shapes only, no memory) and bound its parameter count."""
    try:
        with torch.device("meta"):
            net = build_model(spec)
    except (ConfigError, TypeError, ValueError, RuntimeError) as err:
        raise WeightsError(f"{source}: networks.{name} cannot be built: {str(err).splitlines()[0]}") from err
    n = count_parameters(net)
    if n > MAX_PARAMETERS:
        raise WeightsError(
            f"{source}: networks.{name} would have {n:,} parameters (limit {MAX_PARAMETERS:,})"
        )
    return net


def check_header(path: Path, net: nn.Module) -> None:
    """Compare the tensor names and shapes in a safetensors header with ``net``'s (read before any data)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    except (SafetensorError, OSError, ValueError) as err:
        raise WeightsError(f"cannot read {path}: {err}") from err
    check_shapes({k: tuple(v.shape) for k, v in net.state_dict().items()}, shapes, type(net).__name__, path)
