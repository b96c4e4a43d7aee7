"""The stage runner: finished stages are reused, --force redoes them, unknown names are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from secgan.errors import SecganError
from secgan.reproduce.stages import Stage, run_stages


def _stages(tmp_path: Path, calls: list[str], fail_on: str | None = None) -> list[Stage]:
    def make(name: str, group: str) -> Stage:
        out = tmp_path / name

        def run() -> dict:
            if name == fail_on:
                raise RuntimeError(f"{name} broke")
            calls.append(name)
            out.mkdir(parents=True, exist_ok=True)
            (out / "result.txt").write_text(name)
            return {"name": name}

        return Stage(name, out, run, valid=lambda: (out / "result.txt").is_file(), group=group)

    return [
        make("data", "data"),
        make("train:a", "train"),
        make("train:b", "train"),
        make("report", "report"),
    ]


def test_second_run_reuses_every_finished_stage(tmp_path: Path) -> None:
    calls: list[str] = []
    first = run_stages(_stages(tmp_path, calls), force=set())
    assert calls == ["data", "train:a", "train:b", "report"]
    assert not any(s["skipped"] for s in first.values())
    calls.clear()
    second = run_stages(_stages(tmp_path, calls), force=set())
    assert calls == []
    assert all(s["skipped"] for s in second.values())
    assert second["train:a"]["result"] == {"name": "train:a"}


def test_interrupted_pipeline_continues_where_it_stopped(tmp_path: Path) -> None:
    calls: list[str] = []
    with pytest.raises(RuntimeError):
        run_stages(_stages(tmp_path, calls, fail_on="train:b"), force=set())
    assert calls == ["data", "train:a"]
    calls.clear()
    run_stages(_stages(tmp_path, calls), force=set())
    assert calls == ["train:b", "report"]


def test_force_a_group_or_a_stage(tmp_path: Path) -> None:
    calls: list[str] = []
    run_stages(_stages(tmp_path, calls), force=set())
    calls.clear()
    run_stages(_stages(tmp_path, calls), force={"train"})
    assert calls == ["train:a", "train:b"]
    calls.clear()
    run_stages(_stages(tmp_path, calls), force={"report"})
    assert calls == ["report"]


def test_invalid_output_is_redone(tmp_path: Path) -> None:
    calls: list[str] = []
    run_stages(_stages(tmp_path, calls), force=set())
    (tmp_path / "train:a" / "result.txt").unlink()  # the marker stays, the output is gone
    calls.clear()
    run_stages(_stages(tmp_path, calls), force=set())
    assert calls == ["train:a"]


def test_unknown_force_names_the_valid_stages(tmp_path: Path) -> None:
    with pytest.raises(SecganError, match="valid: .*train"):
        run_stages(_stages(tmp_path, []), force={"trian"})


def test_edit_grid_captions_are_full_and_directed():
    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    from secgan.reproduce.edits import _wrap, draw_edit_grid, edit_label

    assert edit_label("Bangs", 1.0) == "+Bangs" and edit_label("Young", -1.0) == "-Young"
    faces = [[np.full((64, 64, 3), 100 + 40 * j, np.uint8) for _ in range(2)] for j in range(3)]
    captions = [["input", "input"], ["+Bushy_Eyebrows", "-Bushy_Eyebrows"],
                ["+Mouth_Slightly_Open", "-Mouth_Slightly_Open"]]  # fmt: skip
    grid = draw_edit_grid(faces, captions)
    assert grid.width == 3 * 128 and grid.height > 2 * 128  # faces at 2x plus caption strips
    font = ImageFont.load_default(size=12)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    lines = _wrap("+Mouth_Slightly_Open", draw, font, 60)
    assert "".join(lines) == "+Mouth_Slightly_Open"  # nothing cut
    assert len(lines) > 1 and all(draw.textlength(line, font=font) <= 60 for line in lines)
    # every caption strip holds dark text pixels (a label was drawn under each face)
    arr = np.asarray(grid)
    strip_h = grid.height // 2 - 128
    for j in range(3):
        for k in range(2):
            strip = arr[k * (128 + strip_h) + 128 : (k + 1) * (128 + strip_h), j * 128 : (j + 1) * 128]
            assert (strip < 100).any()


def test_force_starts_a_stage_fresh_instead_of_continuing_it(tmp_path: Path) -> None:
    """`reproduce --force train:X` must retrain from step 0, not resume the finished run's checkpoints."""
    from secgan.reproduce.stages import reset_run_folder

    run = tmp_path / "runs" / "a"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "step-001200.pt").write_bytes(b"finished run")
    (run / "config.json").write_text("{}")
    calls: list[str] = []

    def train() -> dict:
        calls.append("resume" if any((run / "checkpoints").glob("*.pt")) else "fresh")
        (run / "export").mkdir(exist_ok=True)
        return {}

    stage = Stage("train:a", run, train, valid=lambda: (run / "export").is_dir(), group="train",
                  fresh=lambda: reset_run_folder(run))  # fmt: skip
    run_stages([stage], force=set())
    run_stages([stage], force=set())  # done: reused
    run_stages([stage], force={"train:a"})
    assert calls == ["resume", "fresh"]


