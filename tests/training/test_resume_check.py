"""What --resume may change: the checkpoint's configuration and data against this invocation's."""

from __future__ import annotations

import numpy as np
import pytest

from secgan.config import apply_overrides, load_config, to_dict
from secgan.errors import ConfigError, DataError
from secgan.training.resume_check import check_resume_config, check_resume_data, data_fingerprint


def _cfg(*overrides: str) -> dict:
    return to_dict(apply_overrides(load_config("synthetic-stargan-64-baseline"), list(overrides)))


@pytest.mark.parametrize(
    "override, old, new",
    [("train.batch_size=8", 16, 8), ("seed=7", 0, 7), ("model.conditioning=target01", "diff", "target01")],
)
def test_a_changed_key_is_refused_naming_old_and_new(override, old, new):
    key = override.split("=")[0]
    for allow in (False, True):  # these never change within a run, even with --allow-changes
        with pytest.raises(ConfigError, match=rf"{key}: {old!r} -> {new!r}.*start a new run") as err:
            check_resume_config(_cfg(), _cfg(override), allow_changes=allow, source="step-000010.pt")
        assert "step-000010.pt" in str(err.value) and "\n" not in str(err.value)


def test_safe_changes_need_the_flag():
    base = _cfg()["train"]["iterations"]  # the preset's own budget, whatever the recipe
    changed = _cfg("train.iterations=40000", "log.log_every=5", "data.num_workers=2")
    with pytest.raises(ConfigError, match=rf"train.iterations: {base} -> 40000.*pass --allow-changes"):
        check_resume_config(_cfg(), changed, allow_changes=False, source="ckpt")
    accepted = check_resume_config(_cfg(), changed, allow_changes=True, source="ckpt")
    assert set(accepted) == {"train.iterations", "log.log_every", "data.num_workers"}
    assert check_resume_config(_cfg(), _cfg(), allow_changes=False, source="ckpt") == {}
    assert check_resume_config(None, changed, allow_changes=False, source="old checkpoint") == {}


def test_a_setting_added_by_a_later_version_counts_only_off_its_default():
    old = _cfg()
    del old["data"]["identity_split"], old["data"]["split_seed"]  # a checkpoint written before they existed
    assert check_resume_config(old, _cfg(), allow_changes=False, source="ckpt") == {}
    with pytest.raises(ConfigError, match=r"data.identity_split: None -> 'sorted'"):
        check_resume_config(old, _cfg("data.identity_split=sorted"), allow_changes=False, source="ckpt")


def test_data_fingerprint_sees_other_content_with_the_same_count():
    labels = np.array([[1, 0], [0, 1]], np.float32)
    fp = data_fingerprint(["a.jpg", "b.jpg"], labels)
    assert fp == data_fingerprint(["a.jpg", "b.jpg"], labels.copy())
    assert fp != data_fingerprint(["a.jpg", "c.jpg"], labels)
    assert fp != data_fingerprint(["a.jpg", "b.jpg"], labels[::-1])
    check_resume_data(fp, fp, "ckpt")
    check_resume_data(None, fp, "ckpt")  # a checkpoint of an older version
    with pytest.raises(DataError, match="dataset differs"):
        check_resume_data(fp, data_fingerprint(["a.jpg", "c.jpg"], labels), "ckpt")
