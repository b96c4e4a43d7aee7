"""``secgan reproduce``: the paper's experiment end to end.

Stages (each a child ``secgan`` command, skipped when its output is already valid):
  data -> parser -> judge -> mask cache -> classifier -> train (one per run) -> evaluate (one per run)
  -> report -> edits. ``--force STAGE`` redoes a stage (or a group: ``train``, ``evaluate``).

The judge (synthetic presets) is an independent evaluation parser: a small U-Net trained with another seed
on the ground-truth masks, which SeCGAN never trains through; every evaluation measures shape IoU and mIoU
with it too (``secgan evaluate --judge-parser``), beside the training parser's figures.
"""

from __future__ import annotations

import json
import logging
import platform
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch

from secgan import __version__
from secgan.auxiliary.classifier.augment import training_counterfactuals_available
from secgan.errors import ConfigError, SecganError
from secgan.metrics.eval_files import eval_outputs_ok
from secgan.reproduce.eta import reference_seconds
from secgan.reproduce.plans import ReproducePreset, RunSpec, preset_to_dict
from secgan.reproduce.stages import (
    Stage,
    classifier_matches,
    done_after,
    evaluated_with,
    judge_matches,
    judged_with,
    reset_run_folder,
    run_stages,
    secgan_cli,
    valid_model_folder,
)
from secgan.utils.io import write_json_atomic

log = logging.getLogger(__name__)


@dataclass
class Paths:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def parser(self) -> Path:
        return self.root / "parser"

    @property
    def judge(self) -> Path:
        return self.root / "judge"

    @property
    def classifier(self) -> Path:
        return self.root / "classifier"

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def report(self) -> Path:
        return self.root / "report"

    @property
    def edits(self) -> Path:
        return self.root / "edits"

    def run(self, spec: RunSpec) -> Path:
        return self.runs / spec.name


