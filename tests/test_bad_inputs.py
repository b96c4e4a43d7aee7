"""A corpus of bad inputs, each through the public entry points a user reaches it by.

Every case must end in one clear line (a :class:`SecganError` subclass in the library; status 2 and a single
``secgan: error: ...`` line from the command line) naming the file at fault, with no traceback, no pickled
code run, and no file of the user's changed or lost. Inputs are tiny files built in ``tmp_path``.

Cases: a truncated JPEG, a zero-byte file, an image over the pixel limit (a PNG whose header claims
20000x20000: a decompression bomb), a text file posing as an image, an attribute file with wrong columns,
checkpoints of another architecture (an exported model folder and a run folder to ``--resume``), non-image
uploads to the web demo, and pickles that would run code when loaded.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import secgan
from secgan.cli import main
from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.data.celeba import parse_attribute_file
from secgan.errors import DataError, SecganError, WeightsError
from secgan.models.attgan import AttGANGenerator
from secgan.models.export import load_pretrained, save_pretrained
from secgan.models.stargan import StarGANGenerator
from secgan.training.checkpoint import load_checkpoint
from secgan.utils.images import read_image
from secgan.utils.io import load_torch_file

TINY_TRAIN = [
    "data.image_size=32",
    "data.num_workers=1",  # a DataLoader worker: its errors must still come back as one line
    "model.g_conv_dim=8",
    "model.g_n_res=1",
    "model.d_conv_dim=8",
    "model.d_n_layers=3",
    "train.batch_size=4",
    "train.n_critic=2",
    "train.iterations=2",
    "train.decay_start=1",
    "log.checkpoint_every=2",
    "log.sample_every=1000",
    "log.n_samples=1",
    "log.tensorboard=false",
]


# ------------------------------------------------------------------------------------------- helpers
def _cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run ``secgan ARGS``; returns ``(status, the error line or "", stdout)``. Status 2 must come with
    exactly one ``secgan: error: ...`` line, and no status with a traceback."""
    capsys.readouterr()
    for h in logging.getLogger().handlers:  # the CLI's log handler writes to this test's captured stderr
        if type(h) is logging.StreamHandler:
            h.stream = sys.stderr  # (not setStream: it flushes the previous test's closed stream)
    rc = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    lines = [x for x in err.splitlines() if x.startswith("secgan: error:")]
    assert len(lines) == (1 if rc == 2 else 0), err
    return rc, (lines[0] if lines else ""), out


def _train_args(data: Path, out: Path, *extra: str) -> list[str]:
    args = ["train", "--config", "synthetic-stargan-64-baseline", "--data", str(data), "--out", str(out)]
    args += ["--device", "cpu", "--no-progress"]
    for s in [*TINY_TRAIN, *extra]:
        args += ["--set", s]
    return args


