"""Counterfactual ground truth of the synthetic set: an edit changes only what the edited attribute draws,
follows the shared conflict rules, and is stored and loaded at the dataset's preprocessing."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from secgan.data.attributes import CELEBA_ATTRIBUTES, PAPER_ATTRIBUTES, celeba_edit_targets
from secgan.data.celeba import parse_attribute_file
from secgan.data.counterfactuals import CF_DIR, cf_files, has_counterfactuals, load_counterfactual
from secgan.data.masks import SEGMENTS_12, map_19_to_12
from secgan.data.registry import build_dataset
from secgan.data.synthetic import make_face, write_dataset
from secgan.data.synthetic.counterfactual import paper_labels, render_counterfactuals
from secgan.data.synthetic.nuisance import draw_nuisance
from secgan.utils.images import read_image

S = {name: k for k, name in enumerate(SEGMENTS_12)}
COLOUR = ("Black_Hair", "Blond_Hair", "Brown_Hair", "Pale_Skin")
# shape edits: every pixel whose segment changes shows one of these segments before or after the edit
OWNS = {
    "Bangs": ("hair",),
    "Bald": ("hair",),
    "Eyeglasses": ("eyeglasses",),
    "Mouth_Slightly_Open": ("mouth", "lips"),
    "Bushy_Eyebrows": ("eyebrows",),
}
# the largest share of the image an edit may change (a nuisance that moved with the attribute would
# change nearly every pixel)
MAX_SHARE = {"Bangs": 0.08, "Eyeglasses": 0.08, "Mouth_Slightly_Open": 0.04, "Bushy_Eyebrows": 0.04,
             "Mustache": 0.04, "No_Beard": 0.12}  # fmt: skip
N_FACES = 30


@pytest.fixture(scope="module")
def rendered():
    out = []
    for i in range(N_FACES):
        face = make_face(4, i)
        out.append((face, {cf.attribute: cf for cf in render_counterfactuals(4, i, 178, 218, face=face)}))
    return out


def test_nuisances_do_not_depend_on_attributes():
    a, b = draw_nuisance(3, 5, 64, 80), draw_nuisance(3, 5, 64, 80)
    assert np.array_equal(a.white, b.white) and a.jitter == b.jitter and a.angle == b.angle
    assert draw_nuisance(3, 6, 64, 80).angle != a.angle


def test_targets_follow_the_shared_rules(rendered):
    for (spec, _, _), cfs in rendered:
        y = torch.from_numpy(paper_labels(spec))[None]
        for k, a in enumerate(PAPER_ATTRIBUTES):
            want = celeba_edit_targets(y, k, PAPER_ATTRIBUTES)[0].numpy()
            np.testing.assert_array_equal(cfs[a].targets, want)
            np.testing.assert_array_equal(paper_labels(cfs[a].spec), want)
            assert paper_labels(cfs[a].spec)[k] != paper_labels(spec)[k], a


def test_colour_edits_keep_the_mask(rendered):
    for (_, _, lab), cfs in rendered:
        for a in COLOUR:
            assert np.array_equal(cfs[a].labels, lab), a
            assert cfs[a].changed.sum() > 500, a  # the colour did change


def test_shape_edits_change_only_their_parts(rendered):
    seen = dict.fromkeys(OWNS, 0)
    for (spec, _, lab), cfs in rendered:
        src = map_19_to_12(lab)
        for a, owned in OWNS.items():
            if a == "Bald" and spec.hat:  # Bald takes the hat off (a hat is "others")
                owned = (*owned, "others")
            dst = map_19_to_12(cfs[a].labels)
            diff = src != dst
            ok = np.zeros_like(diff)
            for name in owned:
                ok |= (src == S[name]) | (dst == S[name])
            assert not (diff & ~ok).any(), f"{a} changed segments it does not own"
            assert (cfs[a].changed >= diff).all()  # the changed region covers every changed part id
            seen[a] += int(diff.any())
        for a in ("Mustache", "No_Beard"):  # facial hair is painted on skin: part ids stay
            assert np.array_equal(cfs[a].labels, lab), a
            skin = ((src == S["skin"]) | (src == S["eyeglasses"])).astype(np.uint8)  # lenses are see-through
            near = cv2.dilate(skin, np.ones((7, 7), np.uint8)) > 0  # the camera blur spreads ~3 px
            assert not (cfs[a].changed & ~near).any(), f"{a} changed pixels away from the skin"
        for a, share in MAX_SHARE.items():
            if (cfs[a].targets != paper_labels(spec)).sum() > 1:  # a conflict rule changed more
                continue
            assert cfs[a].changed.mean() < share, (a, cfs[a].changed.mean())
    assert all(v == N_FACES for v in seen.values()), seen


def test_outside_the_changed_region_the_faces_are_equal(rendered):
    for (_, img, _), cfs in rendered[:8]:
        for cf in cfs.values():
            assert np.array_equal(cf.image[~cf.changed], img[~cf.changed])
            assert cf.changed.any()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf") / "synth"
    write_dataset(out, 30, seed=4, workers=1, progress=False)
    return out


def test_stored_counterfactuals_match_jpeg_tolerance(dataset):
    assert has_counterfactuals(dataset)
    files, names, values = parse_attribute_file(dataset / "list_attr_celeba.txt")
    cols = [CELEBA_ATTRIBUTES.index(a) for a in PAPER_ATTRIBUTES]
    for i in (27, 29):  # test split: 27..29
        name = files[i]
        src = np.asarray(read_image(dataset / "img_align_celeba" / name)).astype(np.int16)
        y = torch.from_numpy((values[i, cols] > 0).astype(np.float32))[None]
        for k, a in enumerate(PAPER_ATTRIBUTES):
            img_p, _, changed_p = cf_files(dataset, a, name)
            cf = np.asarray(read_image(img_p)).astype(np.int16)
            changed = np.asarray(read_image(changed_p).convert("L")) > 0
            d = np.abs(cf - src)
            # JPEG codes 16x16 blocks (4:2:0): blocks without a changed pixel decode alike
            dist = cv2.distanceTransform((~changed).astype(np.uint8), cv2.DIST_C, 3)
            assert d[~changed].mean() < 1.5 and d[dist > 16].max() == 0, (a, d[~changed].mean())
            cf_files_, cf_names, cf_values = parse_attribute_file(
                dataset / CF_DIR / a / "list_attr_celeba.txt"
            )
            row = cf_values[cf_files_.index(name), cols] > 0
            want = celeba_edit_targets(y, k, PAPER_ATTRIBUTES)[0].numpy() > 0.5
            np.testing.assert_array_equal(row, want)


def test_loader_api(dataset, tmp_path):
    ds = build_dataset("celeba", dataset, split="test", image_size=64, masks="gt")
    assert len(ds) == 3
    for j in range(len(ds)):
        item = ds.load(j)
        got = load_counterfactual(dataset, item["name"], "Blond_Hair", 64)
        assert got is not None
        image, mask, changed = got
        assert image.shape == (3, 64, 64) and image.dtype == torch.float32
        assert -1 <= image.min() and image.max() <= 1
        assert mask.shape == (64, 64) and mask.dtype == torch.long
        assert changed.shape == (64, 64) and changed.dtype == torch.bool and changed.any()
        torch.testing.assert_close(mask, item["mask"])  # a colour edit keeps the mask
        assert (image - item["image"]).abs()[:, ~changed].mean() < 0.02
        _, mask_g, changed_g = load_counterfactual(dataset, item["name"], "Eyeglasses", 64)
        assert (mask_g != item["mask"]).any() and changed_g[mask_g != item["mask"]].all()
    train_name = build_dataset("celeba", dataset, split="train").names[0]
    assert load_counterfactual(dataset, train_name, "Bald", 64) is not None  # every split by default
    assert load_counterfactual(dataset, ds.names[0], "Smiling", 64) is None
    bare = tmp_path / "bare"
    write_dataset(bare, 10, seed=4, workers=1, progress=False, counterfactuals=False)
    assert not has_counterfactuals(bare) and not (bare / CF_DIR).exists()
    assert load_counterfactual(bare, "000010.jpg", "Bald", 64) is None


def test_counterfactuals_follow_a_changed_rule(monkeypatch):
    """With AttGAN's Mustache / No_Beard rule added to the shared rules, the renderer follows it."""
    import secgan.data.attributes as attrs

    base = attrs.conflicting_attributes

    def with_beard_rule(name, attributes):
        extra = {"Mustache": ["No_Beard"], "No_Beard": ["Mustache"]}.get(name, [])
        return base(name, attributes) + [a for a in extra if a in attributes]

    monkeypatch.setattr(attrs, "conflicting_attributes", with_beard_rule)
    grown = shaved = 0
    for i in range(40):
        spec, img, lab = make_face(4, i)
        cfs = {cf.attribute: cf for cf in render_counterfactuals(4, i, 64, 80, ["Mustache", "No_Beard"])}
        if not spec.mustache:  # Mustache on -> No_Beard off: a beard grows too
            assert cfs["Mustache"].spec.mustache and cfs["Mustache"].spec.beard != "none"
            grown += spec.beard == "none"
        if spec.beard != "none":  # No_Beard on -> Mustache off
            assert cfs["No_Beard"].spec.beard == "none" and not cfs["No_Beard"].spec.mustache
            shaved += spec.mustache
    assert grown > 5 and shaved > 0
