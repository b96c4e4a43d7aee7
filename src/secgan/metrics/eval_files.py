"""Where an evaluation reads and writes: its options, the model folder it evaluates, and its outputs
(``metrics.json``, ``examples.npz``), read back by :mod:`secgan.reporting`."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from secgan.errors import ConfigError
from secgan.utils.io import file_sha256

METRICS_FILE = "metrics.json"
EXAMPLES_FILE = "examples.npz"
EVAL_SUBDIR = "eval"
FORMAT = "secgan-metrics"
VERSION = 1


@dataclass
class EvalOptions:
    """Options of :func:`evaluate` (the ``secgan evaluate`` flags)."""

    model: Path  # RUN_DIR (with export/) or an exported model folder
    data: Path
    dataset: str
    classifier: Path
    out: Path | None = None  # default: RUN_DIR/eval or MODEL_DIR/eval
    parser: Path | None = None
    judge_parser: Path | None = None  # an independent parser (another architecture): judge_* shape metrics
    swav: Path | None = None
    inception: Path | None = None
    split: str = "test"
    max_images: int | None = None
    intensity: float = 1.0
    batch: int = 32
    device: str = "auto"
    cache_dir: Path | None = None
    num_examples: int = 8
    is_splits: int = 10
    seed: int = 0
    precision: str = "fp32"  # generator precision: "fp32" or "bf16" (autocast; outputs shift up to ~1e-2)
    workers: int = 2
    ground_truth: bool = True  # score edits against the data's counterfactuals when it has them
    data_options: dict[str, Any] = field(default_factory=dict)


def resolve_model_dir(path: str | Path) -> tuple[Path, Path | None]:
    """``RUN_DIR`` (holding ``export/config.json``) or an exported model folder -> ``(model_dir, run_dir)``;
    a run with checkpoints but no export gets a message saying how to export it."""
    from secgan.models.model_dir import find_model_dir

    return find_model_dir(path)


def default_out_dir(model: str | Path) -> Path:
    """Where ``secgan evaluate`` writes when ``--out`` is omitted: ``RUN_DIR/eval`` or ``MODEL_DIR/eval``."""
    model_dir, run_dir = resolve_model_dir(model)
    return (run_dir or model_dir) / EVAL_SUBDIR


def dir_hashes(model_dir: Path) -> dict[str, str]:
    return {p.name: file_sha256(p) for p in sorted(model_dir.glob("*.safetensors"))}


def load_metrics(path: str | Path) -> dict[str, Any]:
    """Read a ``metrics.json`` given a run folder (``RUN/eval/metrics.json``), an evaluation folder or the
    file itself."""
    path = Path(path)
    for cand in (path, path / METRICS_FILE, path / EVAL_SUBDIR / METRICS_FILE):
        if cand.is_file():
            try:
                m = json.loads(cand.read_text())
            except (OSError, ValueError) as err:
                raise ConfigError(f"cannot read {cand}: {err}") from err
            if m.get("format") != FORMAT:
                raise ConfigError(f"{cand}: not a secgan metrics file (format {m.get('format')!r})")
            m["_path"] = str(cand)
            return m
    raise ConfigError(
        f"{path}: no evaluation found (looked for {path / EVAL_SUBDIR / METRICS_FILE} and "
        f"{path / METRICS_FILE}); run `secgan evaluate {path} ...` first"
    )


def eval_outputs_ok(out: str | Path) -> bool:
    """Whether ``out`` holds a complete evaluation: metrics.json parses, and examples.npz (when written)
    matches the digest metrics.json records for it (or, from older versions, loads)."""
    out = Path(out)
    try:
        m = json.loads((out / METRICS_FILE).read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        return False
    recorded = m.get("files") or {}
    for name, digest in recorded.items():
        if not (out / name).is_file() or file_sha256(out / name) != digest:
            return False
    npz = out / EXAMPLES_FILE
    if npz.exists() and EXAMPLES_FILE not in recorded:
        try:
            with np.load(npz, allow_pickle=False) as z:
                _ = [z[k].shape for k in z.files]
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            return False
    return True
