"""`secgan edit` changes nothing the user did not ask for, and says what it did not do (issue 25):
a folder edited into itself, --aligned at the input's size, zero edits bit-identical, 16-bit grey, EXIF,
no silent overwrite, unchanged faces and skipped files explained, exit codes, misspelled names, the comma
form, progress bars that do not tear log lines."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from editing_helpers import make_model_dir
from PIL import Image

from secgan.cli import main

AL = ["--aligned", "--source", ""]


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("m") / "M", "stargan", size=32, classifier=True)


def _crop(path: Path, seed: int = 0, size=(218, 178)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, (*size, 3), dtype=np.uint8)).save(path)
    return path


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_folder_edited_into_itself_twice(model, tmp_path, capsys):
    d = tmp_path / "faces"
    _crop(d / "astro.png", 0), _crop(d / "sub" / "b.jpg", 1)
    args = ["edit", str(model), str(d), *AL, "--edit", "+Bangs", "--out", str(d)]
    assert main(args) == 0
    first = _files(d)
    assert first == ["astro.png", "faces/astro.png", "faces/sub/b.jpg", "sub/b.jpg"]
    capsys.readouterr()
    # Again: the first run's outputs are not inputs, and they are not replaced without --overwrite.
    assert main(args) == 2
    assert "already exist" in capsys.readouterr().err and _files(d) == first
    assert main([*args, "--overwrite"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["photos_edited"] == 2 and summary["own_outputs_not_read"] == 2
    assert _files(d) == first  # nothing new: no faces/faces/, no astro.edited.edited.png


def test_a_heatmap_and_edited_copies_are_not_read_back(model, tmp_path, capsys):
    d = tmp_path / "faces"
    _crop(d / "a.png")
    assert (
        main(["edit", str(model), str(d / "a.png"), *AL, "--edit", "+Bangs", "--heatmap", "--out", str(d)])
        == 0
    )
    assert _files(d) == ["a.edited.png", "a.edited_diff.png", "a.png"]
    capsys.readouterr()
    assert main(["edit", str(model), str(d), *AL, "--edit", "+Bangs", "--out", str(tmp_path / "o")]) == 0
    assert [f["input"] for f in json.loads(capsys.readouterr().out)["files"]] == [str(d / "a.png")]


@pytest.mark.parametrize("blend", ["delta", "residual", "replace"])
def test_aligned_keeps_the_size_and_a_zero_edit_is_bit_identical(model, tmp_path, blend, capsys):
    src = _crop(tmp_path / "in" / "c.png")
    out = tmp_path / "o"
    assert (
        main(["edit", str(model), str(src), *AL, "--blend", blend, "--edit", "+Bangs", "--out", str(out)])
        == 0
    )
    edited = np.asarray(Image.open(out / "c.png"))
    assert edited.shape == (218, 178, 3)  # the input's size, not the model's 32 px
    assert (edited != np.asarray(Image.open(src))).any()
    for zero in (["--edit", "Bangs=0"], ["--edit", "+Bangs", "--strength", "0"]):
        o = tmp_path / f"z{len(zero)}"
        assert main(["edit", str(model), str(src), *AL, "--blend", blend, *zero, "--out", str(o)]) == 0
        assert (o / "c.png").read_bytes() == src.read_bytes()


def test_a_16_bit_grey_png_comes_back_16_bit(model, tmp_path):
    levels = (np.random.default_rng(3).integers(0, 65536, (218, 178))).astype(np.uint16)
    src = tmp_path / "g16.png"
    Image.fromarray(levels).save(src)
    assert main(["edit", str(model), str(src), *AL, "--edit", "+Bangs", "--out", str(tmp_path / "o")]) == 0
    out = Image.open(tmp_path / "o" / "g16.png")
    assert out.mode.startswith("I;16")
    arr = np.asarray(out)
    assert (arr[:15] == levels[:15]).all()  # outside the edited centre square: the very 16-bit levels
    assert (arr != levels).any() and len(np.unique(arr[20:-20] % 257)) > 1  # not 8-bit levels x 257


def test_exif_is_kept_but_the_applied_orientation(model, tmp_path):
    exif = Image.Exif()
    exif[0x010F], exif[0x8298], exif[0x0112] = "Canon", "(c) Ada", 6  # make, copyright, rotated 90
    src = tmp_path / "p.jpg"
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (178, 218, 3), dtype=np.uint8)).save(
        src, exif=exif.tobytes()
    )
    assert main(["edit", str(model), str(src), *AL, "--edit", "+Bangs", "--out", str(tmp_path / "o")]) == 0
    out = Image.open(tmp_path / "o" / "p.jpg")
    assert out.size == (178, 218)  # rotated upright by the orientation tag
    kept = dict(out.getexif())
    assert kept.get(0x010F) == "Canon" and kept.get(0x8298) == "(c) Ada" and 0x0112 not in kept


def test_a_rerun_never_overwrites_without_overwrite(model, tmp_path, capsys):
    src = _crop(tmp_path / "c.png")
    out = tmp_path / "o"
    assert main(["edit", str(model), str(src), *AL, "--edit", "+Bangs", "--out", str(out)]) == 0
    before = (out / "c.png").read_bytes()
    assert main(["edit", str(model), str(src), *AL, "--edit", "Bangs=0", "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err and (out / "c.png").read_bytes() == before
    assert (
        main(["edit", str(model), str(src), *AL, "--edit", "Bangs=0", "--out", str(out), "--overwrite"]) == 0
    )
    assert (out / "c.png").read_bytes() == src.read_bytes()


def test_an_unchanged_face_says_why(model, tmp_path, capsys):
    src = _crop(tmp_path / "c.png")
    assert (
        main(["edit", str(model), str(src), "--aligned", "--edit", "+Young", "--out", str(tmp_path / "o")])
        == 0
    )
    face = json.loads(capsys.readouterr().out)["files"][0]["faces"][0]
    p = face["source_probabilities"]["Young"]
    name = "+Young" if p > 0.5 else "-Young"  # what the face already is, by the classifier
    assert (
        main(["edit", str(model), str(src), "--aligned", "--edit", name, "--out", str(tmp_path / "o2")]) == 0
    )
    captured = capsys.readouterr()
    face = json.loads(captured.out)["files"][0]["faces"][0]
    want = f"already {'' if p > 0.5 else 'not '}Young (p = {p:.2f})"
    assert face["changed"] is False and face["unchanged_because"] == want
    assert want in captured.err
    assert (tmp_path / "o2" / "c.png").read_bytes() == src.read_bytes()


def test_skipped_files_say_why_and_a_partial_batch_exits_3(model, tmp_path, capsys):
    d = tmp_path / "d"
    _crop(d / "good.png")
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    assert main(["edit", str(model), str(d), *AL, "--edit", "+Bangs", "--out", str(tmp_path / "o")]) == 3
    skipped = json.loads(capsys.readouterr().out)["skipped"]
    assert [s["file"] for s in skipped] == [str(d / "broken.jpg")] and "broken.jpg" in skipped[0]["reason"]


def test_exit_codes_usage_bad_input(model, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["edit", str(model), "--no-such-option"])
    assert exc.value.code == 64  # malformed command line
    assert main(["edit", str(model), str(tmp_path / "missing.png"), "--edit", "+Bangs", "--out", "o"]) == 2
    help_text = subprocess.run([sys.executable, "-m", "secgan", "edit", "--help"], capture_output=True,
                               text=True).stdout  # fmt: skip
    assert "Exit status" in " ".join(help_text.split()) and "3 some inputs were skipped" in " ".join(
        help_text.split()
    )


def test_did_you_mean_and_the_comma_form(model, tmp_path, capsys):
    src = _crop(tmp_path / "c.png")
    assert main(["edit", str(model), str(src), *AL, "--edit", "+Bang", "--out", str(tmp_path / "o")]) == 2
    assert "did you mean Bangs?" in capsys.readouterr().err
    for form in ("+Bangs,-Young", "-Young,+Bangs"):
        o = tmp_path / form
        assert main(["edit", str(model), str(src), *AL, "--edit", form, "--out", str(o)]) == 0
        assert json.loads(capsys.readouterr().out)["effective_edits"] == {"Bangs": 1.0, "Young": -1.0}


def test_progress_bar_does_not_tear_log_lines(model, tmp_path):
    d = tmp_path / "d"
    for k in range(3):
        _crop(d / f"{k}.png", k)
    (d / "3.jpg").write_bytes(b"broken")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "secgan", "edit", str(model), str(d), *AL, "--edit", "+Bangs",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True, env=env)  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    warnings = [seg for line in proc.stderr.split("\n") for seg in line.split("\r") if "WARNING" in seg]
    assert warnings and all(seg.startswith("WARNING") for seg in warnings), proc.stderr


def test_web_sliders_span_the_cli_range(tmp_path):
    pytest.importorskip("gradio", reason="the web demo needs gradio (secgan[web])")
    from secgan.app.page import build_page
    from secgan.app.web import WebDemo
    from secgan.editing.editor import Editor
    from secgan.editing.edits import MAX_EDIT_VALUE, MAX_STRENGTH

    demo = WebDemo(Editor.load(make_model_dir(tmp_path / "M", "stargan", size=32)), max_upload_mb=1)
    page = build_page(demo)
    sliders = {b.elem_id: b for b in page.blocks.values() if type(b).__name__ == "Slider"}
    bangs = sliders["slider-Bangs"]
    assert (bangs.minimum, bangs.maximum) == (-MAX_EDIT_VALUE, MAX_EDIT_VALUE) == (-2.0, 2.0)
    assert sliders["strength"].maximum == MAX_STRENGTH


def test_a_reproduction_folder_lists_its_runs(tmp_path, capsys):
    repro = tmp_path / "repro"
    for run in ("baseline-s0", "secgan-s0"):
        make_model_dir(repro / "runs" / run / "export", "stargan", size=32)
    assert main(["info", str(repro)]) == 2
    err = capsys.readouterr().err
    assert "holding 2 run(s)" in err and "baseline-s0, secgan-s0" in err
    make_model_dir(repro / "model", "stargan", size=32)  # what secgan reproduce --preset custom-* writes
    assert main(["info", str(repro)]) == 0
    assert json.loads(capsys.readouterr().out)["model_dir"] == str(repro / "model")


def test_a_16_bit_colour_png_is_written_8_bit_with_a_warning(tmp_path, caplog):
    cv2 = pytest.importorskip("cv2")
    from secgan.utils.images import read_photo, write_photo

    cv2.imwrite(str(tmp_path / "c16.png"), np.full((20, 20, 3), 40000, np.uint16))
    rgb, meta = read_photo(tmp_path / "c16.png")
    assert meta.bits16_lost and rgb.dtype == np.uint8
    write_photo(rgb, tmp_path / "out.png", meta)
    assert "16-bit colour PNG" in caplog.text
