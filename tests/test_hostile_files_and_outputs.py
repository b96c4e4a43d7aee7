"""Every file-taking command answers a hostile or broken file, and an output it cannot write, with one line
and no traceback (issue 25 items 9-11, 13): a deeply nested config.json; a read-only file system under
--out (injected: the suite runs as root, where permission bits do not stop a write); `info` checks an
export's digests and card as `edit` does; a checkpoint without its digest loads with a warning; reproduce
exits 130 on SIGINT; `data check` without --deep reads every header and says what it did not check."""

from __future__ import annotations

import errno
import json
import logging
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent / "editing"))
from editing_helpers import make_model_dir  # noqa: E402

from secgan.cli import main  # noqa: E402

NESTED = '{"format":"secgan-model","version":1,"networks":{},"x":' + "[" * 3000 + "]" * 3000 + "}"


@pytest.mark.parametrize("command", ["info", "edit"])
def test_a_deeply_nested_config_is_one_line(command, tmp_path, capsys):
    (tmp_path / "M").mkdir()
    (tmp_path / "M" / "config.json").write_text(NESTED)
    args = [command, str(tmp_path / "M")]
    if command == "edit":
        (tmp_path / "p.png").write_bytes(b"")
        args += [str(tmp_path / "p.png"), "--edit", "+Bangs", "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nested too deeply" in err[0] and "config.json" in err[0]


@pytest.fixture
def read_only_under(monkeypatch):
    """Make every directory creation and file open for writing under a folder fail with EROFS."""

    def install(root: Path) -> None:
        real_mkdir, real_open = Path.mkdir, open
        real_mkstemp = __import__("tempfile").mkstemp

        def refuse(path) -> None:
            if str(Path(path).resolve()).startswith(str(root.resolve())):
                raise OSError(errno.EROFS, "Read-only file system", str(path))

        def mkdir(self, *a, **k):
            refuse(self)
            return real_mkdir(self, *a, **k)

        def mkstemp(*a, **k):
            refuse(k.get("dir") or (a[2] if len(a) > 2 else "."))
            return real_mkstemp(*a, **k)

        monkeypatch.setattr(Path, "mkdir", mkdir)
        monkeypatch.setattr("tempfile.mkstemp", mkstemp)
        _ = real_open

    return install


def _one_line(capsys) -> str:
    """The command's last stderr line: its one-line error (an exception escaping main fails the test)."""
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("secgan: error: "), err[-5:]
    return err[-1]


def test_edit_into_a_read_only_out(tmp_path, capsys, read_only_under):
    import numpy as np
    from PIL import Image

    model = make_model_dir(tmp_path / "M", "stargan", size=32)
    Image.fromarray(np.zeros((218, 178, 3), np.uint8)).save(tmp_path / "c.png")
    read_only_under(tmp_path / "ro")
    rc = main(["edit", str(model), str(tmp_path / "c.png"), "--aligned", "--source", "", "--edit", "+Bangs",
               "--out", str(tmp_path / "ro" / "new")])  # fmt: skip
    line = _one_line(capsys)
    assert rc == 2 and "Read-only file system" in line and str(tmp_path / "ro") in line


def test_synth_into_a_read_only_out(tmp_path, capsys, read_only_under):
    read_only_under(tmp_path / "ro")
    rc = main(["synth", str(tmp_path / "ro" / "data"), "--num", "4", "--workers", "1", "--no-progress"])
    line = _one_line(capsys)
    assert rc == 2 and "Read-only file system" in line


def test_reproduce_into_a_read_only_out(tmp_path, capsys, read_only_under):
    read_only_under(tmp_path / "ro")
    rc = main(["reproduce", "--preset", "demo", "--out", str(tmp_path / "ro" / "repro")])
    line = _one_line(capsys)
    assert rc == 2 and "Read-only file system" in line and "repro" in line


def _flip_byte(path: Path, offset: int = -100) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_info_verifies_digests_and_the_card_as_edit_does(tmp_path, capsys):
    model = make_model_dir(tmp_path / "M", "stargan", size=32)
    assert main(["info", str(model)]) == 0
    assert json.loads(capsys.readouterr().out)["networks"]["G"]["sha256_verified"] is True
    _flip_byte(model / "G.safetensors")
    assert main(["info", str(model)]) == 2
    assert "corrupt" in _one_line(capsys)
    # a card that cannot be built within the limits (a hostile conv_dim)
    model2 = make_model_dir(tmp_path / "M2", "stargan", size=32)
    config = json.loads((model2 / "config.json").read_text())
    config["networks"]["G"]["kwargs"]["conv_dim"] = 4096
    (model2 / "config.json").write_text(json.dumps(config))
    assert main(["info", str(model2)]) == 2
    assert "G" in _one_line(capsys)


def test_a_checkpoint_without_its_digest_loads_with_a_warning(tmp_path, caplog):
    from secgan.training.checkpoint import load_checkpoint, save_checkpoint

    path = save_checkpoint(tmp_path, 1, {"w": torch.zeros(3)})
    caplog.set_level(logging.WARNING)
    load_checkpoint(path)
    assert "no digest" not in caplog.text
    Path(str(path) + ".sha256").unlink()
    load_checkpoint(path)
    assert "no digest beside it" in caplog.text and path.name in caplog.text


def test_reproduce_exits_130_on_sigint_like_train(tmp_path, monkeypatch, capsys):
    from secgan.reproduce import pipeline
    from secgan.reproduce.stages import StageInterrupted

    def interrupted(*a, **k):
        raise StageInterrupted(
            "interrupted by SIGINT during secgan train (exit 130); its work so far is saved"
        )

    monkeypatch.setattr(pipeline, "reproduce", interrupted)
    assert main(["reproduce", "--preset", "demo", "--out", str(tmp_path / "r")]) == 130
    assert "interrupted by SIGINT" in capsys.readouterr().err


def test_data_check_without_deep_reads_every_header(tmp_path, capsys):
    from PIL import Image

    data = tmp_path / "d"
    assert main(["synth", str(data), "--num", "40", "--workers", "1", "--no-progress"]) == 0
    capsys.readouterr()
    images = sorted((data / "img_align_celeba").glob("*.jpg"))
    Image.new("RGB", (50, 40)).save(images[-1])  # one image of the wrong size, beyond any sample
    assert main(["data", "check", str(data), "--dataset", "celeba", "--no-progress"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert not report["ok"] and any(images[-1].name in e and "50x40" in e for e in report["errors"])
    assert "--deep" in report["not_checked"]
