"""The web demo's logic without a browser: upload checks, edits, regions, the page layout."""

from __future__ import annotations

import numpy as np
import pytest
from editing_helpers import make_model_dir
from PIL import Image

from secgan.editing.editor import Editor
from secgan.errors import SecganError

pytest.importorskip("gradio", reason="the web demo needs gradio (secgan[web])")
from secgan.app.web import WebDemo, make_examples  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    model = make_model_dir(
        tmp_path_factory.mktemp("m") / "M", "stargan", size=32, parser=True, classifier=True
    )
    return WebDemo(Editor.load(model), max_upload_mb=0.05)


def _sliders(demo, **values):
    return [values.get(a, 0.0) for a in demo.editor.attributes]


def test_uploads_are_checked(demo, tmp_path):
    with pytest.raises(SecganError, match="upload a photo"):
        demo.load_upload(None)
    (tmp_path / "doc.jpg").write_bytes(b"%PDF-1.4 not an image")
    with pytest.raises(SecganError, match="doc.jpg is not a usable image") as err:
        demo.load_upload(tmp_path / "doc.jpg")
    assert str(tmp_path) not in str(err.value)  # the user sees the file name, not server paths
    big = np.random.default_rng(0).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    Image.fromarray(big).save(tmp_path / "big.png")  # ~120 kB > 0.05 MB
    with pytest.raises(SecganError, match="over the upload limit of 0.05 MB"):
        demo.load_upload(tmp_path / "big.png")


def test_run_aligned_with_and_without_classifier(demo, tmp_path):
    crop = np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(crop).save(tmp_path / "crop.png")
    with pytest.raises(SecganError, match="move at least one"):
        demo.run(tmp_path / "crop.png", True, 1.0, False, "predict", [], *_sliders(demo))
    edited, heat, masks, summary = demo.run(
        tmp_path / "crop.png", True, 1.0, False, "given", ["Male"], *_sliders(demo, Bangs=1.0, Young=-0.5)
    )
    # an aligned crop keeps its own size (40 px; the model's crop is 32 px)
    assert edited.shape == (40, 40, 3) and heat.shape == (40, 40, 3) and masks.shape == (40, 40, 3)
    assert "Bangs +1" in summary and "Young -0.5" in summary and "face 1 has: Male" in summary
    edited2, _, _, summary2 = demo.run(
        tmp_path / "crop.png", True, 1.5, True, "predict", [], *_sliders(demo, Bangs=1.0)
    )
    assert edited2.shape == (40, 40, 3) and "Bangs +1.5" in summary2 and "(predicted; " in summary2
    with pytest.raises(SecganError, match="--strength must be between 0 and 2"):
        demo.run(tmp_path / "crop.png", True, -1.0, False, "given", [], *_sliders(demo, Bangs=1.0))


def test_upload_prediction_and_examples(demo, tmp_path):
    crop = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(crop).save(tmp_path / "crop.png")
    faces, note = demo.predict(tmp_path / "crop.png", aligned=True)
    assert len(faces) == 1 and list(faces[0]) == demo.editor.attributes
    assert all(0 <= p <= 1 for p in faces[0].values()) and "aligned crop" in note.lower()
    # a model-size square without a detectable face falls back to an aligned crop
    pytest.importorskip("dlib")
    faces2, note2 = demo.predict(tmp_path / "crop.png", aligned=False)
    assert faces2 == faces and "no face detected" in note2.lower()
    # examples are recognised by content (Gradio serves copies), other files are not
    ex = make_examples(tmp_path / "ex", n=1)
    web = WebDemo(demo.editor, examples=ex)
    copy = tmp_path / "copy.png"
    copy.write_bytes(ex[0].read_bytes())
    assert web.is_example(copy) and not web.is_example(tmp_path / "crop.png")


def test_panes_are_cropped_around_the_faces(demo, tmp_path):
    skimage_data = pytest.importorskip("skimage.data")
    pytest.importorskip("dlib")
    photo = skimage_data.astronaut()
    Image.fromarray(photo).save(tmp_path / "astro.png")
    demo = WebDemo(demo.editor, max_upload_mb=2)
    edited, heat, masks, summary = demo.run(
        tmp_path / "astro.png", False, 1.0, False, "given", [], *_sliders(demo, Bangs=1.0)
    )
    assert edited.shape == photo.shape and "1 face(s)" in summary
    assert heat.shape[0] < 0.8 * photo.shape[0] and heat.shape[1] < 0.8 * photo.shape[1]
    assert masks.shape == heat.shape and heat.reshape(-1, 3).max() > 0


def test_photo_without_face_gives_a_hint(demo, tmp_path):
    pytest.importorskip("dlib")
    Image.new("RGB", (120, 100), (90, 90, 90)).save(tmp_path / "wall.png")
    with pytest.raises(SecganError, match="no face found.*Aligned crop"):
        demo.run(tmp_path / "wall.png", False, 1.0, False, "given", [], *_sliders(demo, Bangs=1.0))


def test_layout_and_examples(demo, tmp_path):
    examples = make_examples(tmp_path / "ex", n=2)
    assert [p.name for p in examples] == ["synthetic_00.png", "synthetic_01.png"]
    assert Image.open(examples[0]).size == (178, 218)  # CelebA-style aligned crops
    blocks = demo.build(examples)
    ids = {getattr(b, "elem_id", None) for b in blocks.blocks.values()}
    assert {"upload", "edit-button", "edited", "heatmap", "masks", "examples", "aligned"} <= ids
    assert {f"slider-{a}" for a in demo.editor.attributes} <= ids
