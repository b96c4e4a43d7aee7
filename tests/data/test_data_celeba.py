"""The CelebA loader on a fixture in the original format (see conftest.celeba_dir)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_fixtures import attr_values

from secgan.data.attributes import CELEBA_ATTRIBUTES, PAPER_ATTRIBUTES
from secgan.data.celeba import parse_attribute_file, split_rows
from secgan.data.masks import SEGMENTS_12
from secgan.data.registry import build_dataset
from secgan.errors import ConfigError, DataError


def expected_mask_k0() -> np.ndarray:
    """12-segment map of fixture image 0 after the 178 centre crop (rows 20:198)."""
    seg = {n: k for k, n in enumerate(SEGMENTS_12)}
    m = np.full((218, 178), seg["others"], np.int64)
    m[40:200, 20:160] = seg["skin"]
    m[100:120, 40:140] = seg["eyeglasses"]
    m[:60] = seg["hair"]  # hair comes after eye_g and skin in the 19-label order
    return m[20:198]


def test_parse_attribute_file_variable_whitespace(celeba_dir):
    files, names, values = parse_attribute_file(celeba_dir / "list_attr_celeba.txt")
    assert files[0] == "000001.jpg" and files[-1] == "000012.jpg"
    assert names == list(CELEBA_ATTRIBUTES)
    assert values.shape == (12, 40)
    np.testing.assert_array_equal(values, attr_values(12))


def test_splits_from_partition_file(celeba_dir):
    sizes = {s: len(build_dataset("celeba", celeba_dir, split=s)) for s in ("train", "val", "test", "all")}
    assert sizes == {"train": 8, "val": 2, "test": 2, "all": 12}
    test = build_dataset("celeba", celeba_dir, split="test")
    assert test.names == ["000011.jpg", "000012.jpg"]


def test_paper_split_rows():
    files = [f"{i + 1:06d}.jpg" for i in range(202_599)]
    train = split_rows(202_599, "train", "auto", files, None)
    val = split_rows(202_599, "val", "paper", files, None)
    test = split_rows(202_599, "test", "paper", files, None)
    assert (len(train), len(val), len(test)) == (182_000, 637, 19_962)
    assert val[0] == 182_000 and test[0] == 182_637


def test_labels_and_default_attributes(celeba_dir):
    ds = build_dataset("celeba", celeba_dir, split="all", image_size=32)
    assert ds.attributes == list(PAPER_ATTRIBUTES)
    vals = attr_values(12)
    cols = [CELEBA_ATTRIBUTES.index(a) for a in PAPER_ATTRIBUTES]
    torch.testing.assert_close(ds.labels, torch.from_numpy((vals[:, cols] > 0).astype(np.float32)))
    item = ds[3]
    assert item["image"].shape == (3, 32, 32) and item["image"].dtype == torch.float32
    assert item["image"].min() >= -1 and item["image"].max() <= 1
    torch.testing.assert_close(item["label"], ds.labels[3])
    assert item["index"] == 3 and item["name"] == "000004.jpg"
    assert "mask" not in item and not ds.has_masks


def test_attribute_selection_by_name(celeba_dir):
    ds = build_dataset("celeba", celeba_dir, split="all", attrs="Male,Young")
    assert ds.attributes == ["Male", "Young"]
    vals = attr_values(12)
    np.testing.assert_array_equal(ds.labels.numpy()[:, 0], vals[:, CELEBA_ATTRIBUTES.index("Male")] > 0)


def test_image_colour_and_crop(celeba_dir):
    ds = build_dataset("celeba", celeba_dir, split="all", image_size=16)
    img = ds[5]["image"]
    expected = torch.tensor([50, 100, 200]) / 127.5 - 1  # fixture colour of image 5
    torch.testing.assert_close(img.mean(dim=(1, 2)), expected, atol=0.05, rtol=0)


def test_gt_masks_merge_crop_and_flip(celeba_dir):
    ds = build_dataset("celeba", celeba_dir, split="all", image_size=178, masks="gt")
    assert ds.has_masks
    item = ds.load(0)
    assert item["mask"].dtype == torch.long and item["mask"].shape == (178, 178)
    np.testing.assert_array_equal(item["mask"].numpy(), expected_mask_k0())
    flipped = ds.load(0, flip=True)
    torch.testing.assert_close(flipped["mask"], item["mask"].flip(-1))
    torch.testing.assert_close(flipped["image"], item["image"].flip(-1))
    # image 1: masks at half resolution are resized to the image size; no eye_g file -> no eyeglasses
    m1 = ds.load(1)["mask"].numpy()
    assert (m1 == SEGMENTS_12.index("eyeglasses")).sum() == 0
    assert (m1 == SEGMENTS_12.index("skin")).mean() > 0.5
    # image 2 has no part files at all: everything is "others"
    assert (ds.load(2)["mask"] == SEGMENTS_12.index("others")).all()


def test_masks_resized_nearest(celeba_dir):
    ds = build_dataset("celeba", celeba_dir, split="all", image_size=64, masks="auto")
    m = ds[0]["mask"]
    assert m.shape == (64, 64)
    assert set(m.unique().tolist()) <= {
        SEGMENTS_12.index(s) for s in ("skin", "eyeglasses", "hair", "others")
    }


def test_random_flip_keeps_image_and_mask_together(celeba_dir):
    ds = build_dataset("celeba", celeba_dir, split="all", image_size=178, masks="gt", flip=True)
    ref = ds.load(0)
    torch.manual_seed(0)
    seen = set()
    for _ in range(12):
        item = ds[0]
        flipped = torch.equal(item["mask"], ref["mask"].flip(-1))
        assert flipped or torch.equal(item["mask"], ref["mask"])
        torch.testing.assert_close(item["image"], ref["image"].flip(-1) if flipped else ref["image"])
        seen.add(flipped)
    assert seen == {True, False}


def test_masks_auto_without_folder_and_gt_error(celeba_dir):
    import shutil

    shutil.rmtree(celeba_dir / "CelebAMask-HQ-mask-anno")
    assert not build_dataset("celeba", celeba_dir, masks="auto").has_masks
    with pytest.raises(DataError, match="mask folder"):
        build_dataset("celeba", celeba_dir, masks="gt")


def test_mask_array_and_max_items(celeba_dir):
    arr = np.random.default_rng(0).integers(0, 12, (4, 16, 16)).astype(np.uint8)
    ds = build_dataset("celeba", celeba_dir, split="train", image_size=16, mask_array=arr, max_items=4)
    assert len(ds) == 4 and ds.names == [f"{i + 1:06d}.jpg" for i in range(4)]
    np.testing.assert_array_equal(ds[2]["mask"].numpy(), arr[2])
    with pytest.raises(DataError, match="mask cache has shape"):
        build_dataset("celeba", celeba_dir, split="train", image_size=16, mask_array=arr)


# ---------------------------------------------------------------------------- bad data
def test_missing_attribute_file(celeba_dir):
    (celeba_dir / "list_attr_celeba.txt").unlink()
    with pytest.raises(DataError, match="list_attr_celeba.txt"):
        build_dataset("celeba", celeba_dir)


def test_wrong_column_count_names_file_and_line(celeba_dir):
    path = celeba_dir / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[5] = lines[5].rsplit(" ", 1)[0]  # drop the last value of the 4th row (line 6)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        DataError, match=r"list_attr_celeba.txt:6: expected a file name and 40 values, found 40"
    ):
        build_dataset("celeba", celeba_dir)


def test_non_pm1_value(celeba_dir):
    path = celeba_dir / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    fields = lines[3].split()
    fields[5] = "0"
    lines[3] = " ".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r":4: value '0' for Bald is not 1 or -1"):
        build_dataset("celeba", celeba_dir)


def test_header_count_mismatch(celeba_dir):
    path = celeba_dir / "list_attr_celeba.txt"
    lines = path.read_text().splitlines()
    lines[0] = "13"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="line 1 says 13 images but the file has 12 rows"):
        build_dataset("celeba", celeba_dir)


def test_unknown_attribute_lists_valid_ones(celeba_dir):
    with pytest.raises(DataError, match="unknown attribute 'Blue_Hair'.*Black_Hair") as err:
        build_dataset("celeba", celeba_dir, attrs=["Male", "Blue_Hair"])
    assert isinstance(err.value, ConfigError)  # also a configuration error
    assert "\n" not in str(err.value)


def test_missing_image_raises_or_skips(celeba_dir, caplog):
    (celeba_dir / "img_align_celeba" / "000002.jpg").unlink()
    ds = build_dataset("celeba", celeba_dir, split="all", image_size=8)
    with pytest.raises(DataError, match="000002.jpg"):
        ds[1]
    skip = build_dataset("celeba", celeba_dir, split="all", image_size=8, on_error="skip")
    item = skip[1]
    assert item["name"] == "000003.jpg" and skip.skipped == 1
    assert "skipping unreadable image" in caplog.text


def test_unknown_split_and_dataset(celeba_dir):
    with pytest.raises(ConfigError, match="unknown split"):
        build_dataset("celeba", celeba_dir, split="dev")
    with pytest.raises(ConfigError, match="valid datasets: celeba, celebahq, rafd, custom"):
        build_dataset("ffhq", celeba_dir)
    with pytest.raises(ConfigError, match="split scheme"):
        build_dataset("celeba", celeba_dir, split_scheme="random")
