"""Importers: state dicts with exactly the reference projects' key layouts (official StarGAN, PyTorch
AttGAN) -> our model folders, computing the same function as the original layout.

The reference modules below are re-implemented here from the architecture description (paper-notes §4, §9) at
tiny widths; only their module nesting (hence their state-dict keys) matters for the importer.
"""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from secgan.cli import main as cli_main
from secgan.data.attributes import PAPER_ATTRIBUTES, STARGAN_PUBLIC_ATTRIBUTES
from secgan.editing.editor import Editor
from secgan.editing.importers import import_attgan, import_stargan
from secgan.errors import WeightsError


# ------------------------------------------------------------------------------ reference: StarGAN
class RefResidualBlock(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(dim, affine=True, track_running_stats=True),
            nn.ReLU(inplace=True),
            nn.Conv2d(dim, dim, 3, 1, 1, bias=False),
            nn.InstanceNorm2d(dim, affine=True, track_running_stats=True),
        )

    def forward(self, x):
        return x + self.main(x)


class RefStarGANGenerator(nn.Module):
    """The official layout: one ``main`` Sequential, 2 down, ``repeat_num`` residual blocks, 2 up."""

    def __init__(self, conv_dim: int = 64, c_dim: int = 5, repeat_num: int = 6) -> None:
        super().__init__()

        def norm(ch):
            return nn.InstanceNorm2d(ch, affine=True, track_running_stats=True)

        layers = [nn.Conv2d(3 + c_dim, conv_dim, 7, 1, 3, bias=False), norm(conv_dim), nn.ReLU(inplace=True)]
        d = conv_dim
        for _ in range(2):
            layers += [nn.Conv2d(d, d * 2, 4, 2, 1, bias=False), norm(d * 2), nn.ReLU(inplace=True)]
            d *= 2
        layers += [RefResidualBlock(d) for _ in range(repeat_num)]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(d, d // 2, 4, 2, 1, bias=False),
                norm(d // 2),
                nn.ReLU(inplace=True),
            ]
            d //= 2
        layers += [nn.Conv2d(d, 3, 7, 1, 3, bias=False), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, x, c):
        c = c.view(c.size(0), c.size(1), 1, 1).repeat(1, 1, x.size(2), x.size(3))
        return self.main(torch.cat([x, c], dim=1))


# ------------------------------------------------------------------------------- reference: AttGAN
class RefBlock(nn.Module):
    def __init__(self, *mods: nn.Module) -> None:
        super().__init__()
        self.layers = nn.Sequential(*mods)

    def forward(self, x):
        return self.layers(x)


class RefAttGANGenerator(nn.Module):
    """The PyTorch AttGAN layout: ``enc_layers`` / ``dec_layers`` ModuleLists of blocks holding
    ``layers = Sequential(conv, [BN], [act])``; convs carry a bias only without a norm."""

    def __init__(
        self, enc_dim=64, dec_dim=64, n_layers=5, n_attrs=13, shortcut_layers=1, inject_layers=1, img_size=128
    ):
        super().__init__()
        max_dim = 1024
        self.shortcut_layers = min(shortcut_layers, n_layers - 1)
        self.inject_layers = min(inject_layers, n_layers - 1)
        self.f_size = img_size // 2**n_layers
        self.enc_layers = nn.ModuleList()
        n_in = 3
        for i in range(n_layers):
            n_out = min(enc_dim * 2**i, max_dim)
            conv = nn.Conv2d(n_in, n_out, 4, 2, 1, bias=False)
            self.enc_layers.append(RefBlock(conv, nn.BatchNorm2d(n_out), nn.LeakyReLU()))
            n_in = n_out
        self.dec_layers = nn.ModuleList()
        n_in = n_in + n_attrs
        for i in range(n_layers):
            if i < n_layers - 1:
                n_out = min(dec_dim * 2 ** (n_layers - i - 1), max_dim)
                conv = nn.ConvTranspose2d(n_in, n_out, 4, 2, 1, bias=False)
                self.dec_layers.append(RefBlock(conv, nn.BatchNorm2d(n_out), nn.ReLU()))
                n_in = n_out
                n_in = n_in + n_in // 2 if self.shortcut_layers > i else n_in
                n_in = n_in + n_attrs if self.inject_layers > i else n_in
            else:
                self.dec_layers.append(RefBlock(nn.ConvTranspose2d(n_in, 3, 4, 2, 1, bias=True), nn.Tanh()))

    def forward(self, x, a):
        zs, z = [], x
        for layer in self.enc_layers:
            z = layer(z)
            zs.append(z)
        tile = a.view(a.size(0), -1, 1, 1).repeat(1, 1, self.f_size, self.f_size)
        z = torch.cat([zs[-1], tile], dim=1)
        for i, layer in enumerate(self.dec_layers):
            z = layer(z)
            if self.shortcut_layers > i:
                z = torch.cat([z, zs[len(self.dec_layers) - 2 - i]], dim=1)
            if self.inject_layers > i:
                s = self.f_size * 2 ** (i + 1)
                z = torch.cat([z, a.view(a.size(0), -1, 1, 1).repeat(1, 1, s, s)], dim=1)
        return z


def _randomise(net: nn.Module, seed: int = 0) -> nn.Module:
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in net.state_dict().items():
            if name.endswith("num_batches_tracked"):
                t.fill_(7)
            elif name.endswith("running_var"):
                t.copy_(0.5 + torch.rand(t.shape, generator=g))
            elif t.is_floating_point():
                t.copy_(
                    0.3 * torch.randn(t.shape, generator=g)
                    + (1.0 if name.endswith(".weight") and t.dim() == 1 else 0.0)
                )
    return net


def _images(n=2, size=32, seed=3):
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# ------------------------------------------------------------------------------------------- StarGAN
def test_stargan_reference_keys_are_the_official_layout():
    keys = RefStarGANGenerator(conv_dim=4).state_dict().keys()
    tops = sorted({int(k.split(".")[1]) for k in keys})
    assert tops == [0, 1, 3, 4, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 21]
    assert (
        "main.9.main.0.weight" in keys and "main.14.main.4.running_var" in keys and "main.21.weight" in keys
    )


@pytest.mark.parametrize("drop_counters", [False, True])
def test_import_stargan_computes_the_same_function(tmp_path, drop_counters):
    ref = _randomise(RefStarGANGenerator(conv_dim=4, c_dim=5))
    state = ref.state_dict()
    if drop_counters:  # checkpoints of old PyTorch versions have no num_batches_tracked
        state = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    ckpt = tmp_path / "200000-G.ckpt"
    torch.save(state, ckpt)
    out = import_stargan(ckpt, tmp_path / "M", attributes=list(STARGAN_PUBLIC_ATTRIBUTES), image_size=32)
    config = json.loads((out / "config.json").read_text())
    assert config["conditioning"] == "target01" and config["attributes"] == list(STARGAN_PUBLIC_ATTRIBUTES)
    assert (
        config["networks"]["G"]["kwargs"]["conv_dim"] == 4 and config["networks"]["G"]["kwargs"]["n_res"] == 6
    )

    editor = Editor.load(out)
    x = _images()
    y_src = torch.tensor([[1.0, 0, 0, 1, 1], [0, 0, 1, 0, 0]])
    edited = editor.edit(x, {"Blond_Hair": 1, "Young": -1}, source=y_src)
    target = torch.tensor([[0.0, 1, 0, 1, 0], [0, 1, 0, 0, 0]])  # hair-colour rule applied
    ref.train()  # the official code never calls eval()
    with torch.no_grad():
        expected = ref(x, target)
    assert torch.allclose(edited, expected, atol=1e-5)


def test_stargan_wrong_architecture_names_file_and_key(tmp_path):
    ref = RefStarGANGenerator(conv_dim=4, c_dim=5)
    state = ref.state_dict()
    bad = dict(state)
    bad["main.3.weight"] = torch.zeros(8, 4, 3, 3)
    torch.save(bad, tmp_path / "bad.ckpt")
    with pytest.raises(WeightsError, match=r"bad\.ckpt.*main\.3\.weight"):
        import_stargan(tmp_path / "bad.ckpt", tmp_path / "M")
    torch.save({**state, "main.22.weight": torch.zeros(1)}, tmp_path / "extra.ckpt")
    with pytest.raises(WeightsError, match=r"extra\.ckpt.*main\.22\.weight"):
        import_stargan(tmp_path / "extra.ckpt", tmp_path / "M")
    torch.save(state, tmp_path / "five.ckpt")
    with pytest.raises(WeightsError, match="5 attributes.*--attrs lists 13"):
        import_stargan(tmp_path / "five.ckpt", tmp_path / "M", attributes=list(PAPER_ATTRIBUTES))
    torch.save({"G": RefAttGANGenerator(4, 4, 5, 13).state_dict()}, tmp_path / "weights.1.pth")
    with pytest.raises(WeightsError, match=r"weights\.1\.pth.*main\.0\.weight"):
        import_stargan(tmp_path / "weights.1.pth", tmp_path / "M")


# -------------------------------------------------------------------------------------------- AttGAN
@pytest.mark.parametrize("shortcut,inject,prefix", [(1, 1, ""), (2, 0, "module.")])
def test_import_attgan_computes_the_same_function(tmp_path, shortcut, inject, prefix):
    ref = _randomise(RefAttGANGenerator(4, 4, 5, 13, shortcut, inject, img_size=32), seed=1)
    state = {prefix + k: v for k, v in ref.state_dict().items()}
    ckpt = tmp_path / "weights.199.pth"
    torch.save({"G": state, "optim_G": {"state": {}, "param_groups": []}}, ckpt)
    out = import_attgan(ckpt, tmp_path / "M", image_size=32)
    kw = json.loads((out / "config.json").read_text())["networks"]["G"]["kwargs"]
    assert (kw["shortcut_layers"], kw["inject_layers"], kw["enc_dim"], kw["n_layers"]) == (
        shortcut,
        inject,
        4,
        5,
    )

    editor = Editor.load(out)
    A = list(PAPER_ATTRIBUTES)
    x = _images(2, 32)
    y_src = torch.zeros(2, 13)
    y_src[:, A.index("Black_Hair")] = 1
    y_src[1, A.index("Male")] = 1
    edited = editor.edit(x, {"Blond_Hair": 1}, source=y_src, intensity=1.0)
    # AttGAN-PyTorch test.py: att_b_ = (att_b * 2 - 1) * thres_int; the edited one * test_int / thres_int
    att_b = y_src.clone()
    att_b[:, A.index("Blond_Hair")] = 1
    att_b[:, A.index("Black_Hair")] = 0
    att_b_ = (att_b * 2 - 1) * 0.5
    att_b_[:, A.index("Blond_Hair")] = att_b_[:, A.index("Blond_Hair")] * 1.0 / 0.5
    ref.eval()
    with torch.no_grad():
        expected = ref(x, att_b_)
    assert torch.allclose(edited, expected, atol=1e-5)


def test_attgan_wrong_architecture(tmp_path):
    torch.save(RefStarGANGenerator(conv_dim=4).state_dict(), tmp_path / "G.ckpt")
    with pytest.raises(WeightsError, match=r"G\.ckpt.*enc_layers\.0\.layers\.0\.weight"):
        import_attgan(tmp_path / "G.ckpt", tmp_path / "M")
    state = RefAttGANGenerator(4, 4, 5, 13, 1, 1, 32).state_dict()
    state["dec_layers.4.layers.0.bias"] = torch.zeros(5)
    torch.save({"G": state}, tmp_path / "weights.3.pth")
    with pytest.raises(WeightsError, match=r"weights\.3\.pth.*dec_layers\.4\.layers\.0\.bias.*shape"):
        import_attgan(tmp_path / "weights.3.pth", tmp_path / "M")


def test_import_cli(tmp_path, capsys):
    ref = RefStarGANGenerator(conv_dim=4, c_dim=5)
    torch.save(ref.state_dict(), tmp_path / "G.ckpt")
    rc = cli_main(["import", "stargan", str(tmp_path / "G.ckpt"), "--attrs", "Black_Hair,Blond_Hair,Brown_Hair,Male,Young",
                   "--image-size", "32", "--out", str(tmp_path / "M")])  # fmt: skip
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert result["conditioning"] == "target01" and result["image_size"] == 32
    # a second import into the same model folder is refused without --overwrite; the folder is untouched
    before = {p.name: p.read_bytes() for p in (tmp_path / "M").iterdir() if p.is_file()}
    again = [
        "import",
        "stargan",
        str(tmp_path / "G.ckpt"),
        "--image-size",
        "64",
        "--out",
        str(tmp_path / "M"),
    ]
    assert cli_main(again) == 2
    err = capsys.readouterr().err
    assert "already exists" in err and "--overwrite" in err and str(tmp_path / "M") in err
    assert {p.name: p.read_bytes() for p in (tmp_path / "M").iterdir() if p.is_file()} == before
    assert cli_main([*again, "--overwrite"]) == 0
    assert json.loads(capsys.readouterr().out)["image_size"] == 64
    rc = cli_main(
        [
            "import",
            "stargan",
            str(tmp_path / "G.ckpt"),
            "--attrs",
            "Black_Hair,Purple_Hair",
            "--out",
            str(tmp_path / "N"),
        ]
    )
    assert rc == 2 and "Purple_Hair" in capsys.readouterr().err
    # an import has no classifier: editing without --source says what to do
    (tmp_path / "img").mkdir()
    from PIL import Image

    Image.new("RGB", (32, 32), (120, 90, 60)).save(tmp_path / "img" / "a.png")
    rc = cli_main(
        [
            "edit",
            str(tmp_path / "M"),
            str(tmp_path / "img"),
            "--aligned",
            "--edit",
            "-Male",
            "--out",
            str(tmp_path / "o"),
        ]
    )
    err = capsys.readouterr().err
    assert rc == 2 and "--source" in err and "--classifier" in err


def test_info_on_an_import_and_on_an_export(tmp_path, capsys):
    from editing_helpers import make_model_dir

    ref = RefStarGANGenerator(conv_dim=4, c_dim=5)
    torch.save(ref.state_dict(), tmp_path / "G.ckpt")
    assert cli_main(["import", "stargan", str(tmp_path / "G.ckpt"), "--image-size", "32", "--out",
                     str(tmp_path / "M")]) == 0  # fmt: skip
    capsys.readouterr()
    assert cli_main(["info", str(tmp_path / "M")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["attributes"] == list(STARGAN_PUBLIC_ATTRIBUTES) and info["image_size"] == 32
    assert info["conditioning"] == "target01" and info["backbone"] == "stargan"
    n_params = sum(p.numel() for p in ref.parameters())
    assert info["networks"]["G"]["parameters"] >= n_params  # + InstanceNorm running buffers
    assert info["training"]["imported_from"]["file"] == "G.ckpt"
    assert info["bundled"] == {"classifier": False, "parser": False, "seg_generator": False}
    assert "--source" in info["note"]

    run = tmp_path / "run"
    make_model_dir(run / "export", "stargan", size=32, classifier=True, parser=True)
    assert cli_main(["info", str(run)]) == 0  # a run folder: its export is described
    info = json.loads(capsys.readouterr().out)
    assert info["model_dir"] == str(run / "export") and info["num_attributes"] == len(PAPER_ATTRIBUTES)
    assert info["bundled"]["classifier"] and info["bundled"]["parser"] and info["can_predict_source"]
    assert cli_main(["info", str(tmp_path / "nothing")]) == 2
    assert "not found" in capsys.readouterr().err