def peak_memory_mb() -> dict[str, float]:
    """Peak resident memory of this process and of the largest child (Linux reports KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"pipeline_mb": round(own, 1), "largest_stage_mb": round(children, 1)}


def _has(path: Path, *names: str) -> bool:
    return all((path / n).exists() for n in names)


def build_stages(
    preset: ReproducePreset,
    paths: Paths,
    data_dir: Path | None,
    parser_dir: Path | None,
    parser_weights: Path | None,
    device: str | None,
) -> list[Stage]:
    stages: list[Stage] = []
    size = preset.image_size
    dev = ["--device", device] if device else []
    data = paths.data if preset.synthetic_num else data_dir
    assert data is not None

    if preset.synthetic_num:
        n = preset.synthetic_num

        def run_synth() -> dict:
            secgan_cli(
                ["synth", paths.data, "--num", n, "--seed", preset.synthetic_seed, "--sheet",
                 paths.data / "sheet.png", "--overwrite"]
            )  # fmt: skip
            return {"images": n, "seed": preset.synthetic_seed, "sheet": str(paths.data / "sheet.png")}

        stages.append(
            Stage(
                "data",
                paths.data,
                run_synth,
                valid=lambda: _has(paths.data, "list_attr_celeba.txt"),
                group="data",
            )
        )

    if parser_dir is None:  # the parser: trained here or imported from the public checkpoint
        stages.append(_parser_stage(preset, paths, data, parser_weights, dev))
        parser_dir = paths.parser
    judge = _judge_stage(preset, paths, data, dev)
    if judge is not None:
        stages.append(judge)

    cache_marker = paths.root / "mask-cache"

    def run_cache() -> dict:
        secgan_cli(["parser", "cache", parser_dir, "--data", data, "--dataset", preset.dataset, "--split", "train",
                    "--size", size, *dev])  # fmt: skip
        return {"split": "train", "size": size}

    stages.append(Stage("mask-cache", cache_marker, run_cache, group="parser"))

    def run_classifier() -> dict:
        args = ["classifier", "train", "--data", data, "--dataset", preset.dataset, "--size", size,
                "--out", paths.classifier, "--epochs", preset.classifier_epochs, *preset.classifier_extra, *dev]  # fmt: skip
        if preset.classifier_max_images:
            args += ["--max-images", preset.classifier_max_images]
        result = secgan_cli(args, capture_json=True) or {}
        write_json_atomic(result, paths.classifier / "metrics.json")
        return result

    stages.append(
        Stage(
            "classifier",
            paths.classifier,
            run_classifier,
            # augmented exactly when `classifier train` augments by default: the data has training counterfactuals
            valid=lambda: classifier_matches(
                paths.classifier, preset.classifier_epochs, augmented=training_counterfactuals_available(data)
            ),
            group="classifier",
        )
    )

    for spec in preset.runs:
        stages += _run_stages(preset, paths, spec, data, parser_dir, judge is not None, dev)

    def run_report() -> dict:
        _report_runs(paths, preset.runs)
        return {"report": str(paths.report)}

    evals = [paths.run(spec) / "eval" for spec in preset.runs]
    stages.append(
        Stage(
            "report", paths.report, run_report, valid=lambda: done_after(paths.report, evals), group="report"
        )
    )

    secgan_runs = [s for s in preset.runs if s.method == "secgan" and s.lambda_sc is None]
    if secgan_runs and preset.edit_samples > 0:
        model = paths.run(secgan_runs[0]) / "export"

        def run_edits() -> dict:
            from secgan.reproduce.edits import edit_held_out_faces

            return edit_held_out_faces(model, data, preset.dataset, paths.edits, preset.edit_samples, size)

        stages.append(Stage("edits", paths.edits, run_edits, group="edits"))
    return stages


def _run_stages(
    preset: ReproducePreset,
    paths: Paths,
    spec: RunSpec,
    data: Path,
    parser_dir: Path,
    with_judge: bool,
    dev: list[str],
) -> list[Stage]:
    """One run's training stage and its evaluation stage (with the judge when the preset has one)."""
    out: list[Stage] = []
    run_dir = paths.run(spec)

    def run_train(spec: RunSpec = spec, run_dir: Path = run_dir) -> dict:
        args = ["train", "--config", f"{preset.train_preset}-{spec.method}", "--data", data,
                "--parser", parser_dir, "--out", run_dir, "--set", f"seed={spec.seed}",
                "--set", f"export.classifier={paths.classifier}", "--set", f"name={spec.name}"]  # fmt: skip
        for o in preset.train_overrides:
            args += ["--set", o]
        if spec.lambda_sc is not None:
            args += ["--set", f"loss.lambda_sc={spec.lambda_sc}"]
        if any((run_dir / "checkpoints").glob("*.pt")):
            args.append("--resume")  # an interrupted run continues from its last checkpoint
        secgan_cli([*args, *dev])
        return {"method": spec.method, "seed": spec.seed, "lambda_sc": spec.lambda_sc}

    out.append(
        Stage(
            f"train:{spec.name}",
            run_dir,
            run_train,
            valid=lambda run_dir=run_dir: valid_model_folder(run_dir / "export", "G"),
            group="train",
            fresh=lambda run_dir=run_dir: reset_run_folder(run_dir),
        )
    )
    # each run is evaluated as soon as it is trained: a long reproduction stopped part-way has the
    # metrics of every finished run (`secgan report` can compare them before the rest is trained)
    eval_dir = run_dir / "eval"

    def run_eval(run_dir: Path = run_dir, eval_dir: Path = eval_dir) -> dict:
        args = ["evaluate", run_dir, "--data", data, "--dataset", preset.dataset, "--classifier",
                paths.classifier, "--parser", parser_dir, "--out", eval_dir, *preset.eval_extra, *dev]  # fmt: skip
        if with_judge:  # shape judged by the independent parser too
            args += ["--judge-parser", paths.judge]
        if preset.eval_max_images:
            args += ["--max-images", preset.eval_max_images]
        secgan_cli(args)
        m = json.loads((eval_dir / "metrics.json").read_text())
        return {
            "accuracy": m["accuracy"]["mean"],
            **{k: v["mean"] for k, v in m.get("distances", {}).items()},
        }

    out.append(
        Stage(
            f"evaluate:{spec.name}",
            eval_dir,
            run_eval,
            valid=lambda eval_dir=eval_dir: (
                eval_outputs_ok(eval_dir)
                and evaluated_with(eval_dir, paths.classifier)
                and (not with_judge or judged_with(eval_dir, paths.judge))
            ),
            group="evaluate",
        )
    )
    return out


def _parser_stage(
    preset: ReproducePreset, paths: Paths, data: Path, parser_weights: Path | None, dev: list[str]
) -> Stage:
    """The training parser P: imported from the public checkpoint, or trained here."""
    if parser_weights is not None:

        def run_parser() -> dict:
            secgan_cli(["parser", "import", parser_weights, "--out", paths.parser])
            return {"imported_from": str(parser_weights)}

    elif preset.parser_epochs > 0:

        def run_parser() -> dict:
            args = ["parser", "train", "--data", data, "--dataset", preset.dataset, "--size", preset.image_size,
                    "--out", paths.parser, "--epochs", preset.parser_epochs, *preset.parser_extra, *dev]  # fmt: skip
            if preset.parser_max_images:
                args += ["--max-images", preset.parser_max_images]
            result = secgan_cli(args, capture_json=True) or {}
            write_json_atomic(result, paths.parser / "metrics.json")
            return result

    else:
        raise ConfigError(
            f"preset {preset.name!r} needs a face parser: pass --parser P_DIR (e.g. from `secgan parser "
            "train`) or --parser-weights 79999_iter.pth (the public face-parsing BiSeNet checkpoint)"
        )
    return Stage(
        "parser", paths.parser, run_parser, valid=lambda: valid_model_folder(paths.parser), group="parser"
    )


