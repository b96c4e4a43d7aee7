"""Training and evaluation of the external evaluation classifier (paper-notes §7).

Trained on the train split with the crop evaluation uses (``build_dataset`` applies it), sigmoid/BCE for
attributes, softmax/cross-entropy for RaFD's expressions; reported on a held-out split as per-attribute
accuracy and its unweighted mean (RaFD: per-expression accuracy among the images of each expression, its
mean, and the overall accuracy). On data whose training faces have counterfactuals (``secgan synth``) it
trains on them too, each with its own labels (:mod:`secgan.auxiliary.classifier.augment`), unless told not
to; the classifier's meta records it under ``"augmentation"``.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset
from tqdm import tqdm

from secgan.auxiliary.batches import BatchSource
from secgan.auxiliary.classifier import CLASSIFIER_NAME, load_classifier
from secgan.auxiliary.fit import fit, prepare_sources
from secgan.errors import DataError
from secgan.models.classifier import AttributeClassifier
from secgan.models.export import save_pretrained

log = logging.getLogger(__name__)


def classifier_loss(logits: torch.Tensor, labels: torch.Tensor, multilabel: bool) -> torch.Tensor:
    """Mean BCE over attributes and batch (multi-label) or CE against the one-hot's argmax (multi-class)."""
    if multilabel:
        return F.binary_cross_entropy_with_logits(logits, labels)
    return F.cross_entropy(logits, labels.argmax(dim=1))


@torch.no_grad()
def evaluate_classifier(
    net: nn.Module, source: BatchSource, attributes: list[str], multilabel: bool
) -> dict[str, Any]:
    """Accuracy report of ``net`` on a dataset (images at the classifier's size)."""
    device = next(net.parameters()).device
    net.eval()
    correct = torch.zeros(len(attributes), dtype=torch.float64)
    counts = torch.zeros(len(attributes), dtype=torch.float64)
    total_correct, total = 0.0, 0
    for batch in tqdm(source.batches(shuffle=False), desc="classifier eval", unit="batch", leave=False):
        logits = net(batch["image"].to(device)).cpu()
        labels = batch["label"]
        if multilabel:
            correct += ((logits > 0).float() == labels).double().sum(0)
            counts += labels.shape[0]
        else:
            target = labels.argmax(1)
            hit = (logits.argmax(1) == target).double()
            correct.index_add_(0, target, hit)
            counts.index_add_(0, target, torch.ones_like(hit))
            total_correct += float(hit.sum())
            total += len(hit)
    acc = {
        a: (None if counts[i] == 0 else round(float(correct[i] / counts[i]), 4))
        for i, a in enumerate(attributes)
    }
    valid = [v for v in acc.values() if v is not None]
    out: dict[str, Any] = {
        "accuracy": acc,
        "mean_accuracy": round(float(np.mean(valid)), 4) if valid else None,
    }
    if not multilabel:
        out["overall_accuracy"] = round(total_correct / max(1, total), 4)
    out["images"] = len(source)
    return out


