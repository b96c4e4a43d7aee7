"""The dataset table and ``build_dataset``, the one entry point every trainer and evaluator uses.

Each entry of :data:`DATASETS_BY_NAME` names a dataset's loader and its traits: its default attributes,
whether its labels are one-hot classes (RaFD's 8 expressions) or independent attributes, how the
evaluation protocol makes its edit targets (:meth:`DatasetSpec.edit_targets`), the loader options it
takes (RaFD: cameras, identity split and split seed) and which of them ``DataConfig`` fields feed, whether
it has ground-truth part masks, counterfactuals (``secgan synth`` writes the CelebA layout) or a drawn
training split (``data_split.json``). The CLI's ``--dataset`` choices and options, ``DataConfig``, the
networks' label count, the evaluator and the classifier read these traits; no module outside ``data/``
tests for a dataset's name (a test walks the source). Adding a dataset is adding an entry here
(docs/DESIGN.md, "How to add a dataset").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from secgan.errors import ConfigError

from .attributes import PAPER_ATTRIBUTES, RAFD_EXPRESSIONS, protocol_edit_targets
from .base import FaceDataset, check_split


def _names(value: Any) -> list[str]:
    """A comma-separated string or a sequence -> a list of stripped names."""
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


@dataclass(frozen=True)
class DatasetOption:
    """A loader keyword beyond the common ones (``split``, ``attrs``, ``image_size``, ...).

    ``kind``: ``"str"``, ``"int"`` or ``"names"`` (a comma-separated list). ``config``: a ``DataConfig``
    field of the same name feeds it in training (and its value is recorded in ``config.json``).
    """

    name: str
    help: str
    kind: str = "str"
    choices: tuple[str, ...] | None = None
    config: bool = False

    @property
    def flag(self) -> str:
        """The command-line flag: ``split_seed`` -> ``--split-seed``."""
        return "--" + self.name.replace("_", "-")

    def parse(self, value: Any) -> Any:
        """A command-line or config value -> the loader's keyword value (``names``: a list)."""
        if self.kind == "names":
            return _names(value)
        if self.kind == "int":
            return int(value)
        return str(value)


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: its loader and its traits.

    ``default_attributes``: the labels a run gets when ``data.attributes`` is null (custom: the paper's 13
    when the CSV has them). ``multiclass``: labels are one-hot over classes (softmax classifier, one edit
    per class, accuracy by argmax); otherwise independent binary attributes. ``fixed_attributes``: the
    labels cannot be chosen (RaFD: always the 8 expressions). ``part_masks``: ground-truth part masks may
    sit beside the images (parser training). ``counterfactuals``: ``secgan synth`` writes this layout, so
    the data may hold ground-truth counterfactual edits. ``drawn_split``: the loader draws its training
    split (``ds.split_info``; training writes it to ``data_split.json``). ``own_faces``: a practitioner's
    own labelled faces (``custom-*`` presets, no published recipe).
    """

    name: str
    loader: str  # "module:function"
    layout: str  # one line for --help: what the folder holds
    default_attributes: tuple[str, ...] = PAPER_ATTRIBUTES
    multiclass: bool = False
    fixed_attributes: bool = False
    options: tuple[DatasetOption, ...] = ()
    part_masks: bool = False
    counterfactuals: bool = False
    drawn_split: bool = False
    own_faces: bool = False

    def load_function(self) -> Callable[..., FaceDataset]:
        module, fn = self.loader.split(":")
        return getattr(importlib.import_module(module), fn)

    def option(self, name: str) -> DatasetOption | None:
        return next((o for o in self.options if o.name == name), None)

    def edit_targets(self, y_src: torch.Tensor, index: int, attributes: Sequence[str]) -> torch.Tensor:
        """The evaluation protocol's targets ``[N, n_a]`` for edit ``index`` of ``y_src [N, n_a]``:
        one-hot class ``index`` (multiclass) or ``index`` inverted with the conflict rules."""
        return protocol_edit_targets(y_src, index, attributes, onehot=self.multiclass)

    def config_options(self, data_cfg: Any) -> dict[str, Any]:
        """The loader keywords a ``DataConfig`` (duck-typed: this module sits below ``secgan.config``)
        feeds: its fields named by this dataset's ``config`` options, null ones left out."""
        out: dict[str, Any] = {}
        for opt in self.options:
            value = getattr(data_cfg, opt.name, None) if opt.config else None
            if value is not None:
                out[opt.name] = opt.parse(value)
        return out


_SPLIT_SCHEME = "how the images are split into train / val / test"
_RAFD_CAMERAS = "comma-separated camera angles (default 045,090,135, the paper's)"
_RAFD_SPLIT = "how the 67 identities are split 60 / 7: random (seeded by --split-seed) or the first 60 ids"
_RAFD_SEED = "seed of the random identity split (default 0; evaluate: the run's data_split.json)"

