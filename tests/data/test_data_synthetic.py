"""The synthetic face dataset: labels match what is drawn, CelebA-format round trip, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from secgan.data.attributes import CELEBA_ATTRIBUTES, PAPER_ATTRIBUTES
from secgan.data.masks import NUM_SEGMENTS, PARTS_19, map_19_to_12
from secgan.data.registry import build_dataset
from secgan.data.synthetic import make_face, spec_to_labels, write_dataset
from secgan.data.synthetic.renderer import CANON_H, CANON_W
from secgan.utils.images import read_image

P = {name: k for k, name in enumerate(PARTS_19)}
N_FACES = 240


@pytest.fixture(scope="module")
def faces():
    return [make_face(11, i) for i in range(N_FACES)]


def test_renderer_outputs(faces):
    spec, img, lab = faces[0]
    assert img.shape == (CANON_H, CANON_W, 3) and img.dtype == np.uint8
    assert lab.shape == (CANON_H, CANON_W) and lab.dtype == np.uint8 and lab.max() < len(PARTS_19)


def test_all_parts_and_segments_appear(faces):
    parts = set()
    for _, _, lab in faces:
        parts |= set(np.unique(lab).tolist())
    assert parts == set(range(len(PARTS_19)))
    segs = set(np.unique(map_19_to_12(np.stack([f[2] for f in faces[:80]]))).tolist())
    assert segs == set(range(NUM_SEGMENTS))


def test_labels_match_what_is_drawn(faces):
    for i, (spec, _img, lab) in enumerate(faces):
        count = {k: int(v) for k, v in enumerate(np.bincount(lab.ravel(), minlength=len(PARTS_19)))}
        msg = f"face {i}: {spec}"
        assert (count[P["eye_g"]] > 300) == spec.eyeglasses, msg
        assert (count[P["mouth"]] > 30) == spec.mouth_open, msg
        assert (count[P["hat"]] > 300) == spec.hat, msg
        assert (count[P["ear_r"]] > 20) == spec.earrings, msg
        assert (count[P["neck_l"]] > 20) == spec.necklace, msg
        # positions relative to the brows (always drawn), so pose jitter does not matter
        by, bx = np.nonzero((lab == P["l_brow"]) | (lab == P["r_brow"]))
        brow_y, cx = int(by.mean()), int(bx.mean())
        top = lab[: brow_y - 30, cx - 25 : cx + 25]
        head = (top == P["hair"]) | (top == P["skin"])
        top_hair = float((top == P["hair"]).sum() / max(1, head.sum()))
        if spec.bald:
            assert top_hair < 0.02 and head.sum() > 500, msg
        elif not spec.hat:
            assert top_hair > 0.4, msg
        # bangs: the forehead just above the brows is hair
        forehead = lab[brow_y - 14 : brow_y - 10, cx - 10 : cx + 10]
        if not spec.hat:
            assert ((forehead == P["hair"]).mean() > 0.6) == spec.bangs, msg
        assert count[P["l_brow"]] > 40 and count[P["r_brow"]] > 40, msg
        assert count[P["l_eye"]] > 60 and count[P["r_eye"]] > 60 or spec.eyeglasses, msg


def test_bushy_brows_are_thicker(faces):
    area = {True: [], False: []}
    for spec, _, lab in faces:
        if spec.bangs or spec.eyeglasses or spec.hat:  # these may cover part of a brow
            continue
        area[spec.bushy].append(int((lab == P["l_brow"]).sum() + (lab == P["r_brow"]).sum()))
    assert min(area[True]) > max(area[False])


def test_attribute_frequencies_and_correlations(faces):
    labels = np.stack([spec_to_labels(f[0]) for f in faces]) > 0
    col = {a: labels[:, CELEBA_ATTRIBUTES.index(a)] for a in CELEBA_ATTRIBUTES}
    for a in PAPER_ATTRIBUTES:
        assert 0.02 < col[a].mean() < 0.98, a
    for a in ("Mustache", "Bald", "Goatee", "Sideburns"):
        assert not (col[a] & ~col["Male"]).any(), a  # only men have them
    assert not (~col["No_Beard"] & ~col["Male"]).any()
    hair = np.stack([col[a] for a in ("Black_Hair", "Blond_Hair", "Brown_Hair", "Gray_Hair")], 1)
    assert hair.sum(1).max() == 1  # at most one hair colour
    assert col["Bald"][~col["Young"]].mean() > col["Bald"][col["Young"]].mean()
    for a in ("Attractive", "Blurry", "Chubby", "Double_Chin", "Oval_Face"):
        assert not col[a].any(), a  # never drawn -> never labelled


def test_determinism_and_workers(tmp_path):
    a = write_dataset(tmp_path / "a", 20, seed=5, workers=1, progress=False)
    write_dataset(tmp_path / "b", 20, seed=5, workers=2, progress=False)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > 20 * 10
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert a["num"] == 20
    other = make_face(6, 0)[1]
    assert not np.array_equal(other, make_face(5, 0)[1])


def test_round_trip_through_celeba_loader(tmp_path):
    out = tmp_path / "synth"
    write_dataset(out, 24, seed=2, workers=1, progress=False)
    sizes = {s: len(build_dataset("celeba", out, split=s)) for s in ("train", "val", "test")}
    assert sizes == {"train": 19, "val": 2, "test": 3}
    ds = build_dataset("celeba", out, split="all", image_size=178, masks="gt")
    assert ds.has_masks and ds.names[0] == "000001.jpg"
    cols = [CELEBA_ATTRIBUTES.index(a) for a in PAPER_ATTRIBUTES]
    for i in (0, 7, 23):
        spec, img, lab = make_face(2, i)
        item = ds.load(i)
        torch.testing.assert_close(
            item["label"], torch.from_numpy((spec_to_labels(spec)[cols] > 0).astype(np.float32))
        )
        np.testing.assert_array_equal(item["mask"].numpy(), map_19_to_12(lab)[20:198])
        decoded = np.asarray(read_image(out / "img_align_celeba" / ds.names[i])).astype(np.int16)
        assert np.abs(decoded - img).mean() < 4  # only JPEG loss
    item = build_dataset("celeba", out, split="train", image_size=64, masks="gt")[0]
    assert item["image"].shape == (3, 64, 64) and item["mask"].shape == (64, 64)


def test_other_sizes(tmp_path):
    spec, img, lab = make_face(0, 3, 128, 128)
    assert img.shape == (128, 128, 3) and lab.shape == (128, 128)
    out = tmp_path / "s"
    write_dataset(out, 3, seed=0, size="89x109", workers=1, progress=False)
    ds = build_dataset("celeba", out, split="all", image_size=32, masks="gt")
    assert ds[2]["mask"].shape == (32, 32)
