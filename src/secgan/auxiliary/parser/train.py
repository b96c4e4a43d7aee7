"""Training and evaluation of the face parser P at a chosen resolution (the paper pre-trains one per
resolution).

The network is the 19-class BiSeNet of the public checkpoint, but the data gives 12-segment masks
(ground-truth part masks merged, or the synthetic renderer's). The loss is therefore the negative
log-likelihood of the *12-segment* probabilities obtained by summing the 19-class softmax over each segment
(``log p12_c = logsumexp_{k in c} log_softmax(z)_k``) on the main and both auxiliary heads; the architecture
and the 19-class output stay those of the public parser, so every consumer treats both alike.

Defaults (:class:`ParserTrainSettings`) are the settings measured to work on 64 px synthetic faces
(mean IoU ~0.79 on 4,000 faces in ~5 min on a loaded 2-core CPU): the network runs at
``max(256, size)`` px, because BiSeNet's 1/8-resolution output cannot resolve eyes or earrings a few
pixels wide at 64 px; width 8 (64 is the public architecture), Adam at 3e-3, batches of 8, 3 epochs. The
resolved settings are written to the parser directory's ``config.json`` (``"training"``).

``arch="unet"`` trains the evaluation's independent judge instead (:mod:`secgan.models.unet_parser`): the
same data, loss (one head) and loop, at the image size (a full-resolution network needs no upsampling).

Quality is reported as per-segment intersection-over-union over a held-out split (accumulated over all its
pixels) and their unweighted mean over the segments that occur (union > 0). The report is also written to
the parser directory's ``config.json`` (``"evaluation"``), so every user of the parser can say how well it
parses (the evaluation's judge reports it next to the shape metrics it gives).
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset
from tqdm import tqdm

from secgan.auxiliary.batches import BatchSource
from secgan.auxiliary.fit import fit, prepare_sources
from secgan.auxiliary.parser.frozen import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    FrozenParser,
    normalize_images,
)
from secgan.auxiliary.parser_settings import DEFAULTS, PARSER_ARCHS, ParserTrainSettings
from secgan.data.masks import NUM_SEGMENTS, SEGMENTS_12, matrix_19_to_12
from secgan.errors import ConfigError, DataError
from secgan.models.bisenet import BiSeNet
from secgan.models.unet_parser import UNetParser

log = logging.getLogger(__name__)


def log_probs12(logits19: torch.Tensor) -> torch.Tensor:
    """Logits ``[N, 19, H, W]`` -> log-probabilities of the 12 segments ``[N, 12, H, W]``.

    ``log p12_c = log sum_{k in c} exp(z_k - m) - log sum_k exp(z_k - m)`` with ``m`` the per-pixel max
    (so the largest term is 1); a segment whose mass underflows is clamped at ``1e-30`` (NLL <= 69). One
    matrix product instead of a gather per segment: this loss dominates a CPU training step otherwise.
    """
    z = logits19 - logits19.amax(dim=1, keepdim=True).detach()
    sums = torch.einsum("nkhw,kc->nchw", z.exp(), matrix_19_to_12(z.device, z.dtype)).contiguous()
    return sums.clamp_min(1e-30).log() - sums.sum(dim=1, keepdim=True).log()


def parser_loss(
    outputs: tuple[torch.Tensor, ...], mask12: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Sum over the heads of the per-pixel NLL of the 12-segment target ``mask12 [N, H, W]`` (long),
    weighted by ``weights [12]`` when given (a weighted mean, as ``nll_loss`` defines it)."""
    return sum(F.nll_loss(log_probs12(o), mask12, weight=weights) for o in outputs)  # type: ignore[return-value]


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, n: int = NUM_SEGMENTS) -> torch.Tensor:
    """``[n, n]`` counts, rows = target class, columns = predicted class."""
    idx = target.reshape(-1).long() * n + pred.reshape(-1).long()
    return torch.bincount(idx, minlength=n * n).reshape(n, n)


def iou_report(cm: torch.Tensor) -> dict[str, Any]:
    """Per-segment IoU (``None`` where the segment never occurs in target or prediction), their mean over
    the occurring segments and the pixel accuracy, from a 12x12 confusion matrix."""
    cm = cm.double()
    tp = cm.diag()
    union = cm.sum(0) + cm.sum(1) - tp
    raw = {name: None if union[k] == 0 else float(tp[k] / union[k]) for k, name in enumerate(SEGMENTS_12)}
    valid = [v for v in raw.values() if v is not None]
    return {
        "iou": {name: None if v is None else round(v, 4) for name, v in raw.items()},
        "mean_iou": round(float(np.mean(valid)), 4) if valid else None,
        "pixel_accuracy": round(float(tp.sum() / cm.sum()), 4) if cm.sum() > 0 else None,
        "pixels": int(cm.sum()),
    }


