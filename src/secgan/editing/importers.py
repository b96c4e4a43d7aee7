"""Turn public checkpoints of the reference projects into our exported model folders (paper-notes §9).

* Official StarGAN (yunjey/stargan): ``{iter}-G.ckpt`` is a bare generator state dict with keys
  ``main.0`` ... ``main.21`` (convs at 0, 3, 6, 15, 18, 21; InstanceNorms at 1, 4, 7, 16, 19; residual blocks
  at 9-14 with ``.main.{0,1,3,4}``). Its public models condition on the 0/1 *target* label (conditioning
  ``"target01"``) and were trained on CelebA's centre 178 crop resized to 128.
* PyTorch AttGAN (elvisyjlin/AttGAN-PyTorch): ``weights.{epoch}.pth`` = ``{"G": state_dict, ...}`` (keys
  ``enc_layers.{i}.layers.{0,1}.*``, ``dec_layers.{i}.layers.{0,1}.*``; ``module.`` prefixed after
  multi-GPU training). Conditioned on the target scaled to +-thres_int 0.5 with the edited attribute at
  +-test_int (conditioning ``"target_pm"``); tested in eval mode (BatchNorm running statistics).

The architecture sizes are read from the weight shapes; the key set and every shape are then checked
against our network, and a file of another architecture raises :class:`WeightsError` naming the file and
the first mismatching key. Files are read with ``weights_only=True``.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from secgan.data.attributes import CELEBA_ATTRIBUTES, PAPER_ATTRIBUTES, resolve_attributes
from secgan.errors import WeightsError
from secgan.models.attgan import AttGANGenerator
from secgan.models.export import ModelCard, save_pretrained
from secgan.models.stargan import StarGANGenerator
from secgan.utils.io import file_sha256, load_torch_file

log = logging.getLogger(__name__)

ATTGAN_THRES_INT = 0.5


def strip_prefix(state: dict[str, Any], prefix: str = "module.") -> dict[str, Any]:
    """Remove a DataParallel ``module.`` prefix when every key has it."""
    if state and all(k.startswith(prefix) for k in state):
        return {k[len(prefix) :]: v for k, v in state.items()}
    return state


def _tensor_dict(obj: Any, path: Path, what: str) -> dict[str, torch.Tensor]:
    """The generator state dict in a loaded file: bare, or under ``"G"`` / ``"state_dict"``."""
    for key in ("G", "state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
            break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(
            f"{path}: not a {what} state dict (expected a mapping of parameter names to tensors)"
        )
    return dict(obj)


def check_layout(
    net: nn.Module, state: dict[str, torch.Tensor], path: Path, what: str
) -> dict[str, torch.Tensor]:
    """Compare ``state`` with ``net``'s state dict key by key (in ``net``'s order) and raise a
    :class:`WeightsError` naming the file and the first mismatching key. BatchNorm/InstanceNorm
    ``num_batches_tracked`` counters absent from older files are filled with zeros. Returns the state
    dict to load."""
    own = net.state_dict()
    state = dict(state)
    for key, ref in own.items():
        if key not in state:
            if key.endswith("num_batches_tracked"):
                state[key] = torch.zeros_like(ref)
                continue
            raise WeightsError(f"{path}: not {what}: first mismatching key {key!r} is missing from the file")
        if tuple(state[key].shape) != tuple(ref.shape):
            raise WeightsError(
                f"{path}: not {what}: first mismatching key {key!r} has shape {tuple(state[key].shape)}, "
                f"expected {tuple(ref.shape)}"
            )
    extra = [k for k in state if k not in own]
    if extra:
        raise WeightsError(f"{path}: not {what}: first mismatching key {extra[0]!r} is not expected")
    return {k: v.to(own[k].dtype) if v.is_floating_point() else v for k, v in state.items()}


def _weight(state: dict[str, torch.Tensor], key: str, path: Path, what: str) -> torch.Tensor:
    if key not in state:
        raise WeightsError(f"{path}: not {what}: first mismatching key {key!r} is missing from the file")
    return state[key]


def _card(attributes: list[str], image_size: int, path: Path, importer: str, **kw: Any) -> ModelCard:
    """The card of an imported public checkpoint (a CelebA baseline generator)."""
    provenance = {"importer": importer, "file": path.name, "sha256": file_sha256(path)}
    return ModelCard(
        attributes=tuple(attributes), image_size=int(image_size), dataset="celeba", mode="baseline",
        imported_from=provenance, **kw,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------- StarGAN
def stargan_from_state_dict(state: dict[str, torch.Tensor], path: Path, n_attrs: int) -> StarGANGenerator:
    """Build our StarGAN generator from an official generator state dict and load it strictly."""
    what = "an official StarGAN generator checkpoint"
    state = strip_prefix(state)
    w0 = _weight(state, "main.0.weight", path, what)
    if w0.dim() != 4 or w0.shape[2:] != (7, 7):
        raise WeightsError(
            f"{path}: not {what}: first mismatching key 'main.0.weight' has shape {tuple(w0.shape)}"
        )
    conv_dim, in_ch = int(w0.shape[0]), int(w0.shape[1])
    c_dim = in_ch - 3
    if c_dim != n_attrs:
        raise WeightsError(
            f"{path}: the generator takes {c_dim} attributes (main.0.weight is {tuple(w0.shape)}) but "
            f"--attrs lists {n_attrs}"
        )
    res_idx = sorted({int(m.group(1)) for k in state if (m := re.match(r"main\.(\d+)\.main\.", k))})
    if not res_idx:
        raise WeightsError(f"{path}: not {what}: no residual blocks (keys main.N.main.*)")
    n_down = (res_idx[0] - 3) // 3
    G = StarGANGenerator(
        3, 3, n_attrs=c_dim, conv_dim=conv_dim, n_res=len(res_idx), n_down=n_down, output="tanh"
    )
    G.load_state_dict(check_layout(G, state, path, what), strict=True)
    return G


def import_stargan(
    ckpt: str | os.PathLike,
    out_dir: str | os.PathLike,
    attributes: Sequence[str] | str | None = None,
    image_size: int = 128,
) -> Path:
    """Official StarGAN ``{iter}-G.ckpt`` -> our model folder (conditioning ``target01``; per-image
    instance-norm statistics as in the official code). ``attributes`` default: the public model's five."""
    from secgan.data.attributes import STARGAN_PUBLIC_ATTRIBUTES

    path = Path(ckpt)
    attrs = resolve_attributes(
        attributes if attributes is not None else list(STARGAN_PUBLIC_ATTRIBUTES), CELEBA_ATTRIBUTES
    )
    state = _tensor_dict(load_torch_file(path, "StarGAN generator checkpoint"), path, "StarGAN generator")
    G = stargan_from_state_dict(state, path, len(attrs))
    card = _card(
        attrs, image_size, path, "stargan", conditioning="target01", target_scale=1.0, backbone="stargan",
        norm_stats="input",
    )  # fmt: skip
    out = save_pretrained(out_dir, {"G": G}, card)
    log.info(
        "imported %s -> %s (%d attributes, conv_dim %d)", path, out, len(attrs), G.spec_kwargs["conv_dim"]
    )
    return out


