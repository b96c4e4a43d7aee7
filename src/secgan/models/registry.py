"""Model specs: ``{"family": str, "kwargs": {...}}`` <-> ``nn.Module``.

Every model class has a ``family`` class attribute and keeps its constructor arguments in
``self.spec_kwargs``, so a network rebuilds from its saved spec alone (``config.json`` of an exported model,
training checkpoints).
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from secgan.errors import ConfigError
from secgan.models.backbones import network_classes
from secgan.models.bisenet import BiSeNet
from secgan.models.classifier import AttributeClassifier
from secgan.models.unet_parser import UNetParser

FAMILIES: dict[str, type[nn.Module]] = {
    cls.family: cls  # type: ignore[attr-defined]
    for cls in (
        *network_classes(),  # every backbone's G and D (models/backbones.py)
        BiSeNet,
        UNetParser,
        AttributeClassifier,
    )
}


def _plain(value: Any) -> Any:
    """Tuples -> lists, recursively, so a spec survives a JSON round trip unchanged."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def spec_of(module: nn.Module) -> dict[str, Any]:
    """The spec of a model built by this package: ``{"family": ..., "kwargs": {...}}`` (JSON-ready)."""
    family = getattr(module, "family", None)
    if family not in FAMILIES or not hasattr(module, "spec_kwargs"):
        raise ConfigError(f"{type(module).__name__} is not a secgan model (no family/spec_kwargs)")
    return {"family": family, "kwargs": _plain(dict(module.spec_kwargs))}


def build_model(spec: dict[str, Any]) -> nn.Module:
    """Rebuild a model from its spec; :class:`ConfigError` on an unknown family or argument."""
    if not isinstance(spec, dict) or "family" not in spec:
        raise ConfigError(f"model spec must be a dict with a 'family' key, got {spec!r}")
    family = spec["family"]
    if family not in FAMILIES:
        raise ConfigError(f"unknown model family {family!r}; valid: {', '.join(sorted(FAMILIES))}")
    cls = FAMILIES[family]
    kwargs = dict(spec.get("kwargs") or {})
    valid = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ConfigError(
            f"model family {family!r}: unknown argument(s) {unknown}; valid: {', '.join(valid)}"
        )
    return cls(**kwargs)


def count_parameters(module: nn.Module) -> int:
    """Number of parameters (buffers excluded)."""
    return sum(p.numel() for p in module.parameters())
