"""Evaluation on a run's recorded split (data_split.json): filled in, or a mismatch refused in one line."""

from __future__ import annotations

import json
import logging

import pytest
from data_fixtures import write_rafd

from secgan.data.rafd import split_identities
from secgan.data.registry import build_dataset
from secgan.data.split_record import DATA_SPLIT_FILE, build_as_trained
from secgan.errors import ConfigError

IDS = ["01", "02", "03", "04", "05", "06"]


def _seeds_with_other_test_ids() -> tuple[int, int]:
    """Two seeds whose random splits of the 6 identities hold out different identities."""
    first = split_identities(IDS, "random", 0)[1]
    other = next(s for s in range(1, 100) if split_identities(IDS, "random", s)[1] != first)
    return 0, other


@pytest.fixture
def rafd(tmp_path):
    """6 identities x 8 expressions, one camera and gaze (48 tiny images), and a run trained on seed S."""
    root = write_rafd(tmp_path / "rafd", 6, cameras=("090",), gazes=("frontal",), size=(17, 26))
    _, seed = _seeds_with_other_test_ids()
    run = tmp_path / "run"
    run.mkdir()
    train = build_dataset("rafd", root, split="train", image_size=16, split_seed=seed)
    (run / DATA_SPLIT_FILE).write_text(json.dumps(train.split_info))  # as the trainer writes it
    return root, run, seed


def test_evaluation_uses_the_recorded_split(rafd):
    root, run, seed = rafd
    ds, options = build_as_trained("rafd", root, run, split="test", image_size=16)
    held_out = split_identities(IDS, "random", seed)[1]
    # cameras: the loader's default set, as recorded (the data holds camera 090 only)
    assert options == {"identity_split": "random", "split_seed": seed, "cameras": ["045", "090", "135"]}
    assert sorted(set(ds.meta["model"])) == held_out and len(ds) == 8 * len(held_out)
    # the same seed given explicitly is fine; a dataset without a drawn split ignores the record
    assert build_as_trained("rafd", root, run, split="test", image_size=16, split_seed=seed)[1] == options


def test_another_split_is_refused_in_one_line(rafd):
    root, run, seed = rafd
    with pytest.raises(ConfigError, match=rf"data_split.json: the run trained on split_seed={seed}, this "
                                          r"evaluation asks for 0 \(--split-seed\)") as err:  # fmt: skip
        build_as_trained("rafd", root, run, split="test", image_size=16, split_seed=0)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError, match="identity_split='random'.*'sorted'"):
        build_as_trained("rafd", root, run, split="test", image_size=16, identity_split="sorted")
    with pytest.raises(ConfigError, match="option 'split_scheme' applies to celeba, celebahq, not rafd"):
        build_as_trained("rafd", root, run, split="test", split_scheme="paper")
    with pytest.raises(ConfigError, match=r"cameras=\['045', '090', '135'\], this evaluation asks for None"):
        build_as_trained("rafd", root, run, split="test", image_size=16, cameras=None)


def test_other_identities_in_the_data_folder_are_refused(rafd, tmp_path):
    _root, run, _seed = rafd
    more = write_rafd(tmp_path / "rafd7", 7, cameras=("090",), gazes=("frontal",), size=(17, 26))
    with pytest.raises(ConfigError, match="train identities .* differ from the run's"):
        build_as_trained("rafd", more, run, split="test", image_size=16)


def test_without_a_record_the_options_are_used_as_given(rafd, caplog):
    root, _run, seed = rafd
    with caplog.at_level(logging.WARNING):
        ds, options = build_as_trained("rafd", root, None, split="test", image_size=16, split_seed=seed)
    assert options == {"split_seed": seed} and "no data_split.json" in caplog.text
    assert sorted(set(ds.meta["model"])) == split_identities(IDS, "random", seed)[1]
