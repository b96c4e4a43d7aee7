"""A corpus of bad inputs, each through the public entry points a user reaches it by.

Every case must end in one clear line (a :class:`SecganError` subclass in the library; status 2 and a single
``secgan: error: ...`` line from the command line) naming the file at fault, with no traceback, no pickled
code run, and no file of the user's changed or lost. Inputs are tiny files built in ``tmp_path``.

Cases (47 collected; 21 added with issue 13): a truncated JPEG, a zero-byte file, an image over the pixel
limit (a PNG whose header claims 20000x20000: a decompression bomb), a text file posing as an image, an
attribute file with wrong columns, checkpoints of another architecture (an exported model folder and a run
folder to ``--resume``), non-image uploads to the web demo, and pickles that would run code when loaded.
Issue 13: images of another size (100x100, 1x1) among 178x218, a 16-bit PNG, attribute rows repeating a
file with other labels or naming files outside the dataset, labels.csv with such rows or no rows,
zero-filled and random "checkpoints", a blocked pickle global, a bit-flipped checkpoint (refused, nothing
pruned), NaN weights, an export mixing two saves, ``--out`` into a user's folder, a full disk and a
read-only folder, and synth into a full folder. Hostile model configs: tests/test_untrusted_model_folders.py;
resuming with changed settings or data: tests/training/test_resume_refusals.py.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

import secgan
from bad_input_helpers import (
    ATTR_ROWS,
    BAD_PHOTOS,
    LABEL_CSV,
    _cli,
    _copy_faces,
    _flip_bit_of_a_weight,
    _jpeg_bytes,
    _make_bad_photo,
    _png_header_only,
    _train_args,
    _tree_digest,
    _write_exploits,
    make_model_dir,
)
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
    return make_model_dir(tmp_path_factory.mktemp("model") / "M")


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
    # the configuration is checked before any weight is loaded: the refusal names the changed widths
    assert "step-000004.pt" in line and "model.g_conv_dim: 16 -> 8" in line and "start a new run" in line
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


# ----------------------------------------------------------------- images and labels `data check` must catch
@pytest.mark.parametrize("size", [(100, 100), (1, 1)])
def test_image_of_another_size_in_the_dataset(size, faces, tmp_path, capsys):
    data = _copy_faces(faces, tmp_path)
    Image.new("RGB", size, (128, 90, 60)).save(data / "img_align_celeba" / "000002.jpg")
    rc, _, out = _cli(capsys, "data", "check", data, "--dataset", "celeba", "--deep", "--no-progress")
    report = json.loads(out)
    assert rc == 1 and not report["ok"] and report["image_size"] == "178x218"
    assert [Path(e["file"]).name for e in report["deep"]["wrong_size"]] == ["000002.jpg"]
    # training refuses the same image (it is read in the first 8 steps, see the truncated-file case)
    rc, line, _ = _cli(capsys, *_train_args(data, tmp_path / "run", "train.iterations=8", "log.n_samples=0"))
    assert rc == 2 and "000002.jpg" in line and "{}x{}".format(*size) in line


def test_16_bit_png_is_read_with_its_grey_levels(tmp_path):
    path = tmp_path / "grey16.png"
    Image.fromarray(np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)).save(path)
    assert Image.open(path).mode.startswith("I")
    rgb = np.asarray(read_image(path))  # PIL's own convert("RGB") gives all white (255) here
    assert rgb.shape == (64, 64, 3) and rgb.min() == 0 and rgb.max() == 255
    assert abs(float(rgb.mean()) - 127.5) < 1.0


@pytest.mark.parametrize("case", list(ATTR_ROWS))
def test_attribute_file_rows_that_are_refused(case, faces, tmp_path, capsys):
    data = _copy_faces(faces, tmp_path)
    path = data / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    r3, r4 = lines[4].split(), lines[5].split()  # lines 5 and 6; their labels differ (checked below)
    assert r3[1:] != r4[1:]
    lines[5] = " ".join(ATTR_ROWS[case][0](r3, r4))
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=rf"list_attr_celeba.txt:6: .*{ATTR_ROWS[case][1]}"):
        parse_attribute_file(path)
    for args in (
        ["data", "check", data, "--dataset", "celeba", "--no-progress"],
        _train_args(data, tmp_path / "r"),
    ):
        rc, line, _ = _cli(capsys, *args)
        assert rc == 2 and "list_attr_celeba.txt:6:" in line and not (tmp_path / "r" / "checkpoints").exists()


@pytest.mark.parametrize("case", list(LABEL_CSV))
def test_label_csv_problems(case, faces, tmp_path, capsys):
    rows, status, says = LABEL_CSV[case]
    data = tmp_path / "custom"
    data.mkdir()
    for name in ("a.jpg", "b.jpg"):
        shutil.copy(faces / "img_align_celeba" / "000001.jpg", data / name)
    (data / "labels.csv").write_text("\n".join(["file,Male,Young", *rows]) + "\n")
    rc, line, out = _cli(capsys, "data", "check", data, "--dataset", "custom", "--no-progress")
    assert rc == status
    if status == 2:
        assert "labels.csv:" in line and says in line
    else:
        report = json.loads(out)
        assert report["ok"] == (status == 0)
        assert says in " ".join(report["errors"] + report["warnings"])


# ------------------------------------------------------------------------- weights: damaged, NaN, foreign
@pytest.mark.parametrize("content", ["zeros", "random"])
def test_bytes_that_are_no_checkpoint(content, tmp_path, capsys):
    path = tmp_path / "model.pt"
    path.write_bytes(bytes(4096) if content == "zeros" else np.random.default_rng(0).bytes(4096))
    with pytest.raises(WeightsError) as err:
        load_torch_file(path)
    msg = str(err.value)
    assert "model.pt is not a PyTorch checkpoint" in msg and "weights_only=False" not in msg
    rc, line, _ = _cli(capsys, "import", "stargan", path, "--out", tmp_path / "imported")
    assert rc == 2 and "is not a PyTorch checkpoint" in line and "False" not in line


def test_a_blocked_pickle_names_the_blocked_global(tmp_path):
    evil = _write_exploits(tmp_path / "evil", tmp_path / "pwned")["zip"]
    with pytest.raises(WeightsError, match=r"blocked global (posix|nt|os)\.system") as err:
        load_torch_file(evil)
    assert "weights_only=False" not in str(err.value) and not (tmp_path / "pwned").exists()


def test_bit_flipped_checkpoint_is_refused_and_nothing_is_pruned(runs, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    ckpt = run / "checkpoints" / "step-000002.pt"
    _flip_bit_of_a_weight(ckpt)
    torch.load(ckpt, weights_only=True)  # torch itself sees nothing wrong
    with pytest.raises(WeightsError, match="step-000002.pt: it is corrupt"):
        load_checkpoint(ckpt)
    before = _tree_digest(run)
    rc, line, _ = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress",
                    "--set", "train.iterations=4")  # fmt: skip
    assert rc == 2 and "step-000002.pt" in line and "corrupt" in line
    assert _tree_digest(run) == before  # no new checkpoint from bad weights, no pruning, no new export


def test_nan_weights_are_neither_exported_nor_used(model_dir, tmp_path, capsys):
    G = StarGANGenerator(in_channels=3, n_attrs=len(PAPER_ATTRIBUTES), conv_dim=8, n_res=1, n_down=2)
    with torch.no_grad():
        next(G.parameters()).fill_(float("nan"))
    with pytest.raises(WeightsError, match="NaN/Inf.*refusing to export"):
        save_pretrained(tmp_path / "nan-export", {"G": G}, {})
    assert not (tmp_path / "nan-export" / "G.safetensors").exists()
    bad = tmp_path / "M"
    shutil.copytree(model_dir, bad)
    save_file({k: torch.full_like(v, float("nan")) if v.is_floating_point() else v
               for k, v in G.state_dict().items()}, str(bad / "G.safetensors"))  # fmt: skip
    (tmp_path / "x.jpg").write_bytes(_jpeg_bytes())
    rc, line, _ = _cli(capsys, "edit", bad, tmp_path / "x.jpg", "--aligned", "--source", "Male",
                    "--edit", "+Bangs", "--out", tmp_path / "out")  # fmt: skip
    assert rc == 2 and "G.safetensors" in line and "NaN/Inf" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_export_folder_mixing_two_exports_is_refused(model_dir, tmp_path):
    torch.manual_seed(5)  # the same architecture, other weights: only the digest tells them apart
    G = StarGANGenerator(in_channels=3, n_attrs=len(PAPER_ATTRIBUTES), conv_dim=8, n_res=1, n_down=2)
    other = save_pretrained(tmp_path / "other", {"G": G}, {})
    mixed = tmp_path / "mixed"
    shutil.copytree(model_dir, mixed)
    shutil.copy(other / "G.safetensors", mixed / "G.safetensors")
    with pytest.raises(WeightsError, match=r"G\.safetensors: it is corrupt"):
        load_pretrained(mixed)


# --------------------------------------------------------------------------------------- output folders
def test_train_out_into_a_folder_of_the_users_is_refused(faces, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "config.json").write_text('{"my": "settings"}\n')
    (mine / "stats.jsonl").write_text('{"my": "numbers"}\n')
    before = _tree_digest(mine)
    rc, line, _ = _cli(capsys, *_train_args(faces, mine))
    assert rc == 2 and "not a secgan run folder" in line and str(mine) in line
    assert _tree_digest(mine) == before
    (tmp_path / "empty").mkdir()  # an empty folder is fine
    assert _cli(capsys, *_train_args(faces, tmp_path / "empty"))[0] == 0


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_full_disk_or_read_only_folder_is_one_line(code, runs, tmp_path, capsys, monkeypatch):
    import secgan.training.checkpoint as ck
    from secgan.utils.io import atomic_path

    def failing_write(data, path):  # the disk fills (or turns read-only) mid-write
        with atomic_path(path) as tmp:
            tmp.write_bytes(bytes(data[:100]))
            raise OSError(code, os.strerror(code), str(tmp))

    run = tmp_path / "run"
    shutil.copytree(runs["small"], run)
    monkeypatch.setattr(ck, "write_bytes_atomic", failing_write)
    rc, line, _ = _cli(capsys, "train", "--resume", "--out", run, "--device", "cpu", "--no-progress",
                    "--allow-changes", "--set", "train.iterations=4")  # fmt: skip
    assert rc == 2 and f"cannot write {run / 'checkpoints' / 'step-000004.pt'}: {os.strerror(code)}" in line
    assert [p.name for p in (run / "checkpoints").glob("*.pt*") if p.suffix != ".sha256"] == [
        "step-000002.pt"
    ]
    assert load_checkpoint(run / "checkpoints" / "step-000002.pt")["step"] == 2  # the older one is kept


def test_synth_into_a_non_empty_folder_is_refused(tmp_path, capsys):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "notes.txt").write_text("mine\n")
    rc, line, _ = _cli(capsys, "synth", tmp_path / "d", "--num", "2", "--workers", "1", "--no-progress")
    assert rc == 2 and "not empty" in line and "--overwrite" in line
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["notes.txt"]
