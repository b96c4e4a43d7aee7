"""`secgan synth`, `secgan synth-sheet` and `secgan data check` run in-process."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from secgan.cli import main
from secgan.data.attributes import PAPER_ATTRIBUTES


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "s"
    sheet = out.parent / "sheet.png"
    rc = main(
        [
            "synth",
            str(out),
            "--num",
            "20",
            "--seed",
            "1",
            "--workers",
            "1",
            "--no-progress",
            "--sheet",
            str(sheet),
        ]
    )
    assert rc == 0
    assert Image.open(sheet).size[0] > 8 * 178
    return out


def _run(capsys, argv):
    rc = main(argv)
    cap = capsys.readouterr()
    return rc, cap.out, cap.err


def test_data_check_json(synth_dir, capsys):
    rc, out, _ = _run(capsys, ["data", "check", str(synth_dir), "--dataset", "celeba", "--no-progress"])
    assert rc == 0
    report = json.loads(out)
    assert report["splits"] == {"train": 16, "val": 2, "test": 2} and report["images"] == 20
    assert report["attributes"] == list(PAPER_ATTRIBUTES)
    assert set(report["attribute_frequency"]["train"]) == set(PAPER_ATTRIBUTES)
    assert all(0 <= v <= 1 for v in report["attribute_frequency"]["train"].values())
    assert report["image_sizes_sampled"] == {"178x218": sum(min(n, 16) for n in (16, 2, 2))}
    masks = report["masks"]
    assert masks["found"] and masks["images_with_masks"] == 20
    assert masks["parts"]["skin"] == 20 and masks["parts"]["nose"] == 20
    assert report["ok"] is True


def test_data_check_deep_lists_unreadable(synth_dir, capsys, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(synth_dir, copy)
    bad = copy / "img_align_celeba" / "000004.jpg"
    bad.write_bytes(bad.read_bytes()[:300])
    (copy / "img_align_celeba" / "000005.jpg").write_bytes(b"")
    rc, out, _ = _run(capsys, ["data", "check", str(copy), "--dataset", "celeba", "--deep", "--no-progress",
                              "--attrs", "Male,Young"])  # fmt: skip
    report = json.loads(out)
    assert rc == 1 and report["ok"] is False
    assert report["attributes"] == ["Male", "Young"]
    assert sorted(u["file"].rsplit("/", 1)[1] for u in report["deep"]["unreadable"]) == [
        "000004.jpg",
        "000005.jpg",
    ]
    assert report["deep"]["decoded"] == 18


def test_unknown_attribute_is_one_line_exit_2(synth_dir, capsys):
    rc, out, err = _run(
        capsys, ["data", "check", str(synth_dir), "--dataset", "celeba", "--attrs", "Male,Blue_Hair"]
    )
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and "unknown attribute 'Blue_Hair'" in err and "Black_Hair" in err


def test_missing_attr_file_is_one_line_exit_2(tmp_path, capsys):
    (tmp_path / "img_align_celeba").mkdir()
    rc, _, err = _run(capsys, ["data", "check", str(tmp_path), "--dataset", "celeba"])
    assert rc == 2 and err.count("\n") == 1 and "list_attr_celeba.txt" in err


def test_synth_sheet_command(synth_dir, capsys, tmp_path):
    rc, out, _ = _run(
        capsys, ["synth-sheet", str(synth_dir), "--out", str(tmp_path / "x.png"), "--num", "4", "--cols", "2"]
    )
    assert rc == 0 and json.loads(out)["sheet"].endswith("x.png")
    w, h = Image.open(tmp_path / "x.png").size
    assert w == 2 * (178 + 4)
    # an existing PNG is replaced only with --overwrite
    again = ["synth-sheet", str(synth_dir), "--out", str(tmp_path / "x.png"), "--num", "2", "--cols", "1"]
    rc, _, err = _run(capsys, again)
    assert rc == 2 and "already exists" in err and "--overwrite" in err
    assert Image.open(tmp_path / "x.png").size == (w, h)
    rc, _, _ = _run(capsys, [*again, "--overwrite"])
    assert rc == 0 and Image.open(tmp_path / "x.png").size[0] == 178 + 4


def test_bad_synth_size(tmp_path, capsys):
    rc, _, err = _run(capsys, ["synth", str(tmp_path / "z"), "--num", "2", "--size", "big"])
    assert rc == 2 and "WIDTHxHEIGHT" in err