def _judge_stage(preset: ReproducePreset, paths: Paths, data: Path, dev: list[str]) -> Stage | None:
    """The independent judge of shape (a U-Net parser, ``preset.judge_extra``: its recipe), or ``None`` when
    the preset has none. Redone when its recipe changes; its metrics.json holds its IoU on the test split."""
    recipe = list(map(str, preset.judge_extra))
    if not recipe:
        return None

    def run_judge() -> dict:
        args = ["parser", "train", "--data", data, "--dataset", preset.dataset, "--size", preset.image_size,
                "--out", paths.judge, "--arch", "unet", "--eval-split", "test", *recipe, *dev]  # fmt: skip
        result = secgan_cli(args, capture_json=True) or {}
        write_json_atomic({**result, "recipe": recipe}, paths.judge / "metrics.json")
        keep = ("arch", "mean_iou", "pixel_accuracy", "eval_split", "images", "train_seconds", "settings")
        return {k: result.get(k) for k in keep}

    return Stage(
        "judge", paths.judge, run_judge, valid=lambda: judge_matches(paths.judge, recipe), group="judge"
    )


def _report_runs(paths: Paths, runs: Sequence[RunSpec]) -> None:
    """``secgan report`` of these runs into ``paths.report`` (its JSON is captured: reproduce prints its own)."""
    secgan_cli(["report", *[paths.run(s) for s in runs], "--out", paths.report], capture_json=True)


def check_inputs(
    preset: ReproducePreset, data_dir: Path | None, parser_dir: Path | None, weights: Path | None
) -> None:
    """Fail early, before any stage runs, when the user's data or weight files are missing."""
    if preset.needs_data:
        if data_dir is None:
            raise ConfigError(
                f"preset {preset.name!r} runs on your copy of {preset.dataset}: pass --data DIR"
            )
        if not data_dir.is_dir():
            raise ConfigError(f"--data: folder not found: {data_dir}")
        secgan_cli(["data", "check", data_dir, "--dataset", preset.dataset], capture_json=True)
    if parser_dir is not None and not (parser_dir / "config.json").is_file():
        raise ConfigError(
            f"--parser: no parser folder at {parser_dir} (expected {parser_dir / 'config.json'})"
        )
    if weights is not None and not weights.is_file():
        raise ConfigError(f"--parser-weights: file not found: {weights}")
    if preset.parser_epochs == 0 and parser_dir is None and weights is None:
        raise ConfigError(
            f"preset {preset.name!r} needs a face parser: pass --parser P_DIR or --parser-weights 79999_iter.pth"
        )


def report_so_far(
    preset: ReproducePreset,
    out: Path,
    data_dir: Path | None = None,
    parser_dir: Path | None = None,
    parser_weights: Path | None = None,
    device: str | None = None,
) -> dict:
    """Write ``out/report.md`` and ``out/results.json`` from the runs evaluated so far, running nothing
    else (e.g. while a long reproduction still trains, or after it was stopped). The results list the
    stages not yet done; the next full ``secgan reproduce`` overwrites both files."""
    paths = Paths(out)
    stages = build_stages(preset, paths, data_dir, parser_dir, parser_weights, device)
    done = {s.name: s.reused_summary() for s in stages if s.is_done()}
    unfinished = [s.name for s in stages if s.name not in done and s.group not in ("report", "edits")]
    evaluated = [spec for spec in preset.runs if f"evaluate:{spec.name}" in done]
    if not evaluated:
        raise SecganError(f"{out}: no run of preset {preset.name!r} is trained and evaluated yet")
    _report_runs(paths, evaluated)
    log.info(
        "%d of %d runs evaluated; not done yet: %s", len(evaluated), len(preset.runs), ", ".join(unfinished)
    )
    return _summarise(preset, paths, done, sum(v["seconds"] for v in done.values()), device, unfinished)


def reproduce(
    preset: ReproducePreset,
    out: Path,
    data_dir: Path | None = None,
    parser_dir: Path | None = None,
    parser_weights: Path | None = None,
    force: set[str] | None = None,
    device: str | None = None,
) -> dict:
    """Run (or continue) a reproduction into ``out``; returns the results dict also written to
    ``out/results.json``; ``out/report.md`` is the human-readable summary."""
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    check_inputs(preset, data_dir, parser_dir, parser_weights)
    paths = Paths(out)
    stages = build_stages(preset, paths, data_dir, parser_dir, parser_weights, device)
    summary = run_stages(stages, force or set(), expected=partial(reference_seconds, preset))
    return _summarise(preset, paths, summary, time.perf_counter() - t0, device)


def _summarise(
    preset: ReproducePreset,
    paths: Paths,
    summary: dict[str, dict],
    wall: float,
    device: str | None,
    unfinished: list[str] | None = None,
) -> dict:
    from secgan.reproduce.summary import write_summary

    out = paths.root
    env = {
        "secgan": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": torch.get_num_threads(),
        "device": device or ("cuda" if torch.cuda.is_available() else "cpu"),
    }
    results = write_summary(
        preset=preset,
        preset_dict=preset_to_dict(preset),
        paths=paths,
        stages=summary,
        wall_seconds=wall,
        memory=peak_memory_mb(),
        env=env,
        unfinished=unfinished,
    )
    if not (out / "results.json").is_file():
        raise SecganError(f"reproduction finished but {out / 'results.json'} was not written")
    return results
