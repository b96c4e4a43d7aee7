"""The training configuration: frozen dataclasses, YAML presets, typed ``--set section.key=value`` overrides.

A preset is a YAML file in ``secgan/presets/`` (or any path) with the sections below; ``extends: NAME``
merges it over another preset (recursively), so the paper's shared hyperparameters live once in a base file.
The resolved configuration is saved as ``config.json`` in the run folder and rebuilt with :func:`from_dict`.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from secgan.data.registry import DATASETS, all_options, get_dataset
from secgan.errors import ConfigError
from secgan.models.backbones import BACKBONE_NAMES, get_backbone

BACKBONES = BACKBONE_NAMES  # the backbone table, secgan.models.backbones
MODES = ("baseline", "concat", "secgan")
SCHEDULES = ("linear", "exponential", "constant", "stargan_official", "step")  # training/schedule.py
MASK_SOURCES = ("parser", "gt")


@dataclass(frozen=True)
class DataConfig:
    """Which images, at which size. ``root`` is null in the paper presets (``--data DIR`` fills it)."""

    dataset: str = "celeba"  # a name of the dataset table, secgan.data.registry.DATASETS
    root: str | None = None
    split: str = "train"
    attributes: tuple[str, ...] | None = None  # None: the dataset's default (the paper's 13 / RaFD's 8)
    image_size: int = 128
    flip: bool = True  # random horizontal flips (image and mask together), drawn from the run's seed
    masks: str = "parser"  # source masks s_in: "parser" (its mask cache when present) or "gt"
    num_workers: int = 4
    max_items: int | None = None
    # RaFD only (ignored otherwise): camera angles (None: the paper's 045, 090, 135) and how the 67
    # identities are split 60 / 7: "random" (the paper; seeded by split_seed) or "sorted" (first 60 ids)
    cameras: tuple[str, ...] | None = None
    identity_split: str = "random"
    split_seed: int = 0

    def loader_options(self) -> dict[str, Any]:
        """The loader-specific keywords of ``build_dataset`` this config's fields feed, as the dataset's
        entry in ``secgan.data.registry`` names them (RaFD: cameras and split; null fields left out)."""
        return get_dataset(self.dataset, "data.dataset").config_options(self)


@dataclass(frozen=True)
class ModelConfig:
    """Networks of both branches (the semantic branch mirrors the RGB one with 12 channels, paper A.2).

    Which fields feed which backbone's constructors is in the backbone table (``secgan.models.backbones``):
    StarGAN uses ``g_conv_dim, g_n_res, g_n_down, d_conv_dim, d_n_layers``; AttGAN uses ``g_conv_dim``
    (encoder and decoder width), ``g_n_layers, g_shortcut_layers, g_inject_layers, g_max_dim`` and
    ``d_conv_dim, d_n_layers, d_fc_dim, d_max_dim``; STGAN those of AttGAN plus ``g_stu_dim, g_stu_layers,
    g_stu_inject_layers`` (its selective transfer units). The defaults below are StarGAN's; a YAML file that
    names another backbone gets that backbone's defaults for the fields it leaves out (:func:`load_config`).
    """

    backbone: str = "stargan"
    mode: str = "secgan"  # baseline | concat (G_rgb sees concat(x, s_in)) | secgan (two branches + sc)
    conditioning: str = "diff"  # see secgan.models.conditioning
    target_scale: float = 0.5  # AttGAN's thres_int for conditioning "target_pm"
    g_conv_dim: int = 64
    g_n_res: int = 6
    g_n_down: int = 2
    g_n_layers: int = 5
    g_shortcut_layers: int = 1
    g_inject_layers: int = 1
    g_max_dim: int = 1024
    g_stu_dim: int = 64  # STGAN: width of the selective transfer units (its stu_dim)
    g_stu_layers: int = 4
    g_stu_inject_layers: int = 4
    d_conv_dim: int = 64
    d_n_layers: int = 6
    d_fc_dim: int = 1024
    d_max_dim: int = 1024


@dataclass(frozen=True)
class ParserConfig:
    """The frozen face parser P (a folder made by ``secgan parser train`` or ``parser import``)."""

    dir: str | None = None
    use_cache: bool = True  # read s_in from the parser's mask cache when it exists


@dataclass(frozen=True)
class LossConfig:
    lambda_cls_g: float = 1.0
    lambda_cls_d: float = 1.0
    lambda_rec: float = 10.0
    lambda_gp: float = 10.0
    lambda_sc: float = 0.01
    cls_loss: str = "bce"  # "bce" (attributes) or "ce" (one-hot expressions, RaFD)
    cls_reduction: str = "sum_over_attrs_mean_over_batch"  # StarGAN; AttGAN: "mean"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation. ``iterations`` counts critic (D) steps; G is updated every ``n_critic`` of them.
    ``batch_size`` is the global batch (split evenly over the processes of a distributed run)."""

    iterations: int = 200_000
    batch_size: int = 16
    n_critic: int = 5
    g_lr: float = 1e-4
    d_lr: float = 1e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # linear (to 0, the paper) | stargan_official | exponential (to final_lr) | constant
    # | step (final_lr from decay_start on: the official STGAN's lr / 10 at epoch 100)
    schedule: str = "linear"
    decay_start: int = 100_000  # the lr is constant up to this step
    final_lr: float = 0.0  # exponential: the lr at the last step; step: the lr after decay_start
    amp: bool = False  # bf16 autocast (CUDA); the gradient penalty stays in float32
    channels_last: bool = False
    compile: bool = False  # torch.compile the step's forward passes (the gradient penalty's stays eager)


