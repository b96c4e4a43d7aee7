"""Hostile model folders: a ``config.json`` is as untrusted as the weights beside it.

Each case ends in one line naming ``config.json`` (or the weights file) and the field, before anything is
allocated: networks are built only on PyTorch's meta device (checked by a spy on ``build_model``) and a
safetensors header whose shapes differ is refused before its weights are read. Cases: huge widths, out of
range and mistyped constructor arguments, network names that are paths (``../``, absolute), 100k-deep
nesting, a header of another architecture, and card values out of bounds (image size, attribute count,
scales), through the library and ``secgan edit``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from bad_input_helpers import _cli, _jpeg_bytes, make_model_dir
from secgan.data.attributes import PAPER_ATTRIBUTES
from secgan.errors import WeightsError
from secgan.models.export import load_pretrained, read_card
from secgan.models.stargan import StarGANGenerator


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return make_model_dir(tmp_path_factory.mktemp("model") / "M")


def _hostile(model_dir: Path, tmp_path: Path, edit) -> Path:
    bad = tmp_path / "M"
    shutil.copytree(model_dir, bad)
    config = json.loads((bad / "config.json").read_text())
    edit(config)
    (bad / "config.json").write_text(json.dumps(config))
    return bad


HOSTILE_CARDS = {
    # case: (how config.json is edited, what the one line says)
    "huge-width": (lambda c: c["networks"]["G"]["kwargs"].update(conv_dim=4096), "parameters"),
    "huge-depth": (
        lambda c: c["networks"]["G"]["kwargs"].update(n_down=60000),
        "n_down = 60000 is out of bounds",
    ),
    "negative-size": (
        lambda c: c["networks"]["G"]["kwargs"].update(conv_dim=-8),
        "conv_dim = -8 is out of bounds",
    ),
    "wrong-type": (lambda c: c["networks"]["G"]["kwargs"].update(n_res={"a": 1}), "n_res = {'a': 1}"),
    "path-name": (
        lambda c: c["networks"].update({"../../elsewhere/G": c["networks"]["G"]}),
        "not a plain name",
    ),
    "absolute-name": (lambda c: c["networks"].update({"/tmp/G": c["networks"]["G"]}), "not a plain name"),
}


@pytest.mark.parametrize("case", list(HOSTILE_CARDS))
def test_hostile_model_config_is_refused_before_anything_is_built(
    case, model_dir, tmp_path, capsys, monkeypatch
):
    edit, says = HOSTILE_CARDS[case]
    bad = _hostile(model_dir, tmp_path, edit)
    import secgan.models.export as export

    devices, real_build = [], export.build_model

    def spy(spec):  # where each network is built: only on the meta device (shapes, no memory)
        devices.append(torch.empty(0).device.type)
        return real_build(spec)

    monkeypatch.setattr(export, "build_model", spy)
    with pytest.raises(WeightsError, match="config.json") as err:
        load_pretrained(bad)
    assert says in str(err.value) and "\n" not in str(err.value) and set(devices) <= {"meta"}
    monkeypatch.undo()
    (tmp_path / "x.jpg").write_bytes(_jpeg_bytes())
    rc, line, _ = _cli(capsys, "edit", bad, tmp_path / "x.jpg", "--aligned", "--source", "Male",
                    "--edit", "+Bangs", "--out", tmp_path / "out")  # fmt: skip
    assert rc == 2 and says in line


def test_deeply_nested_model_config_is_one_line(model_dir, tmp_path):
    bad = tmp_path / "M"
    shutil.copytree(model_dir, bad)
    (bad / "config.json").write_text('{"format": "secgan-model", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(WeightsError, match="nested too deeply"):
        load_pretrained(bad)


def test_safetensors_header_is_checked_before_the_weights_are_read(model_dir, tmp_path, monkeypatch):
    torch.manual_seed(1)
    wide = StarGANGenerator(in_channels=3, n_attrs=len(PAPER_ATTRIBUTES), conv_dim=16, n_res=1, n_down=2)
    bad = tmp_path / "M"
    shutil.copytree(model_dir, bad)
    save_file({k: v.contiguous() for k, v in wide.state_dict().items()}, str(bad / "G.safetensors"))
    monkeypatch.setattr("secgan.models.export.load_file", lambda *a, **k: pytest.fail("weights were read"))
    with pytest.raises(WeightsError, match=r"G\.safetensors: checkpoint of another architecture.*shape"):
        load_pretrained(bad)


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("image_size", 60000, "image_size = 60000 is out of bounds"),
        ("image_size", -5, "image_size = -5 is out of bounds"),
        ("attributes", ["x"] * 1000, "'attributes' must be 1..256 names"),
        ("target_scale", 1e308 * 10, "target_scale = inf is not a finite number"),
    ],
)
def test_model_card_values_out_of_bounds(field, value, says, model_dir, tmp_path, capsys):
    bad = _hostile(model_dir, tmp_path, lambda c: c.update({field: value}))
    with pytest.raises(WeightsError, match="config.json") as err:
        read_card(bad)
    assert says in str(err.value)
    (tmp_path / "x.jpg").write_bytes(_jpeg_bytes())
    rc, line, _ = _cli(capsys, "edit", bad, tmp_path / "x.jpg", "--aligned", "--source", "Male",
                    "--edit", "+Bangs", "--out", tmp_path / "out")  # fmt: skip
    assert rc == 2 and says in line
