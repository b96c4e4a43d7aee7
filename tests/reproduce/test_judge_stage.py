"""The judge stage of a synthetic reproduction: a U-Net parser trained right after the training parser,
reused once done, trained again when its recipe changes, and passed to every evaluation, whose earlier
results (without a judge, or by a judge since retrained) are stale. The stage commands are faked; the
folders they write are real parser folders."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from secgan.auxiliary.parser import FrozenParser
from secgan.models.unet_parser import UNetParser
from secgan.reproduce import pipeline
from secgan.reproduce.plans import DEMO, STANDARD, ReproducePreset, RunSpec
from secgan.reproduce.stages import judge_matches, judged_with, run_stages

RECIPE = ("--base-width", "4", "--epochs", "1", "--seed", "1")
PRESET = ReproducePreset(
    name="tiny-judge",
    description="a test preset with a judge",
    synthetic_num=10,
    parser_epochs=1,
    classifier_epochs=1,
    runs=(RunSpec("secgan-s0", "secgan", 0),),
    judge_extra=RECIPE,
)


class FakeCli:
    """Stands in for `secgan ...` child processes: records the arguments; `parser train --arch unet`
    writes a real (untrained) U-Net parser folder, `evaluate` a metrics.json naming the judge it used."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.trained = 0

    def __call__(self, args: list, capture_json: bool = False) -> dict | None:
        args = [str(a) for a in args]
        self.calls.append(args)
        out = Path(args[args.index("--out") + 1])
        if args[:2] == ["parser", "train"] and "unet" in args:
            self.trained += 1
            torch.manual_seed(self.trained)  # another training, other weights
            FrozenParser(UNetParser(base_width=4, n_down=2), input_size=32).save(
                out, trained_on="fake", evaluation={"split": "test", "mean_iou": 0.7}
            )
            return {"arch": "unet", "mean_iou": 0.7, "eval_split": "test"}
        if args[0] == "evaluate":
            out.mkdir(parents=True, exist_ok=True)
            judge = Path(args[args.index("--judge-parser") + 1])
            digest = json.loads((judge / "config.json").read_text())["sha256"]["parser"]
            used = {"weights_sha256": {"parser.safetensors": digest}}
            (out / "metrics.json").write_text(json.dumps({"accuracy": {"mean": 0.5}, "judge": used}))
        return {}


def _stages(tmp_path: Path, preset: ReproducePreset = PRESET) -> dict:
    stages = pipeline.build_stages(preset, pipeline.Paths(tmp_path), None, None, None, None)
    return {s.name: s for s in stages}


def test_the_synthetic_presets_train_a_judge_of_another_seed_and_architecture():
    for preset in (DEMO, STANDARD):
        extra = list(preset.judge_extra)
        assert extra and "--arch" not in extra  # the stage itself asks for the U-Net
        judge_seed = extra[extra.index("--seed") + 1]
        parser_seed = dict(zip(preset.parser_extra[::2], preset.parser_extra[1::2])).get("--seed", "0")
        assert judge_seed != parser_seed


def test_judge_stage_follows_the_parser_and_every_evaluation_uses_it(tmp_path, monkeypatch):
    cli = FakeCli()
    monkeypatch.setattr(pipeline, "secgan_cli", cli)
    stages = _stages(tmp_path)
    names = list(stages)
    assert names.index("judge") == names.index("parser") + 1
    judge = stages["judge"]
    result = run_stages([judge], force=set())["judge"]["result"]
    assert result["mean_iou"] == 0.7 and cli.calls[-1][:2] == ["parser", "train"]
    train_args = cli.calls[-1]
    assert train_args[train_args.index("--arch") + 1] == "unet" and train_args[-len(RECIPE) :] == list(RECIPE)
    assert json.loads((tmp_path / "judge" / "metrics.json").read_text())["recipe"] == list(RECIPE)

    evaluation = stages["evaluate:secgan-s0"]
    assert not evaluation.is_done()
    run_stages([evaluation], force=set())
    eval_args = cli.calls[-1]
    assert eval_args[0] == "evaluate" and eval_args[eval_args.index("--judge-parser") + 1] == str(
        tmp_path / "judge"
    )
    assert judged_with(tmp_path / "runs" / "secgan-s0" / "eval", tmp_path / "judge")


def test_judge_stage_resumes_and_retrains_when_its_recipe_changes(tmp_path, monkeypatch):
    cli = FakeCli()
    monkeypatch.setattr(pipeline, "secgan_cli", cli)
    run_stages([_stages(tmp_path)["judge"]], force=set())
    first = (tmp_path / "judge" / "parser.safetensors").read_bytes()
    again = run_stages([_stages(tmp_path)["judge"]], force=set())  # done and valid: reused
    assert again["judge"]["skipped"] and cli.trained == 1
    assert judge_matches(tmp_path / "judge", list(RECIPE))

    other = ReproducePreset(**{**PRESET.__dict__, "judge_extra": (*RECIPE[:-1], "2")})  # another seed
    assert not _stages(tmp_path, other)["judge"].is_done()
    run_stages([_stages(tmp_path, other)["judge"]], force=set())
    assert cli.trained == 2 and (tmp_path / "judge" / "parser.safetensors").read_bytes() != first

    run_stages([_stages(tmp_path, other)["judge"]], force={"judge"})  # --force judge
    assert cli.trained == 3
    (tmp_path / "judge" / "parser.safetensors").write_bytes(b"torn")  # a damaged folder is redone
    assert not _stages(tmp_path, other)["judge"].is_done()


def test_an_evaluation_without_the_current_judge_is_stale(tmp_path, monkeypatch):
    cli = FakeCli()
    monkeypatch.setattr(pipeline, "secgan_cli", cli)
    stages = _stages(tmp_path)
    run_stages([stages["judge"]], force=set())
    eval_dir = tmp_path / "runs" / "secgan-s0" / "eval"
    run_stages([stages["evaluate:secgan-s0"]], force=set())
    assert judged_with(eval_dir, tmp_path / "judge")
    metrics = json.loads((eval_dir / "metrics.json").read_text())
    (eval_dir / "metrics.json").write_text(json.dumps({**metrics, "judge": None}))  # evaluated before judges
    assert not judged_with(eval_dir, tmp_path / "judge")
    (eval_dir / "metrics.json").write_text(json.dumps(metrics))
    run_stages([stages["judge"]], force={"judge"})  # the judge is retrained: other weights
    assert not judged_with(eval_dir, tmp_path / "judge")


def test_a_preset_without_a_judge_has_no_judge_stage(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "secgan_cli", FakeCli())
    plain = ReproducePreset(**{**PRESET.__dict__, "judge_extra": ()})
    stages = _stages(tmp_path, plain)
    assert "judge" not in stages and "parser" in stages