@dataclass(frozen=True)
class LogConfig:
    log_every: int = 100
    sample_every: int = 2000
    checkpoint_every: int = 10_000
    keep_checkpoints: int = 3
    n_samples: int = 8  # input images in the sample grid
    tensorboard: bool = True
    export_every_checkpoint: bool = True


@dataclass(frozen=True)
class ExportConfig:
    classifier: str | None = None  # an exported classifier folder copied into RUN_DIR/export


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    parser: ParserConfig = field(default_factory=ParserConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    log: LogConfig = field(default_factory=LogConfig)
    export: ExportConfig = field(default_factory=ExportConfig)
    seed: int = 0
    name: str = ""


SECTIONS = {f.name: f.type for f in dataclasses.fields(Config) if f.name not in ("seed", "name")}


# ------------------------------------------------------------------------------------------ conversions
def to_dict(cfg: Config) -> dict[str, Any]:
    """Plain nested dict (tuples as lists), JSON/YAML serialisable."""

    def conv(v: Any) -> Any:
        if isinstance(v, tuple):
            return list(v)
        return v

    out: dict[str, Any] = {}
    for f in dataclasses.fields(cfg):
        v = getattr(cfg, f.name)
        out[f.name] = (
            {k: conv(x) for k, x in dataclasses.asdict(v).items()} if dataclasses.is_dataclass(v) else v
        )
    return out


def _section_classes() -> dict[str, type]:
    hints = typing.get_type_hints(Config)
    return {k: hints[k] for k in hints if dataclasses.is_dataclass(hints[k])}


def _coerce(value: Any, tp: Any, where: str) -> Any:
    """Convert ``value`` (from YAML/JSON or a command-line string) to the annotated type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null", "")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], where)
    if origin is tuple:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(v, args[0], where) for v in value)
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("false", "0", "no", "off"):
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        try:
            f = float(str(value).replace("_", ""))
        except ValueError:
            raise ConfigError(f"{where}: expected an integer, got {value!r}") from None
        if not f.is_integer():
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return int(f)
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        try:
            return float(str(value).replace("_", "")) if isinstance(value, str) else float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{where}: expected a number, got {value!r}") from None
    if tp is str:
        if value is None or isinstance(value, dict | list):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return str(value)
    raise ConfigError(f"{where}: unsupported type {tp}")


def from_dict(d: dict[str, Any]) -> Config:
    """Rebuild (and validate) a :class:`Config` from a nested dict such as a saved ``config.json``."""
    if not isinstance(d, dict):
        raise ConfigError(f"a configuration must be a mapping, got {type(d).__name__}")
    classes = _section_classes()
    hints = typing.get_type_hints(Config)
    kwargs: dict[str, Any] = {}
    for key, value in d.items():
        if key == "extends":
            continue
        if key in classes:
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ConfigError(f"section {key!r} must be a mapping, got {value!r}")
            cls = classes[key]
            fields = {f.name: f for f in dataclasses.fields(cls)}
            sec_hints = typing.get_type_hints(cls)
            sub = {}
            for k, v in value.items():
                if k not in fields:
                    raise ConfigError(f"unknown key {key}.{k}; valid keys of {key}: {', '.join(fields)}")
                sub[k] = _coerce(v, sec_hints[k], f"{key}.{k}")
            kwargs[key] = cls(**sub)
        elif key in ("seed", "name"):
            kwargs[key] = _coerce(value, hints[key], key)
        else:
            raise ConfigError(
                f"unknown config section {key!r}; valid: {', '.join([*classes, 'seed', 'name'])}"
            )
    cfg = Config(**kwargs)
    validate(cfg)
    return cfg


def validate(cfg: Config) -> None:
    """Check the choices that have a fixed set of values; raises :class:`ConfigError` naming the field."""
    from secgan.losses import CLS_REDUCTIONS
    from secgan.models.conditioning import CONDITIONINGS

    checks = [
        ("model.backbone", cfg.model.backbone, BACKBONES),
        ("model.mode", cfg.model.mode, MODES),
        ("data.dataset", cfg.data.dataset, DATASETS),
        ("model.conditioning", cfg.model.conditioning, CONDITIONINGS),
        ("train.schedule", cfg.train.schedule, SCHEDULES),
        ("loss.cls_loss", cfg.loss.cls_loss, ("bce", "ce")),
        ("loss.cls_reduction", cfg.loss.cls_reduction, CLS_REDUCTIONS),
        ("data.masks", cfg.data.masks, MASK_SOURCES),
    ]
    # the dataset options a DataConfig field feeds, with their choices (RaFD's identity_split)
    for key, (opt, _takers) in all_options().items():
        if opt.config and opt.choices is not None:
            checks.append((f"data.{key}", getattr(cfg.data, key), opt.choices))
    for name, value, valid in checks:
        if value not in valid:
            raise ConfigError(f"{name}={value!r} is not valid; choose one of: {', '.join(valid)}")
    positive = {
        "train.iterations": cfg.train.iterations,
        "train.batch_size": cfg.train.batch_size,
        "train.n_critic": cfg.train.n_critic,
        "data.image_size": cfg.data.image_size,
        "log.log_every": cfg.log.log_every,
        "log.sample_every": cfg.log.sample_every,
        "log.checkpoint_every": cfg.log.checkpoint_every,
        "log.keep_checkpoints": cfg.log.keep_checkpoints,
    }
    for name, value in positive.items():
        if value <= 0:
            raise ConfigError(f"{name} must be positive, got {value}")
    if cfg.train.schedule in ("exponential", "step") and cfg.train.final_lr <= 0:
        raise ConfigError(f"train.final_lr must be > 0 with train.schedule={cfg.train.schedule}")


# -------------------------------------------------------------------------------------------------- files
def preset_names() -> list[str]:
    """Names of the presets shipped in ``secgan/presets`` (without ``.yaml``; ``_base*`` files excluded)."""
    root = resources.files("secgan") / "presets"
    return sorted(
        p.name[:-5] for p in root.iterdir() if p.name.endswith(".yaml") and not p.name.startswith("_")
    )


def _read_yaml(path_or_name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    path = Path(path_or_name)
    if path.suffix in (".yaml", ".yml", ".json") or path.exists():
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        text = path.read_text()
        base_dir: Path | None = path.parent
        label = str(path)
    else:
        res = resources.files("secgan") / "presets" / f"{path_or_name}.yaml"
        if not res.is_file():
            raise ConfigError(
                f"unknown preset {path_or_name!r} (and no such file); presets: {', '.join(preset_names())}"
            )
        text = res.read_text()
        base_dir = None
        label = f"preset {path_or_name}"
    if label in seen:
        raise ConfigError(f"circular 'extends' through {label}")
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"cannot parse {label}: {str(err).splitlines()[0]}") from err
    if not isinstance(data, dict):
        raise ConfigError(f"{label}: the top level must be a mapping")
    parent = data.pop("extends", None)
    if parent:
        cand = base_dir / parent if base_dir is not None else None
        if cand is not None and cand.is_file():
            base = _read_yaml(str(cand), (*seen, label))
        elif cand is not None and cand.with_suffix(".yaml").is_file():
            base = _read_yaml(str(cand.with_suffix(".yaml")), (*seen, label))
        else:
            base = _read_yaml(str(parent).removesuffix(".yaml"), (*seen, label))
        data = _merge(base, data)
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def load_config(preset_or_path: str) -> Config:
    """A preset name (``celeba-stargan-128-secgan``) or a YAML/JSON file path -> :class:`Config`.

    The preset's ``name`` defaults to the preset/file stem. Model and loss fields the file leaves out take
    the defaults of its backbone (:func:`_backbone_defaults`), then the dataclass defaults.
    """
    data = _read_yaml(preset_or_path)
    data.setdefault("name", Path(preset_or_path).stem if Path(preset_or_path).suffix else preset_or_path)
    return from_dict(_merge(_backbone_defaults(data), data))


def _backbone_defaults(data: dict[str, Any]) -> dict[str, Any]:
    """The model and loss defaults of the backbone a YAML names (the backbone table), beneath the YAML's own
    values: a file that says ``backbone: stgan`` and nothing else about the networks gets STGAN's widths
    and loss weights, not the StarGAN values of the dataclass defaults. An unknown name is left to
    :func:`validate` (one line with the valid choices)."""
    model = data.get("model")
    name = model.get("backbone", ModelConfig.backbone) if isinstance(model, dict) else ModelConfig.backbone
    if name not in BACKBONES:
        return {}
    bb = get_backbone(name)
    return {"model": dict(bb.model_defaults), "loss": dict(bb.loss_defaults)}


def apply_overrides(cfg: Config, overrides: list[str] | tuple[str, ...]) -> Config:
    """Apply ``"section.key=value"`` strings (or ``seed=N``), converting each value to the field's type.

    Raises :class:`ConfigError` naming an unknown section or key with the valid choices.
    """
    d = to_dict(cfg)
    classes = _section_classes()
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value")
        key, value = item.split("=", 1)
        key = key.strip()
        if key in ("seed", "name"):
            d[key] = value
            continue
        if "." not in key:
            raise ConfigError(
                f"override key {key!r} must be section.key; sections: {', '.join(classes)}, seed"
            )
        section, sub = key.split(".", 1)
        if section not in classes:
            raise ConfigError(
                f"unknown config section {section!r} in {item!r}; valid: {', '.join(classes)}, seed"
            )
        names = [f.name for f in dataclasses.fields(classes[section])]
        if sub not in names:
            raise ConfigError(f"unknown key {key!r}; valid keys of {section}: {', '.join(names)}")
        d[section][sub] = value
    return from_dict(d)


def replace(cfg: Config, **sections: dict[str, Any]) -> Config:
    """A copy with some fields changed, e.g. ``replace(cfg, train={"iterations": 10})``."""
    d = to_dict(cfg)
    for section, values in sections.items():
        if isinstance(values, dict):
            d[section] = {**d.get(section, {}), **values}
        else:
            d[section] = values
    return from_dict(d)


def dumps(cfg: Config) -> str:
    return json.dumps(to_dict(cfg), indent=2)
