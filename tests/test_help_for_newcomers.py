"""`evaluate --help` and `report --help` let a newcomer run them from the help alone (issue 25 item 7): where
each input comes from, the substitutes for missing weights, no raw `None` defaults, a small-sample caveat in
the help and in the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from secgan.cli import main


def _help(*command: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "secgan", *command, "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return " ".join(proc.stdout.split())


def test_evaluate_help_says_where_inputs_come_from_and_what_is_substituted():
    text = _help("evaluate")
    assert "secgan classifier train" in text and "secgan train --out" in text
    assert "list_attr_celeba.txt" in text and "labels.csv" in text  # --data's layout
    assert "fid_cls" in text and "--swav" in text and "--inception" in text and "substitutes" in text
    assert "None:" not in text and "default: RUN_DIR/eval" in text
    assert "below 100" in text and "--max-images 8" in text


def test_report_help_says_where_runs_come_from_and_what_it_writes():
    text = _help("report")
    assert "secgan evaluate RUN_DIR" in text and "table.md" in text and "figure4-*.png" in text


def _metrics(path: Path, n: int) -> Path:
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({"protocol": {"num_images": n}}))
    return path


def test_report_prints_a_caveat_below_the_minimum_sample(tmp_path, monkeypatch, capsys):
    import secgan.reporting.report as report

    monkeypatch.setattr(report, "build_report", lambda runs, out: {"out": str(out), "runs": len(runs)})
    small, large = _metrics(tmp_path / "a" / "eval", 8), _metrics(tmp_path / "b" / "eval", 300)
    assert main(["report", str(small.parent), str(large.parent), "--out", str(tmp_path / "r")]) == 0
    caveat = json.loads(capsys.readouterr().out)["caveat"]
    assert "only 8 test images" in caveat and str(small.parent) in caveat and str(large.parent) not in caveat


@pytest.mark.parametrize("n, caveat", [(8, True), (100, False)])
def test_evaluate_summary_carries_the_caveat(n, caveat, tmp_path, monkeypatch, capsys):
    import secgan.metrics.evaluate as ev

    fake = {
        "out": str(tmp_path),
        "accuracy": {"mean": 0.5, "per_attribute": {}},
        "distances": {"fid_cls": {"mean": 2522.0}},
        "inception_scores": {},
        "protocol": {"num_images": n},
        "timing": {"translations_per_second": 1.0},
        "notes": [],
    }
    monkeypatch.setattr(ev, "evaluate", lambda opts: fake)
    args = ["evaluate", str(tmp_path), "--data", str(tmp_path), "--dataset", "custom", "--classifier", "c"]
    assert main(args) == 0
    assert ("caveat" in json.loads(capsys.readouterr().out)) is caveat
