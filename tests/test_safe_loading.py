"""Loading a checkpoint never runs pickled code, and atomic writes never leave half-written files."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from secgan.errors import WeightsError
from secgan.utils.io import atomic_path, load_torch_file, save_torch_atomic, state_dict_hash
from secgan.utils.seed import get_rng_state, set_rng_state


class _Exploit:
    """Unpickling this calls os.system: a file that would run code when loaded with plain pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: D105
        return (os.system, (f"touch {self.marker}",))


def test_pickle_that_runs_code_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    bad = tmp_path / "evil.pt"
    torch.save({"state_dict": _Exploit(marker)}, bad)
    with pytest.raises(WeightsError, match=r"evil\.pt") as info:
        load_torch_file(bad)
    assert "weights_only=False" not in str(info.value) and "\n" not in str(info.value)
    assert not marker.exists()  # the payload never ran
    # Sanity: plain pickle *would* run it, so the test exercises a real exploit.
    with open(bad, "rb") as fh:
        head = fh.read(2)
    assert head == b"PK"  # torch's zip format; the payload sits in data.pkl
    pickle.loads(pickle.dumps(_Exploit(marker)))
    assert marker.exists()


def test_missing_and_truncated_files_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="not found: .*nothing.pt"):
        load_torch_file(tmp_path / "nothing.pt")
    good = tmp_path / "w.pt"
    torch.save({"a": torch.ones(1000)}, good)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(good.read_bytes()[:300])
    with pytest.raises(WeightsError, match="cut.pt"):
        load_torch_file(cut)


def test_atomic_write_leaves_old_file_when_interrupted(tmp_path: Path) -> None:
    target = tmp_path / "ckpt.pt"
    save_torch_atomic({"step": torch.tensor(1)}, target)
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed mid-write")
    assert load_torch_file(target)["step"].item() == 1
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind


def test_rng_state_round_trips_through_weights_only_load(tmp_path: Path) -> None:
    import random

    import numpy as np

    torch.manual_seed(3)
    state = get_rng_state()
    expected = (random.random(), float(np.random.rand()), torch.rand(1).item())
    save_torch_atomic({"rng": state}, tmp_path / "rng.pt")
    set_rng_state(load_torch_file(tmp_path / "rng.pt")["rng"])
    assert (random.random(), float(np.random.rand()), torch.rand(1).item()) == expected


def test_state_dict_hash_changes_with_any_value() -> None:
    a = {"w": torch.zeros(3), "b": torch.ones(2)}
    b = {"w": torch.zeros(3), "b": torch.tensor([1.0, 1.0 + 1e-6])}
    assert state_dict_hash(a) == state_dict_hash({k: v.clone() for k, v in a.items()})
    assert state_dict_hash(a) != state_dict_hash(b)


@pytest.mark.parametrize("content", [b"", b"x" * 3000, bytes(range(256)) * 4])
def test_a_file_that_is_no_checkpoint_says_so_in_one_line(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "random.bin"
    bad.write_bytes(content)
    with pytest.raises(WeightsError) as info:
        load_torch_file(bad, what="face-parsing checkpoint")
    msg = str(info.value)
    assert msg.startswith(f"{bad} is not a PyTorch checkpoint") and "weights_only" not in msg


def test_legacy_torch_save_format_still_loads(tmp_path: Path) -> None:
    old = tmp_path / "old.pt"
    torch.save({"a": torch.arange(3)}, old, _use_new_zipfile_serialization=False)
    assert torch.equal(load_torch_file(old)["a"], torch.arange(3))
