"""``secgan train --resume`` into a run whose settings, data or newest checkpoint changed.

A changed configuration key is refused with one line naming the key, its old and new value (the unsafe
ones even with ``--allow-changes``); other data with the same image count is refused by the data
fingerprint; a corrupt newest checkpoint is skipped with a warning naming both files, and the good one it
falls back to is never pruned. Nothing in the run folder changes on a refusal.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bad_input_helpers import _cli, _copy_faces, _flip_bit_of_a_weight, _train_args, _tree_digest
from secgan.cli import main
from secgan.training.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faces") / "data"
    assert main(["synth", str(root), "--num", "16", "--workers", "1", "--no-progress"]) == 0
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory, faces) -> dict[str, Path]:
    """A finished 2-step run folder (width 8, 32 px)."""
    small = tmp_path_factory.mktemp("runs") / "small"
    assert main(_train_args(faces, small)) == 0
    return {"small": small}


@pytest.mark.parametrize(
    "override, says",
    [
        ("train.batch_size=8", "train.batch_size: 4 -> 8"),
        ("seed=7", "seed: 0 -> 7"),
        ("model.conditioning=target01", "model.conditioning: 'diff' -> 'target01'"),
    ],
)
def test_resume_with_a_changed_configuration_is_refused(override, says, runs, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    before = _tree_digest(run)
    for extra in ([], ["--allow-changes"]):  # these are never safe to change within a run
        rc, line, _ = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress",
                        "--set", override, *extra)  # fmt: skip
        assert rc == 2 and says in line and "step-000002.pt" in line
    assert _tree_digest(run) == before  # config.json is not rewritten


def test_resume_on_other_data_with_the_same_count_is_refused(runs, faces, tmp_path, capsys):
    run, data = tmp_path / "run", _copy_faces(faces, tmp_path)
    shutil.copytree(runs["small"], run)
    attrs = data / "list_attr_celeba.txt"
    lines = attrs.read_text().splitlines()
    row, col = lines[2].split(), 1 + lines[1].split().index("Male")
    row[col] = "1" if row[col] == "-1" else "-1"  # one trained label of one image: same image count
    lines[2] = " ".join(row)
    attrs.write_text("\n".join(lines) + "\n")
    rc, line, _ = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress",
                    "--allow-changes", "--data", data)  # fmt: skip
    assert rc == 2 and "dataset differs" in line


def test_resume_skips_a_corrupt_newest_checkpoint(runs, tmp_path, capsys, caplog):
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    ckpts = run / "checkpoints"
    for name in ("step-000002.pt", "step-000002.pt.sha256"):  # a second, newer checkpoint, then damaged
        shutil.copy(ckpts / name, ckpts / name.replace("000002", "000003"))
    (ckpts / "step-000003.pt.sha256").write_text(
        (ckpts / "step-000003.pt.sha256").read_text().replace("000002", "000003")
    )
    _flip_bit_of_a_weight(ckpts / "step-000003.pt")
    rc, _, out = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress",
                      "--allow-changes", "--set", "train.iterations=4")  # fmt: skip
    assert rc == 0 and json.loads(out)["step"] == 4
    warned = [r.getMessage() for r in caplog.records if "newest good checkpoint" in r.getMessage()]
    assert len(warned) == 1 and "step-000003.pt: it is corrupt" in warned[0] and "step-000002.pt" in warned[0]
    assert load_checkpoint(ckpts / "step-000004.pt")["step"] == 4
    assert (ckpts / "step-000002.pt").is_file()  # the good one is never pruned for the corrupt one
