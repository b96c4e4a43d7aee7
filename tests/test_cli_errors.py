"""The command line prints a user error on one line, also when a DataLoader worker raised it."""

from __future__ import annotations

import pytest
from torch.utils.data import DataLoader, Dataset

from secgan.cli import main, one_line
from secgan.errors import DataError


class _Broken(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int):
        raise DataError(f"cannot read image /data/img_{i}.jpg: truncated file")


def test_worker_traceback_is_reduced_to_the_original_message() -> None:
    loader = DataLoader(_Broken(), batch_size=1, num_workers=1)
    with pytest.raises(DataError) as info:
        next(iter(loader))
    assert "Original Traceback" in str(info.value)  # what PyTorch hands back: many lines
    assert one_line(info.value) == "cannot read image /data/img_0.jpg: truncated file"


def test_plain_error_keeps_its_message() -> None:
    assert one_line(DataError("missing file x.txt")) == "missing file x.txt"


def test_unknown_command_and_help_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 64  # a malformed command line (EX_USAGE); 2 is a refused input
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 64
