"""``secgan reproduce --preset custom-{backbone}-{size} --data DIR``: Baseline against SeCGAN on a folder of
one's own labelled faces (the custom CSV format of :mod:`secgan.data.custom`).

Stages, each resumable like the other presets' (see :mod:`secgan.reproduce.pipeline`):
  data check -> parser (imported with --parser-weights, given with --parser, or trained on built-in
  synthetic faces) -> mask cache -> classifier -> Baseline and SeCGAN with the same recipe -> evaluation
  -> report -> edited held-out faces -> ``OUT/model`` (the SeCGAN export, with its classifier: what
  ``secgan edit OUT/model photo.jpg`` uses).
"""

from __future__ import annotations

import dataclasses
import logging
import shutil
import time
from pathlib import Path

from secgan.errors import ConfigError
from secgan.reproduce.pipeline import Paths, _summarise, build_stages, check_inputs
from secgan.reproduce.plans import ReproducePreset, RunSpec
from secgan.reproduce.stages import Stage, run_stages, secgan_cli, valid_model_folder
from secgan.utils.io import atomic_dir, write_json_atomic

log = logging.getLogger(__name__)

BACKBONES = ("stargan", "attgan")
SIZES = (64, 128)
# Without --parser / --parser-weights, a parser is trained on this many built-in synthetic faces (which
# have ground-truth part masks; a custom CSV folder has none). Right for faces like the synthetic ones;
# for photographs, import the public face-parsing BiSeNet (--parser-weights 79999_iter.pth).
PARSER_FACES = 1000
MODEL_SUBDIR = "model"


def custom_preset(backbone: str, size: int) -> ReproducePreset:
    """The preset ``custom-{backbone}-{size}``: the synthetic recipe at 64 px (3,000 iterations, chosen by
    learning curves on a 2-core CPU), the paper's Table 1 recipe at 128 px; Baseline and SeCGAN, seed 0."""
    if backbone not in BACKBONES or size not in SIZES:
        raise ConfigError(f"custom presets: backbone in {BACKBONES}, size in {SIZES}; got {backbone}-{size}")
    small = size == 64
    recipe = ("train.iterations=3000", "train.decay_start=1500") if small else ()
    return ReproducePreset(
        name=f"custom-{backbone}-{size}",
        description=f"Baseline and SeCGAN ({backbone}, {size} px, one seed, the same recipe) on your own "
        "labelled faces: --data DIR holding labels.csv (README, 'Your own faces'); --iterations N sets "
        "the training budget.",
        dataset="custom",
        needs_data=True,
        image_size=size,
        parser_epochs=3,
        parser_extra=("--batch", "8", "--base-width", "8", "--input-size", "256", "--lr", "3e-3"),
        classifier_epochs=10,
        backbone=backbone,
        train_preset=f"synthetic-{backbone}-64" if small else f"celeba-{backbone}-128",
        train_overrides=(*recipe, "data.dataset=custom", f"data.image_size={size}", "data.masks=parser"),
        runs=(RunSpec("baseline-s0", "baseline", 0), RunSpec("secgan-s0", "secgan", 0)),
    )


CUSTOM_PRESETS = {f"custom-{b}-{s}": custom_preset(b, s) for b in BACKBONES for s in SIZES}


def with_iterations(preset: ReproducePreset, iterations: int) -> ReproducePreset:
    """The preset with a training budget of ``iterations`` (learning-rate decay from half of it)."""
    if iterations < 1:
        raise ConfigError(f"--iterations must be at least 1, got {iterations}")
    kept = [
        o for o in preset.train_overrides if not o.startswith(("train.iterations=", "train.decay_start="))
    ]
    budget = (f"train.iterations={iterations}", f"train.decay_start={max(1, iterations // 2)}")
    return dataclasses.replace(preset, train_overrides=(*budget, *kept))


def _parser_stages(preset: ReproducePreset, paths: Paths, faces: int, device: str | None) -> list[Stage]:
    """Synthesise ``faces`` faces with part masks and train the parser on them."""
    synth = paths.root / "parser-data"
    dev = ["--device", device] if device else []

    def run_synth() -> dict:
        secgan_cli(["synth", synth, "--num", faces, "--seed", 1, "--overwrite", "--no-progress"])
        return {"images": faces}

    def run_parser() -> dict:
        args = ["parser", "train", "--data", synth, "--dataset", "celeba", "--size", preset.image_size,
                "--out", paths.parser, "--epochs", preset.parser_epochs, *preset.parser_extra, *dev]  # fmt: skip
        result = secgan_cli(args, capture_json=True) or {}
        write_json_atomic(result, paths.parser / "metrics.json")
        return {**result, "trained_on": f"{faces} synthetic faces"}

    return [
        Stage(
            "parser-data",
            synth,
            run_synth,
            valid=lambda: (synth / "list_attr_celeba.txt").is_file(),
            group="parser",
        ),  # fmt: skip
        Stage(
            "parser", paths.parser, run_parser, valid=lambda: valid_model_folder(paths.parser), group="parser"
        ),  # fmt: skip
    ]


def _model_stage(preset: ReproducePreset, paths: Paths) -> Stage:
    """Copy the SeCGAN run's export to ``OUT/model`` (the folder to edit with)."""
    run = next(r for r in preset.runs if r.method == "secgan")
    export = paths.run(run) / "export"
    model = paths.root / MODEL_SUBDIR

    def run_copy() -> dict:
        with atomic_dir(model) as tmp:
            for f in export.iterdir():
                if f.is_file() and not f.name.startswith("."):
                    shutil.copy2(f, tmp / f.name)
        return {"model": str(model), "from": str(export)}

    return Stage("model", model, run_copy, valid=lambda: valid_model_folder(model, "G"), group="model")


def reproduce_custom(
    preset: ReproducePreset,
    out: Path,
    data_dir: Path | None,
    parser_dir: Path | None = None,
    parser_weights: Path | None = None,
    force: set[str] | None = None,
    device: str | None = None,
    parser_faces: int = PARSER_FACES,
) -> dict:
    """Run (or continue) a custom-data reproduction into ``out``; the results dict is also written to
    ``out/results.json``, the report to ``out/report.md`` and the model to edit with to ``out/model``."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    paths = Paths(out)
    train_parser = parser_dir is None and parser_weights is None
    check_inputs(preset, data_dir, parser_dir, parser_weights)  # data check of the CSV folder
    stages: list[Stage] = []
    if train_parser:
        log.warning(
            "no --parser / --parser-weights: training a face parser on %d built-in synthetic faces (right "
            "for faces like those; for photographs pass --parser-weights 79999_iter.pth)", parser_faces
        )  # fmt: skip
        stages += _parser_stages(preset, paths, parser_faces, device)
        parser_dir = paths.parser
    stages += build_stages(preset, paths, data_dir, parser_dir, parser_weights, device)
    stages.append(_model_stage(preset, paths))
    summary = run_stages(stages, force or set())
    return _summarise(preset, paths, summary, time.perf_counter() - t0, device)
