"""`secgan edit` on real photos: the face region changes and nothing else; several faces; no face;
aligned crops; outputs (heat map, masks); clear errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from editing_helpers import make_model_dir
from PIL import Image

from secgan.cli import main as cli_main
from secgan.editing.align import alignment_matrix, crop_quad

pytest.importorskip("dlib", reason="photo editing needs the optional extra secgan[photos] (dlib-bin)")
skimage_data = pytest.importorskip("skimage.data", reason="the astronaut photo comes with scikit-image")

SIZE = 64


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return make_model_dir(tmp_path_factory.mktemp("model") / "M", "stargan", size=SIZE)


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(skimage_data.astronaut()).save(path)
    return path


def _polygon_mask(quad: np.ndarray, shape: tuple[int, int], grow: int = 0) -> np.ndarray:
    import cv2

    mask = np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(mask, np.round(quad).astype(np.int32), 1)
    if grow:
        mask = cv2.dilate(mask, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return mask.astype(bool)


def test_astronaut_face_changes_and_nothing_else(model_dir, astronaut, tmp_path, capsys):
    out = tmp_path / "out"
    rc = cli_main(["edit", str(model_dir), str(astronaut), "--edit", "+Bangs", "--edit", "-Young",
                   "--source", "Brown_Hair,Young", "--strength", "1.5", "--heatmap", "--out", str(out)])  # fmt: skip
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["photos_edited"] == 1 and summary["faces_edited"] == 1
    before = np.asarray(Image.open(astronaut))
    after = np.asarray(Image.open(out / "astronaut.png"))
    assert after.shape == before.shape  # full size
    heat = np.asarray(Image.open(out / "astronaut_diff.png"))
    assert heat.shape == before.shape

    from secgan.editing.detect import FaceDetector

    faces = FaceDetector().detect(before)
    assert len(faces) == 1
    m = alignment_matrix(faces[0].landmarks, SIZE)
    footprint = _polygon_mask(crop_quad(m, SIZE), before.shape[:2], grow=1)
    changed = np.any(after != before, axis=-1)
    # outside the (feathered) face box: every pixel identical
    assert not changed[~footprint].any()
    # inside the face box: the face changed
    x0, y0, x1, y1 = faces[0].box
    assert changed[y0:y1, x0:x1].mean() > 0.9
    assert changed.sum() < 0.35 * changed.size  # the face, not the photo


def test_several_faces_and_no_face(model_dir, astronaut, tmp_path, capsys):
    face = np.asarray(Image.open(astronaut))[20:240, 120:330]
    two = np.concatenate([face, face[:, ::-1]], axis=1)
    Image.fromarray(two).save(tmp_path / "two.jpg", quality=95)
    Image.new("RGB", (200, 160), (128, 128, 128)).save(tmp_path / "wall.png")
    rc = cli_main(["edit", str(model_dir), str(tmp_path / "two.jpg"), "--edit", "Male=0.5", "--source", "",
                   "--out", str(tmp_path / "o")])  # fmt: skip
    assert rc == 0 and json.loads(capsys.readouterr().out)["faces_edited"] == 2
    assert Image.open(tmp_path / "o" / "two.jpg").size == (two.shape[1], two.shape[0])

    rc = cli_main(["edit", str(model_dir), str(tmp_path / "wall.png"), "--edit", "+Bangs", "--source", "",
                   "--out", str(tmp_path / "o2")])  # fmt: skip
    captured = capsys.readouterr()
    assert rc == 2 and "no face found" in captured.err and "wall.png" in captured.err


def test_aligned_folder_with_masks(tmp_path, capsys):
    model = make_model_dir(tmp_path / "M", "stargan", size=32, parser=True, classifier=True)
    folder = tmp_path / "crops"
    (folder / "sub").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in ("a.png", "sub/b.jpg"):
        Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(folder / name)
    rc = cli_main(["edit", str(model), str(folder), "--aligned", "--edit", "+Eyeglasses", "--masks", "--heatmap",
                   "--out", str(tmp_path / "o")])  # fmt: skip
    assert rc == 0 and json.loads(capsys.readouterr().out)["photos_edited"] == 2
    out = tmp_path / "o" / "crops"
    assert Image.open(out / "a.png").size == (178, 218)  # aligned inputs keep their size
    assert (
        (out / "sub" / "b.jpg").is_file()
        and (out / "a_masks.png").is_file()
        and (out / "sub" / "b_diff.png").is_file()
    )


def test_bad_attribute_lists_the_valid_ones(model_dir, astronaut, tmp_path, capsys):
    rc = cli_main(
        [
            "edit",
            str(model_dir),
            str(astronaut),
            "--edit",
            "+Purple_Hair",
            "--source",
            "",
            "--out",
            str(tmp_path),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "Purple_Hair" in err and "Blond_Hair" in err and "Eyeglasses" in err
    rc = cli_main(
        [
            "edit",
            str(model_dir),
            str(astronaut),
            "--edit",
            "+Bangs",
            "--source",
            "Purple",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 2 and "valid attributes" in capsys.readouterr().err
    (tmp_path / "notes.png").write_text("not an image")
    rc = cli_main(
        [
            "edit",
            str(model_dir),
            str(tmp_path / "notes.png"),
            "--edit",
            "+Bangs",
            "--source",
            "",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert rc == 2 and "notes.png" in capsys.readouterr().err


def test_regions_limit_the_change(tmp_path, astronaut):
    import torch

    from secgan.data.masks import SEGMENTS_12
    from secgan.editing.editor import Editor
    from secgan.editing.photo import PhotoEditor

    editor = Editor.load(make_model_dir(tmp_path / "M", "stargan", size=SIZE, parser=True))
    hair, skin = SEGMENTS_12.index("hair"), SEGMENTS_12.index("skin")

    def fake_parse(images):  # hair in the top quarter of every crop, skin below
        lab = torch.full((images.shape[0], SIZE, SIZE), skin, dtype=torch.long)
        lab[:, : SIZE // 4] = hair
        return lab

    editor.parse = fake_parse
    pe = PhotoEditor(editor, regions=True)
    src = editor.labels_from_names("Young")[0]
    crop = np.asarray(Image.open(astronaut).resize((SIZE, SIZE)))
    out = pe.edit(crop, {"Blond_Hair": 1}, source=src, aligned=True)
    changed = np.any(out.image != crop, axis=-1)
    assert changed[: SIZE // 4].mean() > 0.9 and not changed[SIZE // 2 :].any()
    # a global attribute (Young) is not limited
    out = pe.edit(crop, {"Young": -1}, source=src, aligned=True)
    assert np.any(out.image != crop, axis=-1)[SIZE // 2 :].mean() > 0.9
    # photos: the change stays in the upper part of the face crop
    photo = np.asarray(Image.open(astronaut))
    res = pe.edit(photo, {"Blond_Hair": 1}, source=src)
    face = res.faces[0]
    from secgan.editing.align import apply_affine, invert_affine

    chin = apply_affine(invert_affine(face.matrix), np.array([[SIZE / 2, SIZE * 0.8]]))[0].round().astype(int)
    assert np.array_equal(res.image[chin[1] - 3 : chin[1] + 3, chin[0] - 3 : chin[0] + 3],
                          photo[chin[1] - 3 : chin[1] + 3, chin[0] - 3 : chin[0] + 3])  # fmt: skip
    assert np.any(res.image != photo)


def test_missing_photo_extra_is_a_clear_error(monkeypatch):
    import sys

    from secgan.editing import detect
    from secgan.errors import SecganError

    detect._load_models.cache_clear()
    monkeypatch.setitem(sys.modules, "dlib", None)  # as if dlib-bin were not installed
    try:
        with pytest.raises(SecganError, match=r"secgan\[photos\].*--aligned"):
            detect.FaceDetector()
    finally:
        detect._load_models.cache_clear()
    monkeypatch.delitem(sys.modules, "dlib")
    monkeypatch.setattr(detect.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SecganError, match="face_recognition_models"):
        detect.landmark_model_path()


def test_unreadable_file_among_many_is_skipped(model_dir, tmp_path, capsys):
    folder = tmp_path / "crops"
    folder.mkdir()
    Image.fromarray(np.full((218, 178, 3), 90, np.uint8)).save(folder / "good.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    rc = cli_main(["edit", str(model_dir), str(folder), "--aligned", "--edit", "+Bangs", "--source", "",
                   "--out", str(tmp_path / "o")])  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert rc == 3 and summary["photos_edited"] == 1  # a partial batch: exit status 3
    assert [p["file"].split("/")[-1] for p in summary["skipped"]] == ["broken.jpg"]
    assert "broken.jpg" in summary["skipped"][0]["reason"]
    assert (tmp_path / "o" / "crops" / "good.png").is_file()
    # Alone, the same file is a one-line error naming it.
    rc = cli_main(["edit", str(model_dir), str(folder / "broken.jpg"), "--aligned", "--edit", "+Bangs",
                   "--source", "", "--out", str(tmp_path / "o2")])  # fmt: skip
    assert rc == 2 and "broken.jpg" in capsys.readouterr().err