def _tree_digest(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root``: proof that nothing was changed or lost."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _jpeg_bytes(size: int = 48, seed: int = 0) -> bytes:
    arr = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims ``width x height`` RGB, with a tiny IDAT: decoding it would allocate
    ``3 * width * height`` bytes (1.2 GB at 20000x20000) while the file has a few dozen."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _make_bad_photo(kind: str, directory: Path) -> Path:
    if kind == "truncated":
        data = _jpeg_bytes()
        path, content = directory / "truncated.jpg", data[: len(data) // 2]
    elif kind == "zero-byte":
        path, content = directory / "empty.jpg", b""
    elif kind == "bomb":
        path, content = directory / "bomb.png", _png_header_only(20_000, 20_000)
    else:  # a text file with an image's name
        path, content = directory / "notes.png", b"<html><body>not a photo</body></html>\n"
    path.write_bytes(content)
    return path


BAD_PHOTOS = {
    # kind: what the one-line message says
    "truncated": r"truncated or corrupt",
    "zero-byte": r"empty \(0 bytes\)",
    "bomb": r"pixel limit|over the limit",
    "non-image": r"not an image file",
}


class _Exploit:
    """Unpickling this runs ``touch MARKER`` (os.system): a file that would run code when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):  # noqa: D105
        return (os.system, (f"touch {self.marker}",))


def _write_exploits(directory: Path, marker: Path) -> dict[str, Path]:
    """The same payload in torch's zip format and as a plain (legacy) pickle."""
    directory.mkdir(parents=True, exist_ok=True)
    zip_path = directory / "evil-zip.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}, "x": _Exploit(marker)}, zip_path)
    raw_path = directory / "evil-raw.pt"
    raw_path.write_bytes(pickle.dumps({"step": 5, "x": _Exploit(marker)}, protocol=2))
    return {"zip": zip_path, "raw": raw_path}


# ------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    """16 synthetic CelebA-format images (``secgan synth``)."""
    root = tmp_path_factory.mktemp("faces") / "data"
    assert main(["synth", str(root), "--num", "16", "--workers", "1", "--no-progress"]) == 0
    return root


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """An exported 32-px StarGAN editing model of width 8."""
    torch.manual_seed(0)
    G = StarGANGenerator(in_channels=3, n_attrs=len(PAPER_ATTRIBUTES), conv_dim=8, n_res=1, n_down=2)
    meta = {
        "kind": "editor",
        "attributes": list(PAPER_ATTRIBUTES),
        "conditioning": "diff",
        "target_scale": 0.5,
        "image_size": 32,
        "backbone": "stargan",
        "mode": "baseline",
        "needs_mask": False,
    }
    return save_pretrained(tmp_path_factory.mktemp("model") / "M", {"G": G}, meta)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, faces) -> dict[str, Path]:
    """Two finished 2-step run folders: ``small`` (width 8) and ``wide`` (width 16, another architecture)."""
    base = tmp_path_factory.mktemp("runs")
    small, wide = base / "small", base / "wide"
    assert main(_train_args(faces, small)) == 0
    assert main(_train_args(faces, wide, "model.g_conv_dim=16", "model.d_conv_dim=16")) == 0
    return {"small": small, "wide": wide}


@pytest.fixture(scope="module")
def demo(model_dir):
    from secgan.app.web import WebDemo
    from secgan.editing.editor import Editor

    return WebDemo(Editor.load(model_dir), max_upload_mb=1.0)


# ------------------------------------------------------------------------------------ images, photos
@pytest.mark.parametrize("kind", list(BAD_PHOTOS))
def test_bad_image_file_is_one_data_error(kind, tmp_path):
    path = _make_bad_photo(kind, tmp_path)
    before = path.read_bytes()
    with pytest.raises(DataError, match=BAD_PHOTOS[kind]) as err:
        read_image(path)
    assert path.name in str(err.value) and "\n" not in str(err.value)
    assert path.read_bytes() == before


def test_decompression_bomb_is_refused_from_its_header(tmp_path):
    """Refused before any pixel is decoded, both above PIL's own limit (20000^2) and between our 64 MP
    limit and PIL's (9000^2 = 81 MP, where PIL only warns), and below our limit by the web page's own."""
    import tracemalloc

    for side in (20_000, 9_000):
        path = tmp_path / f"bomb{side}.png"
        path.write_bytes(_png_header_only(side, side))
        tracemalloc.start()
        with pytest.raises(DataError, match="pixel"):
            read_image(path)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < 16 * 2**20  # nothing near the 243 MB / 1.2 GB a decode would take


@pytest.mark.parametrize("kind", list(BAD_PHOTOS))
def test_bad_photo_to_the_edit_command(kind, model_dir, tmp_path, capsys):
    path = _make_bad_photo(kind, tmp_path)
    out = tmp_path / "edited"
    rc, line, _ = _cli(capsys, "edit", model_dir, path, "--aligned", "--source", "Male", "--edit", "+Bangs",
                    "--out", out, "--device", "cpu")  # fmt: skip
    assert rc == 2 and path.name in line
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("kind", [*BAD_PHOTOS, "bomb-for-the-page"])
def test_bad_upload_to_the_web_demo(kind, demo, tmp_path):
    """The demo's upload check (``WebDemo.load_upload``, called by the page's upload and edit handlers)."""
    if kind == "bomb-for-the-page":  # 36 MP: under the library's 64 MP, over the page's 25 MP
        path = tmp_path / "poster.png"
        path.write_bytes(_png_header_only(6_000, 6_000))
    else:
        path = _make_bad_photo(kind, tmp_path)
    with pytest.raises(SecganError, match=rf"{path.name} is not a usable image") as err:
        demo.load_upload(path)
    assert str(tmp_path) not in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(SecganError, match="is not a usable image"):
        demo.run(path, True, 1.0, False, "given", ["Male"], *[1.0] + [0.0] * (len(PAPER_ATTRIBUTES) - 1))


@pytest.mark.parametrize("kind", ["truncated", "zero-byte"])
def test_bad_image_in_the_training_set(kind, faces, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(faces, data)
    victim = data / "img_align_celeba" / "000002.jpg"
    victim.write_bytes(victim.read_bytes()[:300] if kind == "truncated" else b"")
    before = _tree_digest(data)
    rc, line, _ = _cli(capsys, *_train_args(data, tmp_path / "run", "train.iterations=8", "log.n_samples=0"))
    assert rc == 2 and "000002.jpg" in line and ("cannot read" in line or "empty" in line)
    assert "DataLoader worker" not in line  # the worker's traceback is not the message
    assert _tree_digest(data) == before
    # `secgan data check --deep` reports the file instead of failing (status 1, a JSON report)
    rc, _, out = _cli(capsys, "data", "check", data, "--dataset", "celeba", "--deep", "--no-progress")
    report = json.loads(out)
    assert rc == 1 and not report["ok"]
    assert [Path(b["file"]).name for b in report["deep"]["unreadable"]] == ["000002.jpg"]


# ----------------------------------------------------------------------------------- attribute files
def _break_columns(data: Path) -> tuple[Path, int]:
    """Drop the last value of the 5th image's row; returns the file and that row's line number."""
    path = data / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[6] = " ".join(lines[6].split()[:-1])
    path.write_text("\n".join(lines) + "\n")
    return path, 7


def test_attribute_file_with_wrong_columns(faces, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(faces, data)
    path, lineno = _break_columns(data)
    with pytest.raises(
        DataError, match=rf"list_attr_celeba.txt:{lineno}: expected a file name and 40 values"
    ):
        parse_attribute_file(path)
    before = _tree_digest(data)
    rc, line, _ = _cli(capsys, "data", "check", data, "--dataset", "celeba", "--no-progress")
    assert rc == 2 and f"list_attr_celeba.txt:{lineno}:" in line and "found 40 columns" in line
    rc, line, _ = _cli(capsys, *_train_args(data, tmp_path / "run"))
    assert rc == 2 and f"list_attr_celeba.txt:{lineno}:" in line
    assert _tree_digest(data) == before and not (tmp_path / "run" / "checkpoints").exists()


def test_attribute_file_without_a_trained_attribute(faces, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(faces, data)
    path = data / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace("Bangs", "Fringe")
    path.write_text("\n".join(lines) + "\n")
    rc, line, _ = _cli(capsys, *_train_args(data, tmp_path / "run"))
    assert rc == 2 and "'Bangs'" in line and "list_attr_celeba.txt" in line


# ------------------------------------------------------------------------ checkpoints of another network
@pytest.mark.parametrize("other", ["attgan", "wider-stargan"])
def test_model_folder_with_weights_of_another_network(other, model_dir, tmp_path, capsys):
    bad = tmp_path / "M"
    shutil.copytree(model_dir, bad)
    torch.manual_seed(1)
    if other == "attgan":
        net = AttGANGenerator(n_attrs=len(PAPER_ATTRIBUTES), enc_dim=8, dec_dim=8, n_layers=3, max_dim=32)
        expect = "missing key"
    else:
        net = StarGANGenerator(in_channels=3, n_attrs=len(PAPER_ATTRIBUTES), conv_dim=16, n_res=1, n_down=2)
        expect = "shape mismatch"
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(bad / "G.safetensors"))
    before = _tree_digest(bad)
    with pytest.raises(WeightsError, match=rf"G.safetensors: checkpoint of another architecture.*{expect}"):
        load_pretrained(bad)
    (tmp_path / "x.jpg").write_bytes(_jpeg_bytes())
    rc, line, _ = _cli(capsys, "edit", bad, tmp_path / "x.jpg", "--aligned", "--source", "Male",
                    "--edit", "+Bangs", "--out", tmp_path / "out")  # fmt: skip
    assert rc == 2 and "G.safetensors" in line and "another architecture" in line
    assert _tree_digest(bad) == before


def test_resume_into_a_run_whose_checkpoint_is_another_architecture(runs, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    # the newest checkpoint of the folder comes from the wider run (e.g. copied in by mistake)
    shutil.copy(runs["wide"] / "checkpoints" / "step-000002.pt", run / "checkpoints" / "step-000004.pt")
    before = _tree_digest(run)
    rc, line, _ = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress",
                    "--set", "train.iterations=6")  # fmt: skip
    assert rc == 2
    assert "step-000004.pt" in line and "network G_rgb does not match the configured architecture" in line
    assert _tree_digest(run) == before  # the run's checkpoints, stats and export are untouched


def test_resume_from_a_damaged_checkpoint(runs, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    ckpt = run / "checkpoints" / "step-000002.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:1000])  # e.g. a disk error (secgan never writes such a file)
    rc, line, _ = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress")
    assert rc == 2 and "step-000002.pt" in line and "cannot load checkpoint" in line


# ---------------------------------------------------------------------------- pickles that run code
@pytest.mark.parametrize("fmt", ["zip", "raw"])
def test_pickles_that_run_code_are_refused_everywhere(fmt, runs, tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = _write_exploits(tmp_path / "evil", marker)[fmt]
    with pytest.raises(WeightsError, match="weights_only=True"):
        load_torch_file(evil)
    with pytest.raises(WeightsError, match=evil.name):
        load_checkpoint(evil)
    # the trainer's --resume: the payload poses as the newest checkpoint of a run folder
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    shutil.copy(evil, run / "checkpoints" / "step-000004.pt")
    rc, line, _ = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress")
    assert rc == 2 and "step-000004.pt" in line and "weights_only=True" in line
    # importers of public checkpoints
    rc, line, _ = _cli(capsys, "import", "stargan", evil, "--out", tmp_path / "imported")
    assert rc == 2 and evil.name in line
    rc, line, _ = _cli(capsys, "parser", "import", evil, "--out", tmp_path / "parser")
    assert rc == 2 and evil.name in line
    assert not (tmp_path / "imported" / "config.json").exists()
    assert not (tmp_path / "parser" / "config.json").exists()
    assert not marker.exists()  # the payload never ran


def test_pickle_posing_as_safetensors_is_refused(model_dir, tmp_path):
    marker = tmp_path / "pwned"
    bad = tmp_path / "M"
    shutil.copytree(model_dir, bad)
    shutil.copy(_write_exploits(tmp_path / "evil", marker)["zip"], bad / "G.safetensors")
    with pytest.raises(WeightsError, match=r"cannot read .*G\.safetensors"):
        load_pretrained(bad)
    assert not marker.exists()


def test_no_loader_in_the_package_can_run_pickled_code():
    """Every ``torch.load`` passes ``weights_only=True``; nothing calls ``pickle.load(s)``,
    ``torch.jit.load``, ``np.load(allow_pickle=True)`` or an unsafe YAML loader."""
    root = Path(secgan.__file__).parent
    problems, torch_loads = [], 0
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = ast.unparse(node.func)
            kw = {k.arg: k.value for k in node.keywords}
            where = f"{path.relative_to(root)}:{node.lineno} {name}"
            if name == "torch.load":
                torch_loads += 1
                wo = kw.get("weights_only")
                if not (isinstance(wo, ast.Constant) and wo.value is True):
                    problems.append(f"{where} without weights_only=True")
            elif name in ("pickle.load", "pickle.loads", "torch.jit.load", "yaml.load", "yaml.unsafe_load"):
                problems.append(where)
            elif name in ("np.load", "numpy.load"):
                ap = kw.get("allow_pickle")
                if ap is not None and not (isinstance(ap, ast.Constant) and ap.value is False):
                    problems.append(f"{where} with allow_pickle")
    assert torch_loads >= 1  # the scan sees secgan.utils.io.load_torch_file
    assert not problems, problems