# ----------------------------------------------------------------------------------------------- AttGAN
def attgan_from_state_dict(state: dict[str, torch.Tensor], path: Path, n_attrs: int) -> AttGANGenerator:
    """Build our AttGAN generator from a PyTorch-AttGAN generator state dict and load it strictly."""
    what = "a PyTorch AttGAN generator checkpoint"
    state = strip_prefix(state)
    enc = sorted(
        {int(m.group(1)) for k in state if (m := re.match(r"enc_layers\.(\d+)\.layers\.0\.weight$", k))}
    )
    dec = sorted(
        {int(m.group(1)) for k in state if (m := re.match(r"dec_layers\.(\d+)\.layers\.0\.weight$", k))}
    )
    if not enc or not dec:
        key = "enc_layers.0.layers.0.weight" if not enc else "dec_layers.0.layers.0.weight"
        raise WeightsError(f"{path}: not {what}: first mismatching key {key!r} is missing from the file")
    n_layers = len(enc)
    if len(dec) != n_layers:
        raise WeightsError(
            f"{path}: {n_layers} encoder but {len(dec)} decoder layers; only equal depths are supported"
        )
    enc_ch = [int(state[f"enc_layers.{i}.layers.0.weight"].shape[0]) for i in range(n_layers)]
    enc_dim = enc_ch[0]
    # ConvTranspose2d weights are [in, out, k, k]
    dec_in = [int(state[f"dec_layers.{i}.layers.0.weight"].shape[0]) for i in range(n_layers)]
    dec_out = [int(state[f"dec_layers.{i}.layers.0.weight"].shape[1]) for i in range(n_layers)]
    capped = enc_ch[-1] < enc_dim * 2 ** (n_layers - 1)  # widths stop doubling at max_dim (1024 in the port)
    max_dim = max(enc_ch) if capped else max(1024, *enc_ch, *dec_out[:-1])
    c_dim = dec_in[0] - enc_ch[-1]
    if c_dim != n_attrs:
        raise WeightsError(
            f"{path}: the generator takes {c_dim} attributes (dec_layers.0 input {dec_in[0]} = {enc_ch[-1]} + "
            f"{c_dim}) but --attrs lists {n_attrs}"
        )
    dec_dim = dec_out[n_layers - 2] // 2 if n_layers >= 2 else enc_dim
    shortcut = inject = 0
    for i in range(n_layers - 1):
        extra = dec_in[i + 1] - dec_out[i]
        skip = enc_ch[n_layers - 2 - i]
        if extra in (skip, skip + c_dim) and shortcut == i:
            shortcut += 1
            extra -= skip
        if extra == c_dim and inject == i:
            inject += 1
    G = AttGANGenerator(
        3, 3, n_attrs=c_dim, enc_dim=enc_dim, dec_dim=dec_dim, n_layers=n_layers, shortcut_layers=shortcut,
        inject_layers=inject, max_dim=max_dim, output="tanh",
    )  # fmt: skip
    G.load_state_dict(check_layout(G, state, path, what), strict=True)
    return G


