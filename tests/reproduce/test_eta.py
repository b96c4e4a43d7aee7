"""The progress line's remaining time: reference seconds per stage, scaled by the machine's pace so far."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from secgan.reproduce import stages as stages_mod
from secgan.reproduce.eta import minutes, reference_seconds
from secgan.reproduce.pipeline import Paths, build_stages
from secgan.reproduce.plans import PRESETS
from secgan.reproduce.stages import Stage, _Pace, run_stages


@pytest.mark.parametrize("name", ["demo", "standard", "budget-2x", "budget-6k"])
def test_every_stage_of_a_synthetic_preset_has_a_reference(tmp_path: Path, name: str) -> None:
    preset = PRESETS[name]
    stages = build_stages(preset, Paths(tmp_path), None, None, None, None)
    refs = {s.name: reference_seconds(preset, s.name) for s in stages}
    assert all(r is not None and r > 0 for r in refs.values()), refs
    # a SeCGAN run costs more than its Baseline at the same budget
    assert refs["train:secgan-s0"] > refs["train:baseline-s0"]


def test_real_data_presets_name_the_stage_only() -> None:
    assert reference_seconds(PRESETS["celeba-stargan-128"], "train:baseline-s0") is None


def test_pace_scales_the_references_by_the_stages_already_run() -> None:
    refs = {"a": 10.0, "b": 20.0, "c": 40.0}
    pace = _Pace(refs.get)
    todo = [Stage(n, Path(n), lambda: None) for n in ("b", "c")]
    assert pace.line(todo) == " (about 20 s for this stage, 1 min left in all)"  # no pace yet: 1x
    pace.note("a", 30.0)  # this machine took 3x the reference
    assert pace.line(todo) == " (about 1 min for this stage, 3 min left in all)"
    assert pace.line([Stage("x", Path("x"), lambda: None)]) == ""  # no reference: no estimate
    assert minutes(59.4) == "59 s" and minutes(150) == "2 min"


def test_the_progress_line_names_the_remaining_time(tmp_path: Path, caplog, monkeypatch) -> None:
    clock = iter([0.0, 5.0, 5.0, 15.0])  # stage a takes 5 s (reference 10: pace 0.5), b 10 s
    monkeypatch.setattr(stages_mod.time, "perf_counter", lambda: next(clock))

    def make(name: str) -> Stage:
        out = tmp_path / name
        return Stage(name, out, lambda: out.mkdir(parents=True, exist_ok=True) or {})

    with caplog.at_level(logging.INFO, logger=stages_mod.__name__):
        run_stages([make("a"), make("b")], set(), expected={"a": 10.0, "b": 100.0}.get)
    lines = [r.getMessage() for r in caplog.records if "..." in r.getMessage()]
    assert lines == [
        "[1/2] a ... (about 10 s for this stage, 2 min left in all)",
        "[2/2] b ... (about 50 s for this stage, 50 s left in all)",
    ]
