"""The parser mask cache: round trip, alignment with ds.names, staleness errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from secgan.auxiliary.parser import FrozenParser, parser_hash
from secgan.auxiliary.parser.cache import build_mask_cache, default_cache_dir, load_mask_cache
from secgan.errors import DataError
from secgan.models.bisenet import BiSeNet
from tiny_fixtures import TinyFaces


@pytest.fixture()
def parser():
    torch.manual_seed(0)
    return FrozenParser(BiSeNet(19, base_width=4), input_size=32)


def test_default_cache_dir(tmp_path):
    assert default_cache_dir(tmp_path, "celeba", "train", 128, "abcd") == (
        tmp_path / ".secgan-cache" / "masks-celeba-train-128-abcd"
    )


def test_round_trip_matches_direct_parsing(tmp_path, parser):
    ds = TinyFaces(n=7, size=32)
    h = parser_hash(parser)
    out = default_cache_dir(tmp_path, "tiny", "train", 32, h)
    build_mask_cache(parser, ds, out, batch_size=3, dataset="tiny", split="train")
    meta = json.loads((out / "meta.json").read_text())
    assert meta == {"parser_hash": h, "size": 32, "dataset": "tiny", "split": "train", "count": 7}
    assert (out / "names.txt").read_text().splitlines() == ds.names
    masks = load_mask_cache(out, ds.names, 32, h)
    assert masks.dtype == np.uint8 and masks.shape == (7, 32, 32)
    direct = parser.labels12(torch.stack([ds[i]["image"] for i in range(7)]))
    assert np.array_equal(np.asarray(masks), direct.numpy().astype(np.uint8))
    assert masks.max() < 12


def test_stale_or_missing_cache_raises(tmp_path, parser):
    ds = TinyFaces(n=4, size=32)
    h = parser_hash(parser)
    build_mask_cache(parser, ds, tmp_path / "c", batch_size=4)
    with pytest.raises(DataError, match="stale.*parser"):
        load_mask_cache(tmp_path / "c", ds.names, 32, "0" * 16)
    with pytest.raises(DataError, match="stale.*px"):
        load_mask_cache(tmp_path / "c", ds.names, 64, h)
    with pytest.raises(DataError, match="stale.*image list"):
        load_mask_cache(tmp_path / "c", list(reversed(ds.names)), 32, h)
    with pytest.raises(DataError, match="no mask cache"):
        load_mask_cache(tmp_path / "elsewhere", ds.names, 32, h)
    # a retrained parser has another hash, so its default folder differs and the old cache is refused
    with torch.no_grad():
        parser.net.conv_out.conv_out.weight.mul_(2)
    h2 = parser_hash(parser)
    assert h2 != h
    with pytest.raises(DataError, match="stale"):
        load_mask_cache(tmp_path / "c", ds.names, 32, h2)


def test_cache_refuses_a_flipping_dataset(tmp_path, parser):
    ds = TinyFaces(n=2, size=32)
    ds.flip = True
    with pytest.raises(DataError, match="flip"):
        build_mask_cache(parser, ds, tmp_path / "c")


def test_cache_goes_stale_when_an_image_is_replaced_under_its_name(tmp_path, parser):
    ds = TinyFaces(n=4, size=32)
    ds.paths = []
    for name in ds.names:  # the files behind the items (secgan synth --overwrite rewrites them in place)
        (tmp_path / name).write_bytes(b"image " + name.encode())
        ds.paths.append(tmp_path / name)
    h = parser_hash(parser)
    out = tmp_path / "c"
    out.mkdir()
    killed = out / ".masks.npy.abcd1234.tmp"  # left by a `parser cache` killed mid-write
    killed.write_bytes(b"\0" * 1000)
    build_mask_cache(parser, ds, out, batch_size=4)
    assert not killed.exists()
    assert load_mask_cache(out, ds.names, 32, h, paths=ds.paths).shape == (4, 32, 32)
    ds.paths[2].write_bytes(b"another image, same name and a new size")
    with pytest.raises(DataError, match="stale mask cache .*images changed"):
        load_mask_cache(out, ds.names, 32, h, paths=ds.paths)
