"""CelebA-HQ, RaFD and custom loaders on fixtures in their original formats."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_fixtures import attr_values, write_attr_file, write_jpeg, write_rafd
from PIL import Image

from secgan.data.attributes import CELEBA_ATTRIBUTES, RAFD_EXPRESSIONS
from secgan.data.celebahq import split_bounds
from secgan.data.check import check_dataset
from secgan.data.custom import hash_split
from secgan.data.masks import SEGMENTS_12
from secgan.data.rafd import parse_rafd_name, split_identities
from secgan.data.registry import build_dataset
from secgan.errors import ConfigError, DataError

SEG = {n: k for k, n in enumerate(SEGMENTS_12)}


# ---------------------------------------------------------------------------- CelebA-HQ
@pytest.fixture
def hq_dir(tmp_path):
    """60 images 0.jpg..59.jpg (64x64 stand-ins for 1024x1024), masks at half size (32, like 512 for
    1024) for k = 0 and 1 (k = 1 without eyes), and the HQ-to-CelebA mapping file."""
    root = tmp_path / "hq"
    n = 60
    files = [f"{i}.jpg" for i in range(n)]
    for i, f in enumerate(files):
        write_jpeg(root / "CelebA-HQ-img" / f, (64, 64), (4 * i, 50, 50))
    write_attr_file(root / "CelebAMask-HQ-attribute-anno.txt", files, attr_values(n, seed=1))
    mdir = root / "CelebAMask-HQ-mask-anno" / "0"
    mdir.mkdir(parents=True)
    for k in (0, 1):
        skin = np.zeros((32, 32), np.uint8)
        skin[4:30, 4:28] = 255
        Image.fromarray(skin).save(mdir / f"{k:05d}_skin.png")
        hair = np.zeros((32, 32), np.uint8)
        hair[:6] = 255
        Image.fromarray(hair).save(mdir / f"{k:05d}_hair.png")
        if k == 0:
            eye = np.zeros((32, 32), np.uint8)
            eye[12:14, 8:12] = 255
            Image.fromarray(eye).save(mdir / f"{k:05d}_l_eye.png")
    lines = ["idx         orig_idx    orig_file"] + [
        f"{i:<12d}{1000 + i:<12d}{1001 + i:06d}.jpg" for i in range(n)
    ]
    (root / "CelebA-HQ-to-CelebA-mapping.txt").write_text("\n".join(lines) + "\n")
    return root


def test_celebahq_split_bounds():
    assert split_bounds(30_000) == {"train": (0, 28_000), "val": (28_000, 28_500), "test": (28_500, 30_000),
                                    "all": (0, 30_000)}  # fmt: skip
    assert split_bounds(60)["train"] == (0, 56) and split_bounds(60)["val"] == (56, 57)


def test_celebahq_loader(hq_dir):
    ds = build_dataset("celebahq", hq_dir, split="train", image_size=64, masks="auto", attrs="Male,Smiling")
    assert len(ds) == 56 and ds.names[:3] == ["0.jpg", "1.jpg", "2.jpg"]
    assert ds.meta["celeba_name"][0] == "001001.jpg"
    vals = attr_values(60, seed=1)
    np.testing.assert_array_equal(ds.labels.numpy()[:, 1], vals[:56, CELEBA_ATTRIBUTES.index("Smiling")] > 0)
    exp = np.full((64, 64), SEG["others"])
    exp[8:60, 8:56] = SEG["skin"]
    exp[24:28, 16:24] = SEG["eyes"]
    exp[:12] = SEG["hair"]
    np.testing.assert_array_equal(ds[0]["mask"].numpy(), exp)  # 32 -> 64 nearest is an exact 2x
    m1 = ds[1]["mask"].numpy()
    assert (m1 == SEG["eyes"]).sum() == 0 and (m1 == SEG["skin"]).sum() > 0
    assert len(build_dataset("celebahq", hq_dir, split="val")) == 1
    assert build_dataset("celebahq", hq_dir, split="test").names == ["57.jpg", "58.jpg", "59.jpg"]


def test_celebahq_missing_image_folder(hq_dir):
    import shutil

    shutil.rmtree(hq_dir / "CelebA-HQ-img")
    with pytest.raises(DataError, match="image folder not found: .*CelebA-HQ-img"):
        build_dataset("celebahq", hq_dir)


# ---------------------------------------------------------------------------- RaFD
@pytest.fixture
def rafd_dir(tmp_path):
    """9 models x 8 expressions x 3 gazes x all 5 cameras, small (68x102) images; one file of another name."""
    root = write_rafd(tmp_path / "rafd", 9)
    write_jpeg(root / "readme_photo.jpg", (10, 10))
    return root


def test_rafd_name_parsing_and_identity_split():
    info = parse_rafd_name("Rafd090_01_Caucasian_female_angry_frontal.jpg")
    assert info == {"camera": "090", "model": "01", "ethnicity": "Caucasian", "gender": "female",
                    "expression": "angry", "gaze": "frontal"}  # fmt: skip
    assert parse_rafd_name("something.jpg") is None
    ids = [f"{m:02d}" for m in range(1, 68)]
    train, test = split_identities(ids, "sorted")
    assert len(train) == 60 and len(test) == 7 and test[0] == "61"
    # the paper's random split: seeded, reproducible, sorted lists, 60 / 7, disjoint
    train0, test0 = split_identities(ids)
    assert (train0, test0) == split_identities(list(reversed(ids)), "random", 0)
    assert len(train0) == 60 and len(test0) == 7 and set(train0).isdisjoint(test0)
    assert test0 != test and test0 == sorted(test0, key=int)
    assert split_identities(ids, "random", 1)[1] != test0
    with pytest.raises(ConfigError, match="identity_split='alphabetical'.*random, sorted"):
        split_identities(ids, "alphabetical")


def test_rafd_loader(rafd_dir):
    train = build_dataset("rafd", rafd_dir, split="train", image_size=32)
    test = build_dataset("rafd", rafd_dir, split="test", image_size=32)
    per_model = 8 * 3 * 3  # expressions x gazes x the paper's cameras 045, 090, 135
    assert len(train) == 8 * per_model and len(test) == per_model  # 8 models train, 1 test
    assert {n[4:7] for n in train.names} == {"045", "090", "135"}
    assert {n.rsplit("_", 1)[1] for n in train.names} == {"frontal.jpg", "left.jpg", "right.jpg"}
    assert train.attributes == list(RAFD_EXPRESSIONS)
    assert set(train.meta["model"]).isdisjoint(test.meta["model"])
    info = train.split_info
    assert info["identity_split"] == "random" and info["split_seed"] == 0 and info["identities"] == 9
    assert info["test_identities"] == sorted(set(test.meta["model"]))
    assert torch.equal(train.labels.sum(1), torch.ones(len(train)))  # one-hot
    first = train[0]
    assert first["label"].argmax().item() == RAFD_EXPRESSIONS.index(first["name"].split("_")[4])
    assert len(build_dataset("rafd", rafd_dir, split="val")) == len(test)  # val = the test identities
    frontal = build_dataset("rafd", rafd_dir, split="all", cameras=["090"])
    assert len(frontal) == 9 * 8 * 3
    every = build_dataset("rafd", rafd_dir, split="all", cameras=None)
    assert len(every) == 9 * 8 * 3 * 5
    sorted_test = build_dataset("rafd", rafd_dir, split="test", identity_split="sorted")
    assert set(sorted_test.meta["model"]) == {"09"} and sorted_test.split_info["split_seed"] is None


def test_rafd_data_check_reports_the_papers_counts(tmp_path):
    # every identity, expression, gaze and all five cameras: the defaults keep the paper's 4,824 images
    root = write_rafd(tmp_path / "rafd67", 67, size=(17, 26))
    r = check_dataset(root, "rafd", progress=False)
    assert r["splits"] == {"train": 4320, "val": 504, "test": 504} and r["images"] == 4824
    assert r["split_info"]["identities"] == 67 and len(r["split_info"]["train_identities"]) == 60
    assert r["split_info"]["cameras"] == ["045", "090", "135"]


def test_rafd_head_crop_on_full_size_image(tmp_path):
    arr = np.zeros((1024, 681, 3), np.uint8)
    arr[...] = (255, 0, 0)
    arr[170:770, 40:640] = (0, 255, 0)  # the reference head box
    root = tmp_path / "rafd1"
    root.mkdir()
    Image.fromarray(arr).save(root / "Rafd090_01_Caucasian_female_happy_frontal.png")
    img = build_dataset("rafd", root, split="all", image_size=32)[0]["image"]
    torch.testing.assert_close(img.mean(dim=(1, 2)), torch.tensor([-1.0, 1.0, -1.0]), atol=0.02, rtol=0)


def test_rafd_bad_options(rafd_dir):
    with pytest.raises(ConfigError, match="8 expressions"):
        build_dataset("rafd", rafd_dir, attrs="Male")
    with pytest.raises(DataError, match="no RaFD images"):
        build_dataset("rafd", rafd_dir, cameras=["315"])


# ---------------------------------------------------------------------------- custom
def _custom(tmp_path, rows, header="file,Male,Young,Smiling"):
    root = tmp_path / "custom"
    for i in range(len(rows)):
        write_jpeg(root / "img" / f"p{i}.jpg", (40, 60), (200, 10 * i, 0))
    (root / "labels.csv").write_text(header + "\n" + "\n".join(rows) + "\n")
    return root


def test_custom_with_split_column(tmp_path):
    rows = [
        "img/p0.jpg,1,-1,1,train",
        "img/p1.jpg,-1,1,-1,train",
        "img/p2.jpg,1,1,-1,test",
        "img/p3.jpg,-1,-1,1,val",
    ]
    root = _custom(tmp_path, rows, header="file,Male,Young,Smiling,split")
    ds = build_dataset("custom", root, split="train", image_size=16)
    assert ds.attributes == ["Male", "Young", "Smiling"]  # not all of the paper's 13 -> every CSV attribute
    assert ds.names == ["img/p0.jpg", "img/p1.jpg"]
    torch.testing.assert_close(ds.labels, torch.tensor([[1.0, 0, 1], [0, 1, 0]]))
    assert ds[1]["image"].shape == (3, 16, 16)
    assert build_dataset("custom", root, split="test", attrs=["Young"]).labels.tolist() == [[1.0]]


def test_custom_hash_split_01_values(tmp_path):
    rows = [f"img/p{i}.jpg,{i % 2},1,0" for i in range(30)]
    root = _custom(tmp_path, rows)
    sizes = {s: len(build_dataset("custom", root, split=s)) for s in ("train", "val", "test")}
    assert sum(sizes.values()) == 30
    assert sizes == {s: sum(hash_split(f"img/p{i}.jpg") == s for i in range(30)) for s in sizes}
    assert build_dataset("custom", root, split="all").labels[:4, 0].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_custom_errors(tmp_path):
    root = _custom(tmp_path, ["img/p0.jpg,1,1", "img/p1.jpg,1,1,1"])
    with pytest.raises(DataError, match=r"labels.csv:2: expected 4 columns like the header, found 3"):
        build_dataset("custom", root)
    (root / "labels.csv").write_text("file,Male\nimg/p0.jpg,2\n")
    with pytest.raises(DataError, match=r"labels.csv:2: value '2' for Male is not 0/1 or -1/1"):
        build_dataset("custom", root)
    (root / "labels.csv").write_text("file,Male\nimg/p0.jpg,1\n")
    with pytest.raises(DataError, match="unknown attribute 'Young'"):
        build_dataset("custom", root, attrs="Young")
    with pytest.raises(DataError, match="label CSV not found"):
        build_dataset("custom", root, csv="other.csv")