@torch.no_grad()
def evaluate_parser(parser: FrozenParser, source: BatchSource) -> dict[str, Any]:
    """IoU report of ``parser`` on a dataset with ground-truth masks (images at the dataset's size)."""
    if not source.has_mask:
        raise DataError("parser evaluation needs a dataset with masks (masks='gt')")
    device = next(parser.parameters()).device
    cm = torch.zeros(NUM_SEGMENTS, NUM_SEGMENTS, dtype=torch.long)
    for batch in tqdm(source.batches(shuffle=False), desc="parser eval", unit="batch", leave=False):
        pred = parser.labels12(batch["image"].to(device)).cpu()
        cm += confusion_matrix(pred, batch["mask"])
    out = iou_report(cm)
    out["images"] = len(source)
    return out


def segment_weights(source: BatchSource, power: float = 0.5, max_items: int = 512) -> torch.Tensor:
    """Per-segment loss weights ``[12]`` ``~ frequency ** -power`` (segments absent from the data get the
    largest weight seen), normalised so the pixel-weighted mean weight is 1. Frequencies come from the
    in-memory masks, or from the first ``max_items`` items of a streamed dataset."""
    if source.tensors is not None:
        masks = source.tensors["mask"]
    else:
        n = min(len(source), max_items)
        masks = torch.stack([source.ds[i]["mask"] for i in range(n)])
    freq = torch.bincount(masks.reshape(-1), minlength=NUM_SEGMENTS).double()
    freq = freq / freq.sum()
    w = torch.zeros(NUM_SEGMENTS, dtype=torch.float64)
    present = freq > 0
    w[present] = freq[present] ** -power
    w[~present] = w[present].max() if present.any() else 1.0
    return (w / (w * freq).sum()).float()


def build_parser_net(arch: str, base_width: int, input_size: int) -> torch.nn.Module:
    """A fresh 19-class parser network of ``arch`` (``PARSER_ARCHS``) running at ``input_size`` px."""
    if arch == "bisenet":
        return BiSeNet(n_classes=19, base_width=base_width)
    if arch == "unet":
        net = UNetParser(n_classes=19, base_width=base_width)
        if input_size % 2**net.n_down:
            raise ConfigError(
                f"--input-size {input_size}: the U-Net parser needs a multiple of {2**net.n_down}"
            )
        return net
    raise ConfigError(f"--arch {arch!r}: unknown parser architecture; valid: {', '.join(PARSER_ARCHS)}")


