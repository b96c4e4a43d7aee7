"""``secgan info MODEL_DIR``: what an exported (or imported) model folder holds, without building it."""

from __future__ import annotations

import argparse
import json
import struct
from pathlib import Path
from typing import Any

from secgan.cli.common import print_json

# Meta keys describing how a model was trained or where it came from, reported as they are.
TRAINING_KEYS = (
    "dataset",
    "crop",
    "mode",
    "lambda_sc",
    "iterations",
    "seed",
    "imported_from",
    "onehot_labels",
)


def safetensors_summary(path: Path) -> dict[str, Any]:
    """Tensor count, parameter count and dtypes of a ``.safetensors`` file read from its JSON header only
    (nothing is loaded); errors name the file."""
    from secgan.errors import WeightsError

    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > 100 * 2**20:
                raise WeightsError(f"{path}: safetensors header of {n} bytes is implausible")
            header = json.loads(fh.read(n))
    except FileNotFoundError as err:
        raise WeightsError(f"weights file not found: {path}") from err
    except (OSError, struct.error, ValueError) as err:
        raise WeightsError(f"{path}: not a readable safetensors file ({err})") from err
    tensors = {k: v for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)}
    params = 0
    for v in tensors.values():
        count = 1
        for d in v.get("shape", []):
            count *= int(d)
        params += count
    return {
        "tensors": len(tensors),
        "parameters": params,
        "dtypes": sorted({str(v.get("dtype")) for v in tensors.values()}),
        "file_mb": round(path.stat().st_size / 2**20, 2),
    }


def verify_network(model_dir: Path, config: dict[str, Any], name: str) -> None:
    """What ``secgan edit`` checks before it loads a network, without loading it: the network builds from
    its spec within the size limits (on PyTorch's meta device), the file's header matches its shapes, and
    the file's sha256 is the one ``config.json`` records. :class:`WeightsError` names the file."""
    from secgan.models.spec_checks import build_checked, check_header
    from secgan.utils.io import verify_sha256

    path = model_dir / f"{name}.safetensors"
    check_header(path, build_checked(config["networks"][name], name, model_dir / "config.json"))
    digests = config.get("sha256") if isinstance(config.get("sha256"), dict) else {}
    verify_sha256(path, digests.get(name), what="weights file")


def model_info(path: str | Path) -> dict[str, Any]:
    """The summary printed by ``secgan info``: attributes, size, backbone, conditioning, the bundled
    networks (family, parameters) and how the model was trained or imported (its
    :class:`~secgan.models.export.ModelCard`)."""
    from secgan.models.export import read_card, read_config
    from secgan.models.model_dir import find_model_dir

    model_dir, run_dir = find_model_dir(path)
    config = read_config(model_dir)
    card = read_card(model_dir)
    networks = {}
    for name, spec in config["networks"].items():
        entry: dict[str, Any] = {"family": spec.get("family") if isinstance(spec, dict) else None}
        entry.update(safetensors_summary(model_dir / f"{Path(name).name}.safetensors"))
        verify_network(model_dir, config, name)
        entry["sha256_verified"] = isinstance(config.get("sha256"), dict) and name in config["sha256"]
        networks[name] = entry
    training = {k: getattr(card, k) for k in TRAINING_KEYS if getattr(card, k, None) is not None}
    info: dict[str, Any] = {
        "model_dir": str(model_dir),
        "run_dir": None if run_dir is None else str(run_dir),
        "backbone": card.backbone,
        "attributes": list(card.attributes),
        "num_attributes": len(card.attributes),
        "image_size": card.image_size,
        "conditioning": card.conditioning,
        "target_scale": card.target_scale,
        "needs_mask": card.needs_mask,
        "norm_stats": card.norm_stats,
        "networks": networks,
        "bundled": {
            "classifier": "classifier" in networks,
            "parser": "parser" in networks,
            "seg_generator": "G_seg" in networks,
        },
        "can_predict_source": "classifier" in networks,
        "training": training,
    }
    if "G" not in networks:
        info["note"] = "no generator 'G': not an editing model (secgan edit needs one)"
    elif "classifier" not in networks:
        info["note"] = "no classifier bundled: secgan edit needs --source (or --classifier C_DIR)"
    return info


def cmd_info(args: argparse.Namespace) -> int:
    print_json(model_info(args.model_dir))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "info",
        help="describe a model folder: attributes, size, backbone, bundled networks, training",
        description="Print JSON describing an exported model folder (or a run folder's export/, or an "
        "imported official checkpoint): its attributes, crop size, backbone, conditioning, the networks it "
        "bundles (family, parameter count, read from the safetensors headers without loading them) and how "
        "it was trained or where it was imported from. Each network is checked as secgan edit checks it "
        "(built within size limits on the meta device, header shapes, the sha256 recorded in config.json): "
        "a damaged or hostile folder is refused with one line.",
    )
    p.add_argument(
        "model_dir", metavar="MODEL_DIR", help="exported model folder, or a run folder with export/"
    )
    p.set_defaults(func=cmd_info)
