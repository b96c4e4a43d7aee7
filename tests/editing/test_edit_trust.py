"""Editing people can trust (issue 14): a zero edit returns the photo bit for bit, no input is ever
overwritten, the photo's mode / format / JPEG quality are kept, the JSON says what was predicted and done,
edit values are checked, run folders are accepted."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from editing_helpers import make_model_dir
from PIL import Image

from secgan.cli import main as cli_main

pytest.importorskip("dlib", reason="photo editing needs the optional extra secgan[photos] (dlib-bin)")
skimage_data = pytest.importorskip("skimage.data", reason="the astronaut photo comes with scikit-image")

SIZE = 32


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("model") / "M", "stargan", size=SIZE, classifier=True)


@pytest.fixture(scope="module")
def astro() -> np.ndarray:
    return skimage_data.astronaut()  # [512, 512, 3] uint8, one face


def _md5(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _edit(*args: str) -> int:
    return cli_main(["edit", *map(str, args)])


@pytest.mark.parametrize("zero", [["--edit", "Blond_Hair=0"], ["--edit", "+Blond_Hair", "--strength", "0"]])
def test_zero_edit_returns_the_png_byte_identical(model_dir, astro, tmp_path, capsys, zero):
    src = tmp_path / "astro.png"
    Image.fromarray(astro).save(src)
    assert _edit(model_dir, src, *zero, "--out", tmp_path / "o") == 0
    assert (tmp_path / "o" / "astro.png").read_bytes() == src.read_bytes()
    assert json.loads(capsys.readouterr().out)["faces_edited"] == 1


def test_zero_edit_keeps_the_decoded_jpeg_pixels(model_dir, astro, tmp_path):
    src = tmp_path / "astro.jpg"
    Image.fromarray(astro).save(src, quality=80)
    assert _edit(model_dir, src, "--edit", "Young=0", "--out", tmp_path / "o") == 0
    assert np.array_equal(np.asarray(Image.open(tmp_path / "o" / "astro.jpg")), np.asarray(Image.open(src)))


def test_delta_blend_cancels_the_reconstruction_error(model_dir, astro):
    """Below the CLI's copy shortcut: the delta paste-back itself returns the photo for a zero edit although
    the (untrained) generator reconstructs the face badly; the old residual mode does not."""
    from secgan.editing.editor import Editor
    from secgan.editing.photo import PhotoEditor

    editor = Editor.load(model_dir)
    src = editor.labels_from_names("Young")[0]
    delta = PhotoEditor(editor, blend="delta").edit(astro, {"Bangs": 0}, source=src)
    assert np.array_equal(delta.image, astro)
    face = delta.faces[0]
    assert np.abs(face.edited.astype(int) - face.crop.astype(int)).mean() > 5  # G(x, c0) != x
    residual = PhotoEditor(editor, blend="residual").edit(astro, {"Bangs": 0}, source=src)
    assert np.array_equal(residual.image, astro)  # a zero edit returns the photo in every mode
    # with an edit, residual pastes the reconstruction error where delta does not
    assert np.any(
        PhotoEditor(editor, blend="residual").edit(astro, {"Bangs": 0.01}, source=src).image != astro
    )
    # a real edit moves the face, and only where G(x, c) differs from G(x, c0)
    edited = PhotoEditor(editor, blend="delta").edit(astro, {"Bangs": 1}, source=src)
    assert np.any(edited.image != astro)


def test_out_in_the_input_folder_never_overwrites(model_dir, astro, tmp_path, capsys):
    folder = tmp_path / "dir"
    folder.mkdir()
    src = folder / "astro.png"
    Image.fromarray(astro).save(src)
    before = _md5(src)
    assert _edit(model_dir, src, "--edit", "+Bangs", "--heatmap", "--out", folder) == 0
    assert _md5(src) == before
    summary = json.loads(capsys.readouterr().out)
    assert summary["files"][0]["output"] == str(folder / "astro.edited.png")
    assert (folder / "astro.edited.png").is_file() and (folder / "astro.edited_diff.png").is_file()
    # the folder itself as input, written into its parent: dir/astro.png is an input again
    # its earlier outputs are not read again, and replaced only with --overwrite
    assert _edit(model_dir, folder, "--edit", "+Bangs", "--out", tmp_path) == 2
    capsys.readouterr()
    assert _edit(model_dir, folder, "--edit", "+Bangs", "--out", tmp_path, "--overwrite") == 0
    assert _md5(src) == before and not (folder / "astro.edited2.png").exists()
    assert [f["input"] for f in json.loads(capsys.readouterr().out)["files"]] == [str(src)]


def test_modes_and_jpeg_quality_are_kept(model_dir, astro, tmp_path):
    alpha = np.zeros(astro.shape[:2], np.uint8)
    alpha[:, 256:] = 255  # right half opaque, left half transparent
    alpha[:20] = 77
    rgba = np.dstack([astro, alpha])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    Image.fromarray(astro).convert("L").save(tmp_path / "gray.png")
    Image.fromarray(astro).save(tmp_path / "q60.jpg", quality=60)
    out = tmp_path / "o"
    for name in ("rgba.png", "gray.png", "q60.jpg"):
        assert _edit(model_dir, tmp_path / name, "--edit", "+Bangs", "--source", "", "--out", out) == 0
    got = Image.open(out / "rgba.png")
    assert got.mode == "RGBA" and np.array_equal(np.asarray(got)[..., 3], alpha)
    assert np.any(np.asarray(got)[..., :3] != astro)  # the face was edited
    gray = Image.open(out / "gray.png")
    assert gray.mode == "L" and np.asarray(gray).ndim == 2
    q_in, q_out = Image.open(tmp_path / "q60.jpg"), Image.open(out / "q60.jpg")
    assert q_out.format == "JPEG" and q_out.quantization == q_in.quantization


def test_json_lists_predicted_source_and_effective_values(model_dir, astro, tmp_path, capsys):
    from secgan.data.attributes import PAPER_ATTRIBUTES

    src = tmp_path / "astro.png"
    Image.fromarray(astro).save(src)
    assert _edit(model_dir, src, "--edit", "+bangs", "--edit", "YOUNG=-0.5", "--strength", "1.5",
                 "--out", tmp_path / "o") == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["edits"] == {"Bangs": 1.0, "Young": -0.5}  # names in the model's spelling
    assert summary["effective_edits"] == {"Bangs": 1.5, "Young": -0.75}
    assert summary["photos_edited"] == 1 and summary["faces_edited"] == 1 and summary["photos_skipped"] == 0
    face = summary["files"][0]["faces"][0]
    probs = face["source_probabilities"]
    assert list(probs) == list(PAPER_ATTRIBUTES) and all(0.0 <= p <= 1.0 for p in probs.values())
    assert all(probs[a] >= 0.5 for a in face["source"])  # (probabilities rounded to 4 decimals)
    assert all(p <= 0.5 for a, p in probs.items() if a not in face["source"])


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--edit", "+Bangs", "--strength", "-1"], "--strength must be between 0 and 2"),
        (["--edit", "+Bangs", "--strength", "5"], "--strength must be between 0 and 2"),
        (["--edit", "Blond_Hair=5"], "value 5 is out of range"),
        (["--edit", "+Bangs", "--edit", "bangs=0.5"], "edited twice"),
    ],
)
def test_edit_values_are_checked(model_dir, tmp_path, capsys, args, needle):
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "x.png")
    assert _edit(model_dir, tmp_path / "x.png", *args, "--out", tmp_path / "o") == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("secgan: error:") and needle in last


def test_run_folder_is_accepted_and_a_run_without_export_says_how(model_dir, astro, tmp_path, capsys):
    import shutil

    run = tmp_path / "run"
    shutil.copytree(model_dir, run / "export")
    (run / "config.json").write_text(json.dumps({"seed": 0}))  # a run's training config
    Image.fromarray(astro).save(tmp_path / "a.png")
    assert _edit(run, tmp_path / "a.png", "--edit", "+Bangs", "--out", tmp_path / "o") == 0
    capsys.readouterr()
    bare = tmp_path / "bare"
    (bare / "checkpoints").mkdir(parents=True)
    (bare / "checkpoints" / "step-000100.pt").write_bytes(b"x")
    (bare / "config.json").write_text(json.dumps({"seed": 0}))
    assert _edit(bare, tmp_path / "a.png", "--edit", "+Bangs", "--out", tmp_path / "o2") == 2
    err = capsys.readouterr().err
    assert "no export/" in err and "--resume" in err
    rc = cli_main(["evaluate", str(bare), "--data", str(tmp_path), "--dataset", "custom",
                   "--classifier", str(model_dir), "--out", str(tmp_path / "ev")])  # fmt: skip
    assert rc == 2 and "no export/" in capsys.readouterr().err


@pytest.mark.parametrize("conditioning", ["diff", "target01", "target_pm"])
def test_reference_is_the_no_change_condition(tmp_path, conditioning):
    """``G(x, c0)``: 0 for y_diff, the source labels for target conditioning; a face the edit leaves alone
    gets the very same tensor for edit and reference."""
    import torch

    from secgan.editing.editor import Editor

    backbone = "attgan" if conditioning == "target_pm" else "stargan"
    editor = Editor.load(make_model_dir(tmp_path / "M", backbone, size=SIZE, conditioning=conditioning))
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    src = torch.zeros(2, len(editor.attributes))
    src[1, editor.attributes.index("Bangs")] = 1  # face 1 already has bangs: +Bangs changes nothing
    out, ref = editor.edit_with_reference(x, {"Bangs": 1.0}, source=src)
    c0, _ = editor.condition(src, {})
    expected_c0 = {"diff": torch.zeros_like(src), "target01": src, "target_pm": (2 * src - 1) * 0.5}[
        conditioning
    ]
    assert torch.equal(c0, expected_c0)
    torch.testing.assert_close(ref[:1], editor.G(x[:1], c0[:1]).clamp(-1, 1), atol=1e-5, rtol=0)
    torch.testing.assert_close(out, editor.edit(x, {"Bangs": 1.0}, source=src), atol=1e-5, rtol=0)
    assert not torch.equal(out[0], ref[0])
    if conditioning != "target_pm":  # AttGAN: +Bangs on a face with bangs moves +0.5 to +1 (more bangs)
        assert torch.equal(out[1], ref[1])
    out0, ref0 = editor.edit_with_reference(x, {"Bangs": 0.0}, source=src)
    assert torch.equal(out0, ref0)