def fit_parser(
    train_ds: Dataset,
    eval_ds: Dataset,
    out: str | os.PathLike,
    epochs: int = DEFAULTS.epochs,
    batch_size: int = DEFAULTS.batch_size,
    seed: int = DEFAULTS.seed,
    base_width: int = DEFAULTS.base_width,
    input_size: int | None = DEFAULTS.input_size,
    lr: float = DEFAULTS.lr,
    class_balance: float = DEFAULTS.class_balance,
    device: str | torch.device = "cpu",
    time_limit: float | None = None,
    num_workers: int = 0,
    trained_on: str = "",
    arch: str = DEFAULTS.arch,
    eval_split: str = "",
) -> dict[str, Any]:
    """Train a BiSeNet on ``train_ds`` (items with ``image [3, S, S]`` in ``[-1, 1]`` and ``mask [S, S]``
    12-segment ids, read without random flips), write the parser directory ``out`` and return the IoU
    report on ``eval_ds``.

    Args:
        input_size: the side the network runs at (default ``max(256, S)``); images are resized to it and
            the logits go straight back to ``S``, exactly as :class:`FrozenParser` does at inference.
            Running a stride-8 network above the image size resolves small parts (eyes, earrings) of
            small images.
        base_width: BiSeNet width (64 = the public architecture; smaller is faster), or the U-Net's width
            at full resolution.
        lr: peak Adam learning rate (linear warm-up, then cosine decay to 0).
        class_balance: segment weights ``frequency ** -class_balance`` in the loss (0 = unweighted); the
            small segments otherwise weigh little in a loss that the mean IoU weighs equally.
        time_limit: wall-clock budget in seconds for this call up to the end of training (decoding the
            data included, the final evaluation not): the cosine decay is compressed to end in time.
        arch: ``"bisenet"`` (the training parser) or ``"unet"`` (the evaluation's judge; runs at ``S`` by
            default).
        eval_split: the name of ``eval_ds``'s split, recorded with the IoU report in ``config.json``.
    """
    t0 = time.time()
    train_src, eval_src = prepare_sources(train_ds, eval_ds, epochs, batch_size, seed, num_workers)
    if not train_src.has_mask:
        raise DataError("parser training needs a dataset with masks (masks='gt')")
    size = int(train_ds[0]["image"].shape[-1])
    settings = ParserTrainSettings(epochs, batch_size, base_width, input_size, lr, class_balance, seed, arch)
    settings = settings.resolved(size)
    input_size = int(settings.input_size)  # type: ignore[arg-type]
    weights = segment_weights(train_src, class_balance).to(device) if class_balance > 0 else None
    load_s = time.time() - t0

    net = build_parser_net(arch, base_width, input_size).to(device)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)

    def loss_of_batch(batch: dict) -> torch.Tensor:
        x = batch["image"].to(device)
        outputs = net(normalize_images(x, mean, std, input_size), output_size=tuple(x.shape[2:]))
        return parser_loss(outputs, batch["mask"].to(device), weights)

    fitted = fit(net, train_src, loss_of_batch, name="parser", epochs=epochs, batch_size=batch_size, lr=lr,
                 seed=seed, time_limit=time_limit, started=t0)  # fmt: skip

    parser = FrozenParser(net, input_size=input_size)
    t_eval = time.time()
    report = evaluate_parser(parser, eval_src)  # before saving: config.json records it
    evaluation = {"split": eval_split, **report}
    parser.cpu().save(out, trained_on=trained_on, training={**asdict(settings), "image_size": size},
                      evaluation=evaluation)  # fmt: skip
    return {
        "arch": arch,
        "parser_dir": str(out),
        "size": size,
        "settings": asdict(settings),
        "input_size": input_size,
        "base_width": base_width,
        "class_balance": class_balance,
        "train_images": len(train_src),
        "epochs": epochs,
        "steps": fitted.steps,
        "planned_steps": fitted.planned_steps,
        "stopped_early": fitted.stopped_early,
        "load_seconds": round(load_s, 1),
        "train_seconds": round(fitted.train_seconds, 1),
        "eval_seconds": round(time.time() - t_eval, 1),
        **report,
    }


def train_parser(
    root: str | os.PathLike,
    dataset: str,
    size: int,
    out: str | os.PathLike,
    max_images: int | None = None,
    eval_split: str = "test",
    max_eval_images: int | None = None,
    **fit_kwargs: Any,
) -> dict[str, Any]:
    """Train a parser on the train split of ``dataset`` (ground-truth masks) at ``size`` px, write the parser
    directory ``out`` and return its IoU report on ``eval_split``; ``fit_kwargs`` go to :func:`fit_parser`."""
    from secgan.data.registry import build_dataset

    train_ds = build_dataset(dataset, root, split="train", image_size=size, masks="gt", max_items=max_images)
    eval_ds = build_dataset(
        dataset, root, split=eval_split, image_size=size, masks="gt", max_items=max_eval_images
    )
    trained_on = f"{dataset} {Path(root).resolve()} split=train n={len(train_ds)} size={size}"
    result = fit_parser(train_ds, eval_ds, out, trained_on=trained_on, eval_split=eval_split, **fit_kwargs)
    return {"dataset": dataset, "eval_split": eval_split, **result}


def eval_parser_dir(
    parser_dir: str | os.PathLike,
    root: str | os.PathLike,
    dataset: str,
    size: int | None = None,
    split: str = "test",
    batch_size: int = 32,
    max_images: int | None = None,
    device: str | torch.device = "cpu",
) -> dict[str, Any]:
    """IoU report of a parser directory on ``split`` of a dataset with masks (at ``size``, default the image
    size it was trained at, else its input size)."""
    from secgan.data.registry import build_dataset

    parser = FrozenParser.load(parser_dir, device=device, image_size=size)
    trained = parser.meta.get("training") or {}
    size = int(size or trained.get("image_size") or parser.input_size)  # the images it was trained on
    ds = build_dataset(dataset, root, split=split, image_size=size, masks="gt", max_items=max_images)
    if len(ds) == 0:
        raise DataError(f"{root}: the {split} split is empty")
    report = evaluate_parser(parser, BatchSource(ds, batch_size))
    return {"parser_dir": str(parser_dir), "dataset": dataset, "size": size, "eval_split": split, **report}
