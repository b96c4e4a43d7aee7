"""The record of a drawn training split (``data_split.json``) and evaluation on the same split.

A dataset whose loader draws its training split (``drawn_split`` in :mod:`secgan.data.registry`; RaFD's
60 / 7 identities, seeded) exposes it as ``ds.split_info``; training writes it to the run folder as
``data_split.json``. An evaluation of that run must hold out the same identities: :func:`build_as_trained`
fills the options the command line left out from the record and refuses, in one line, a split that differs
from it (another seed, scheme or camera set, or a data folder with other identities), since it would score
the model on identities it trained on.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secgan.errors import ConfigError, DataError

from . import registry
from .base import FaceDataset

log = logging.getLogger(__name__)

DATA_SPLIT_FILE = "data_split.json"  # in a run folder: how its drawn training split was made
# data_split.json keys compared with the evaluated split, in the order a mismatch is reported
_OPTION_KEYS = ("identity_split", "split_seed", "cameras")
_IDENTITY_KEYS = ("train_identities", "test_identities")
# build_dataset's own keywords; every other keyword is a loader option of the dataset
_COMMON = frozenset(("split", "attrs", "image_size", "flip", "masks", "mask_array", "on_error", "max_items"))


def read_split_record(run_dir: str | Path | None) -> tuple[dict[str, Any], Path] | None:
    """``(record, path)`` of ``run_dir/data_split.json``, or ``None`` when there is none."""
    if run_dir is None:
        return None
    path = Path(run_dir) / DATA_SPLIT_FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise DataError(
            f"{path}: unreadable split record ({err}); it says which identities the run trained on"
        ) from err
    if not isinstance(record, dict):
        raise DataError(f"{path}: a split record must be a JSON object, got {type(record).__name__}")
    return record, path


def options_with_record(name: str, options: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with the recorded value of every split option the caller left out (``cameras`` null
    in the record means all cameras, so it is passed on as ``None``)."""
    spec = registry.get_dataset(name)
    out = dict(options)
    for key in _OPTION_KEYS:
        if spec.option(key) is not None and key in record and key not in out:
            out[key] = record[key]
    return out


def check_split_record(ds: FaceDataset, record: Mapping[str, Any], path: Path, name: str) -> None:
    """Refuse in one line a dataset whose drawn split differs from the run's record."""
    info = getattr(ds, "split_info", None) or {}
    spec = registry.get_dataset(name)
    for key in _OPTION_KEYS:
        if key in record and info.get(key) != record[key]:
            opt = spec.option(key)
            flag = opt.flag if opt is not None else key
            raise ConfigError(
                f"{path}: the run trained on {key}={record[key]!r}, this evaluation asks for "
                f"{info.get(key)!r} ({flag}): not the split the model held out (it could score images "
                f"the model trained on); drop {flag} or pass the recorded value"
            )
    for key in _IDENTITY_KEYS:
        if key in record and list(info.get(key) or []) != list(record[key]):
            raise ConfigError(
                f"{path}: the data's {key.replace('_', ' ')} {info.get(key)} differ from the run's "
                f"{record[key]}; evaluate on the data folder the run trained on"
            )


def seen_in_training(ds: FaceDataset, classifier_meta: Mapping[str, Any], source: str) -> str | None:
    """A note when a classifier's recorded training split (its meta ``"data"``) holds identities that
    ``ds`` scores: the ruler then judges faces it was trained on. ``None`` when they are disjoint or
    either split was not drawn."""
    info = getattr(ds, "split_info", None) or {}
    trained = ((classifier_meta.get("data") or {}).get("split") or {}).get("train_identities")
    scored = set(getattr(ds, "meta", {}).get("model") or [])
    if not info or not trained or not scored:
        return None
    seen = sorted(scored & set(trained))
    if not seen:
        return None
    return (
        f"the classifier {source} trained on {len(seen)} of the {len(scored)} identities scored here "
        f"({', '.join(seen[:5])}{', ...' if len(seen) > 5 else ''}): train it on the run's split "
        f"(secgan classifier train --split-seed {info.get('split_seed')})"
    )


def build_as_trained(
    name: str, root: str | Path, run_dir: str | Path | None, **kwargs: Any
) -> tuple[FaceDataset, dict[str, Any]]:
    """``build_dataset(name, root, **kwargs)`` on the run's recorded split: returns the dataset and the
    loader options used. Without a record (a bare model folder, or a dataset without a drawn split) the
    options are used as given (a drawn split then logs which split it scores)."""
    spec = registry.get_dataset(name)
    options = {k: v for k, v in kwargs.items() if k not in _COMMON}
    common = {k: v for k, v in kwargs.items() if k in _COMMON}
    registry.check_options(name, options)
    found = read_split_record(run_dir) if spec.drawn_split else None
    if found is not None:
        options = options_with_record(name, options, found[0])
    ds = registry.build_dataset(name, root, **common, **options)
    if found is not None:
        check_split_record(ds, found[0], found[1], name)
    elif spec.drawn_split:
        log.warning(
            "no %s beside the model: scoring the split the options draw (%s); pass the run folder to "
            "evaluate on the identities the run held out",
            DATA_SPLIT_FILE,
            {k: (getattr(ds, "split_info", None) or {}).get(k) for k in _OPTION_KEYS},
        )
    return ds, options