def import_attgan(
    ckpt: str | os.PathLike,
    out_dir: str | os.PathLike,
    attributes: Sequence[str] | str | None = None,
    image_size: int = 128,
    thres_int: float = ATTGAN_THRES_INT,
) -> Path:
    """PyTorch AttGAN ``weights.{epoch}.pth`` -> our model folder (conditioning ``target_pm`` with
    ``target_scale = thres_int``; eval-mode BatchNorm). ``attributes`` default: the paper's 13."""

    path = Path(ckpt)
    attrs = resolve_attributes(
        attributes if attributes is not None else list(PAPER_ATTRIBUTES), CELEBA_ATTRIBUTES
    )
    state = _tensor_dict(load_torch_file(path, "AttGAN checkpoint"), path, "AttGAN generator")
    G = attgan_from_state_dict(state, path, len(attrs))
    if image_size % (2**G.n_layers):
        raise WeightsError(f"--image-size {image_size} must be divisible by 2**{G.n_layers} for this AttGAN")
    card = _card(
        attrs, image_size, path, "attgan", conditioning="target_pm", target_scale=float(thres_int),
        backbone="attgan", norm_stats="running",
    )  # fmt: skip
    out = save_pretrained(out_dir, {"G": G}, card)
    log.info(
        "imported %s -> %s (%d attributes, shortcut %d, inject %d)", path, out, len(attrs), G.shortcut_layers,
        G.inject_layers,
    )  # fmt: skip
    return out
