"""Import the public face-parsing checkpoint ``79999_iter.pth`` (zllrunning/face-parsing.PyTorch).

The file is a plain state dict of the 19-class BiSeNet trained on CelebAMask-HQ at 512x512; it is read
with ``weights_only=True``, a ``module.`` prefix (DataParallel) is stripped, BatchNorm
``num_batches_tracked`` counters absent from files of old PyTorch versions are filled with 0, and the rest
must match our BiSeNet exactly (strict load).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from secgan.auxiliary.parser.frozen import FrozenParser
from secgan.errors import WeightsError
from secgan.models.bisenet import BiSeNet
from secgan.models.export import load_state_dict_strict
from secgan.utils.io import load_torch_file


def public_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """Read the public checkpoint as a state dict with our key names."""
    state = load_torch_file(path, what="face-parsing checkpoint")
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise WeightsError(f"{path}: not a state dict of tensors")
    return {(k[len("module.") :] if k.startswith("module.") else k): v for k, v in state.items()}


def import_public_parser(path: str | os.PathLike, out: str | os.PathLike, size: int = 512) -> FrozenParser:
    """Convert ``79999_iter.pth`` into a parser directory ``out`` running at ``size`` (default 512, the
    resolution it was trained at). Returns the loaded parser."""
    state = public_state_dict(path)
    net = BiSeNet(n_classes=19)
    for key, value in net.state_dict().items():
        if key.endswith("num_batches_tracked") and key not in state:
            state[key] = torch.zeros_like(value)
    load_state_dict_strict(net, state, Path(path))
    parser = FrozenParser(net, input_size=size)
    parser.save(out, trained_on=f"CelebAMask-HQ (public face-parsing checkpoint {Path(path).name})")
    return parser