def test_force_never_deletes_a_run_a_trainer_is_using(tmp_path: Path) -> None:
    import subprocess
    import sys

    from secgan.reproduce.stages import reset_run_folder

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys,time; from secgan.training.run_lock import RunLock; "
         "RunLock(sys.argv[1]).acquire(); print('HELD', flush=True); time.sleep(60)", str(run)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "HELD"
        with pytest.raises(SecganError, match=f"in use by process {holder.pid}"):
            reset_run_folder(run)
        assert (run / "checkpoints").is_dir()
    finally:
        holder.kill()
        holder.wait()


def test_a_torn_evaluation_is_not_reused(tmp_path: Path) -> None:
    import json

    import numpy as np

    from secgan.metrics.eval_files import FORMAT, eval_outputs_ok
    from secgan.utils.io import file_sha256

    out = tmp_path / "eval"
    out.mkdir()
    np.savez_compressed(out / "examples.npz", images=np.zeros((2, 3), np.uint8))
    metrics = {"format": FORMAT, "files": {"examples.npz": file_sha256(out / "examples.npz")}}
    (out / "metrics.json").write_text(json.dumps(metrics))
    assert eval_outputs_ok(out)
    (out / "examples.npz").write_bytes(b"")  # SIGKILL while it was written (older versions)
    assert not eval_outputs_ok(out)
    (out / "metrics.json").write_text(json.dumps({"format": FORMAT}))  # no digest recorded: must load
    assert not eval_outputs_ok(out)
    (out / "metrics.json").write_text('{"format": ')  # a torn metrics.json
    assert not eval_outputs_ok(out)


def test_a_retrained_classifier_makes_the_classifier_and_evaluations_stale(tmp_path: Path) -> None:
    import json

    import torch

    from secgan.models.classifier import AttributeClassifier
    from secgan.models.export import save_pretrained
    from secgan.reproduce.stages import classifier_matches, evaluated_with

    def classifier(seed: int) -> Path:
        torch.manual_seed(seed)
        net = AttributeClassifier(2, image_size=32, widths=(4, 4, 4, 4, 4), fc_dim=8)
        save_pretrained(
            tmp_path / "cls", {"classifier": net}, {"kind": "classifier", "attributes": ["a", "b"]}
        )
        (tmp_path / "cls" / "metrics.json").write_text(json.dumps({"epochs": 4}))
        return tmp_path / "cls"

    cls = classifier(0)
    assert classifier_matches(cls, 4) and not classifier_matches(cls, 20)  # the preset now asks for 20
    # a classifier trained before counterfactual augmentation records none: retrained where it is expected
    assert classifier_matches(cls, 4, augmented=False) and not classifier_matches(cls, 4, augmented=True)
    (cls / "metrics.json").write_text(json.dumps({"epochs": 4, "augmentation": {"counterfactuals": True}}))
    assert classifier_matches(cls, 4, augmented=True) and not classifier_matches(cls, 4, augmented=False)
    (cls / "metrics.json").write_text(json.dumps({"epochs": 4}))
    digest = json.loads((cls / "config.json").read_text())["sha256"]["classifier"]
    ev = tmp_path / "eval"
    ev.mkdir()
    protocol = {"classifier": {"weights_sha256": {"classifier.safetensors": digest}}}
    (ev / "metrics.json").write_text(json.dumps({"protocol": protocol}))
    assert evaluated_with(ev, cls)
    classifier(1)  # retrained: other weights
    assert not evaluated_with(ev, cls)
    (ev / "metrics.json").write_text("{}")  # an evaluation that does not say which classifier it used
    assert not evaluated_with(ev, cls)


def test_a_report_older_than_a_redone_evaluation_is_stale(tmp_path: Path) -> None:
    import os

    from secgan.reproduce.stages import DONE_FILE, done_after

    evals = [tmp_path / "a" / "eval", tmp_path / "b" / "eval"]
    report = tmp_path / "report"
    for i, d in enumerate([*evals, report]):
        d.mkdir(parents=True)
        (d / DONE_FILE).write_text("{}")
        os.utime(d / DONE_FILE, ns=(10**9 * (100 + i), 10**9 * (100 + i)))  # evaluations first, then report
    assert done_after(report, evals)
    os.utime(evals[1] / DONE_FILE, ns=(10**9 * 200, 10**9 * 200))  # b evaluated again after the report
    assert not done_after(report, evals)
    (evals[1] / DONE_FILE).unlink()  # an evaluation not done yet does not make the report stale
    assert done_after(report, evals)
    (report / DONE_FILE).unlink()
    assert not done_after(report, evals)