def fit_classifier(
    train_ds: Dataset,
    eval_ds: Dataset,
    out: str | os.PathLike,
    attributes: list[str],
    multilabel: bool = True,
    epochs: int = 10,
    batch_size: int = 64,
    seed: int = 0,
    lr: float = 1e-3,
    widths: tuple[int, ...] = (16, 32, 64, 128, 256),
    fc_dim: int = 512,
    device: str | torch.device = "cpu",
    time_limit: float | None = None,
    num_workers: int = 0,
    dataset: str = "",
    trained_on: str = "",
    cf_root: str | os.PathLike | None = None,
    cf_per_face: float = 1.0,
    data_record: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Train the classifier on ``train_ds`` (items ``image [3, S, S]`` in ``[-1, 1]``, ``label [n]`` in
    {0, 1}, read without random flips), write the classifier directory ``out`` and return the accuracy
    report on ``eval_ds``.

    Args:
        multilabel: sigmoid/BCE per attribute (True) or softmax/CE over one-hot classes (False).
        lr: peak Adam learning rate (linear warm-up, then cosine decay to 0).
        time_limit: wall-clock budget in seconds for this call up to the end of training (decoding the
            data included, the final evaluation not): the cosine decay is compressed to end in time.
        cf_root: the dataset folder of ``train_ds`` whose training counterfactuals augment each epoch
            (``cf_per_face`` x the faces, drawn at random each epoch); ``None``: faces only.
        data_record: the loader options and drawn split of ``train_ds`` (meta ``"data"``).
    """
    t0 = time.time()
    train_src, eval_src = prepare_sources(train_ds, eval_ds, epochs, batch_size, seed, num_workers)
    augmentation: dict[str, Any] = {"counterfactuals": False}
    if cf_root is not None:
        from secgan.auxiliary.classifier.augment import augmented_source

        train_src, augmentation = augmented_source(train_src, train_ds, cf_root, cf_per_face)
    size = int(train_ds[0]["image"].shape[-1])
    load_s = time.time() - t0

    net = AttributeClassifier(
        len(attributes), image_size=size, widths=widths, fc_dim=fc_dim, multilabel=multilabel
    ).to(device)

    def loss_of_batch(batch: dict) -> torch.Tensor:
        return classifier_loss(net(batch["image"].to(device)), batch["label"].to(device), multilabel)

    fitted = fit(net, train_src, loss_of_batch, name="classifier", epochs=epochs, batch_size=batch_size, lr=lr,
                 seed=seed, time_limit=time_limit, started=t0)  # fmt: skip

    meta = {
        "kind": "classifier",
        "attributes": list(attributes),
        "multilabel": bool(multilabel),
        "image_size": size,
        "dataset": dataset,
        "trained_on": trained_on,
        "augmentation": augmentation,
        "data": data_record or {},
    }
    save_pretrained(out, {CLASSIFIER_NAME: net.cpu()}, meta)
    report = evaluate_classifier(net.to(device), eval_src, list(attributes), multilabel)
    return {
        "classifier_dir": str(out),
        "size": size,
        "multilabel": bool(multilabel),
        "train_images": len(train_ds),
        "train_items_per_epoch": len(train_src),
        "augmentation": augmentation,
        "epochs": epochs,
        "steps": fitted.steps,
        "planned_steps": fitted.planned_steps,
        "stopped_early": fitted.stopped_early,
        "load_seconds": round(load_s, 1),
        "train_seconds": round(fitted.train_seconds, 1),
        **report,
    }


def train_classifier(
    root: str | os.PathLike,
    dataset: str,
    size: int,
    out: str | os.PathLike,
    attrs: list[str] | str | None = None,
    max_images: int | None = None,
    eval_split: str = "test",
    max_eval_images: int | None = None,
    augment: bool | None = None,
    data_options: dict[str, Any] | None = None,
    **fit_kwargs: Any,
) -> dict[str, Any]:
    """Train on the train split of ``dataset`` at ``size`` px (the evaluation crop), write the classifier
    directory ``out`` and return its accuracy report on ``eval_split``. ``attrs``: attribute names
    (``None``: the paper's 13); ignored for RaFD (its 8 expressions). ``augment``: add the training
    split's counterfactuals (``None``: when ``root`` has them; ``True`` without them is an error).
    ``data_options``: the dataset's loader options (RaFD: ``split_seed`` etc., as the editor trained
    with; recorded in the meta). ``fit_kwargs`` go to :func:`fit_classifier`."""
    from secgan.auxiliary.classifier.augment import training_counterfactuals_available
    from secgan.data.registry import build_dataset, get_dataset

    spec, data_options = get_dataset(dataset), dict(data_options or {})
    have_cf = spec.counterfactuals and training_counterfactuals_available(root)
    if augment and not have_cf:
        raise DataError(
            f"{Path(root) / 'counterfactuals' / 'info.json'}: no training-split counterfactuals to augment "
            "with (write the data with `secgan synth`, or pass --no-augment)"
        )
    augment = have_cf if augment is None else augment

    multilabel = not spec.multiclass
    ds_attrs = None if spec.fixed_attributes else attrs
    train_ds = build_dataset(
        dataset, root, split="train", attrs=ds_attrs, image_size=size, max_items=max_images, **data_options
    )
    eval_ds = build_dataset(
        dataset, root, split=eval_split, attrs=ds_attrs, image_size=size, max_items=max_eval_images,
        **data_options,
    )  # fmt: skip
    data_record = {"options": data_options, "split": getattr(train_ds, "split_info", None)}
    trained_on = f"{dataset} {Path(root).resolve()} split=train n={len(train_ds)}"
    result = fit_classifier(
        train_ds,
        eval_ds,
        out,
        list(train_ds.attributes),
        multilabel,
        dataset=dataset,
        trained_on=trained_on,
        cf_root=root if augment else None,
        data_record=data_record,
        **fit_kwargs,
    )
    return {"dataset": dataset, "eval_split": eval_split, **result}


def eval_classifier_dir(
    classifier_dir: str | os.PathLike,
    root: str | os.PathLike,
    dataset: str | None = None,
    split: str = "test",
    batch_size: int = 64,
    max_images: int | None = None,
    device: str | torch.device = "cpu",
    data_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Accuracy report of a classifier directory on ``split`` (its own dataset type, size, attributes and
    loader options, e.g. RaFD's split seed, unless ``dataset`` / ``data_options`` say otherwise)."""
    from secgan.data.registry import build_dataset

    net, meta = load_classifier(classifier_dir, device=device)
    own = dataset is None or dataset == meta["dataset"]
    dataset = dataset or meta["dataset"]
    multilabel = bool(meta["multilabel"])
    attrs = meta["attributes"] if multilabel else None
    # the options it trained with (older classifiers: none recorded), updated by those given
    recorded = dict((meta.get("data") or {}).get("options") or {}) if own else {}
    data_options = {**recorded, **(data_options or {})}
    ds = build_dataset(
        dataset, root, split=split, attrs=attrs, image_size=int(meta["image_size"]), max_items=max_images,
        **data_options,
    )  # fmt: skip
    if len(ds) == 0:
        raise DataError(f"{root}: the {split} split is empty")
    if list(ds.attributes) != list(meta["attributes"]):
        raise DataError(
            f"{root}: dataset labels {list(ds.attributes)} differ from the classifier's {meta['attributes']}"
        )
    report = evaluate_classifier(net, BatchSource(ds, batch_size), list(meta["attributes"]), multilabel)
    return {
        "classifier_dir": str(classifier_dir),
        "dataset": dataset,
        "size": int(meta["image_size"]),
        "eval_split": split,
        **report,
    }