DATASET_SPECS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        name="celeba",
        loader="secgan.data.celeba:load_celeba",
        layout="list_attr_celeba.txt + img_align_celeba/ (secgan synth writes this layout)",
        options=(DatasetOption("split_scheme", _SPLIT_SCHEME, choices=("auto", "paper", "partition-file")),),
        part_masks=True,
        counterfactuals=True,
    ),
    DatasetSpec(
        name="celebahq",
        loader="secgan.data.celebahq:load_celebahq",
        layout="CelebA-HQ-img/ + CelebAMask-HQ-attribute-anno.txt (+ CelebAMask-HQ-mask-anno/)",
        options=(DatasetOption("split_scheme", _SPLIT_SCHEME, choices=("paper", "auto")),),
        part_masks=True,
    ),
    DatasetSpec(
        name="rafd",
        loader="secgan.data.rafd:load_rafd",
        layout="Rafd<camera>_<id>_<ethnicity>_<gender>_<expression>_<gaze>.jpg files",
        default_attributes=RAFD_EXPRESSIONS,
        multiclass=True,
        fixed_attributes=True,
        options=(
            DatasetOption("cameras", _RAFD_CAMERAS, kind="names", config=True),
            DatasetOption("identity_split", _RAFD_SPLIT, choices=("random", "sorted"), config=True),
            DatasetOption("split_seed", _RAFD_SEED, kind="int", config=True),
        ),
        drawn_split=True,
    ),
    DatasetSpec(
        name="custom",
        loader="secgan.data.custom:load_custom",
        layout="labels.csv (file, attribute columns, optional split) + the images",
        options=(
            DatasetOption("csv", "label CSV file name (default labels.csv)"),
            DatasetOption("image_dir", "folder of the images, relative to the dataset folder (default: it)"),
        ),
        own_faces=True,
    ),
)

DATASETS_BY_NAME: Mapping[str, DatasetSpec] = {s.name: s for s in DATASET_SPECS}
DATASETS: tuple[str, ...] = tuple(DATASETS_BY_NAME)


def get_dataset(name: str, field: str = "dataset") -> DatasetSpec:
    """The table entry of ``name``; one-line :class:`ConfigError` naming ``field`` and the valid choices."""
    if name not in DATASETS_BY_NAME:
        raise ConfigError(f"{field}={name!r} is not a known dataset; valid datasets: {', '.join(DATASETS)}")
    return DATASETS_BY_NAME[name]


def dataset_names(**traits: bool) -> tuple[str, ...]:
    """The datasets whose traits equal ``traits`` (e.g. ``part_masks=True``), in table order."""
    return tuple(s.name for s in DATASET_SPECS if all(getattr(s, k) == v for k, v in traits.items()))


def all_options() -> dict[str, tuple[DatasetOption, list[str]]]:
    """Every loader option of the table: ``name -> (first definition, datasets taking it)``."""
    out: dict[str, tuple[DatasetOption, list[str]]] = {}
    for spec in DATASET_SPECS:
        for opt in spec.options:
            out.setdefault(opt.name, (opt, []))[1].append(spec.name)
    return out


def check_options(name: str, options: Mapping[str, Any], flags: bool = False) -> None:
    """Refuse, in one line, a loader option that dataset ``name`` does not take (``flags``: name the
    options as command-line flags)."""
    spec = get_dataset(name)

    def label(key: str) -> str:
        return "--" + key.replace("_", "-") if flags else f"option {key!r}"

    for key in options:
        if spec.option(key) is None:
            takers = all_options().get(key, (None, []))[1]
            where = f"applies to {', '.join(takers)}, not {name}" if takers else f"is unknown for {name}"
            valid = ", ".join(label(o.name) for o in spec.options) or "none"
            raise ConfigError(f"{label(key)} {where}; {name}'s options: {valid}")


def build_dataset(
    name: str,
    root: str | Path,
    split: str = "train",
    attrs: Sequence[str] | str | None = None,
    image_size: int = 128,
    flip: bool = False,
    masks: str | None = None,
    mask_array: np.ndarray | None = None,
    on_error: str = "raise",
    max_items: int | None = None,
    **options: Any,
) -> FaceDataset:
    """Build dataset ``name`` (one of :data:`DATASETS`) from the original files under ``root``.

    Args:
        split: ``"train" | "val" | "test" | "all"``.
        attrs: attribute names (list or comma-separated); ``None`` gives the dataset's default attributes
            (the paper's 13; RaFD: always the 8 expressions, one-hot).
        image_size: output side ``S``; items hold ``image [3, S, S]`` in ``[-1, 1]``.
        flip: random horizontal flip of image and mask together.
        masks: ``None`` (no masks), ``"gt"`` (ground-truth part masks, required), ``"auto"`` (when present).
        mask_array: a parser mask cache ``uint8 [len(ds), S, S]`` of 12-segment ids aligned with
            ``ds.names`` (after ``max_items``); overrides ``masks``.
        on_error: ``"raise"`` or ``"skip"`` unreadable images.
        max_items: keep the first N items of the split.
        options: the dataset's own loader options (its entry's ``options``): ``split_scheme`` (celeba,
            celebahq), ``cameras``, ``identity_split``, ``split_seed`` (rafd), ``csv``, ``image_dir``
            (custom); another is refused in one line.
    """
    spec = get_dataset(name)
    check_split(split)
    check_options(name, options)
    ds: FaceDataset = spec.load_function()(
        root,
        split=split,
        attrs=attrs,
        image_size=image_size,
        flip=flip,
        masks=None if mask_array is not None else masks,
        on_error=on_error,
        **options,
    )
    ds.take(max_items)
    if mask_array is not None:
        ds.mask_reader = None
        ds.set_mask_array(mask_array)
    return ds
