"""The trainer (Algorithm 1) on tiny networks and in-memory data."""

from __future__ import annotations

import json

import pytest
import torch
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

from secgan import losses as L
from secgan.errors import ConfigError, TrainingError
from secgan.models.export import load_pretrained
from secgan.training.trainer import Trainer


def _weights(net):
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


@pytest.mark.parametrize("backbone", ["stargan", "attgan"])
@pytest.mark.parametrize("mode", ["baseline", "concat", "secgan"])
def test_every_backbone_and_mode_trains(tmp_path, backbone, mode):
    cfg = tiny_config(backbone, mode, "train.iterations=4")
    parser = tiny_parser() if mode == "secgan" else None
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(), parser=parser, progress=False)
    before = {n: _weights(m) for n, m in tr.nets.items()}
    out = tr.train()
    assert out["step"] == 4 and not out["interrupted"]
    expected = {
        "baseline": {"G_rgb", "D_rgb"},
        "concat": {"G_rgb", "D_rgb"},
        "secgan": {"G_rgb", "D_rgb", "G_seg", "D_seg"},
    }
    assert set(tr.nets) == expected[mode]
    for name, net in tr.nets.items():
        w = net.state_dict()
        assert any(not torch.equal(before[name][k], w[k]) for k in w if w[k].is_floating_point()), name
        # critics step every iteration, generators every n_critic = 2
        steps = [s["step"] for s in tr.opts[name].state_dict()["state"].values()]
        assert steps and all(float(s) == (4 if name.startswith("D") else 2) for s in steps), name
    assert tr.G_rgb.in_channels == (15 if mode == "concat" else 3)
    stats = out["last_stats"]
    assert "D_rgb/gp" in stats and "G_rgb/rec" in stats
    assert ("G_rgb/sc" in stats) == (mode == "secgan") and ("G_seg/rec" in stats) == (mode == "secgan")


def test_generator_updates_do_not_reach_the_other_branch(tmp_path):
    cfg = tiny_config("stargan", "secgan")
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(), parser=tiny_parser(), progress=False)
    batch = next(iter(tr._loader(0)))
    b = tr.prepare_batch(batch)
    x_fake = tr.G_rgb(b.x, b.c)
    s_fake, s_fake_log = tr.G_seg(b.s_in, b.c, with_log_probs=True)
    loss_rgb, st, loss_seg, st_seg = tr.generator_losses(b, x_fake, s_fake, s_fake_log)
    for net in tr.nets.values():
        net.zero_grad(set_to_none=True)
    loss_rgb.backward()
    assert all(p.grad is not None for p in tr.G_rgb.parameters())
    assert all(p.grad is None for p in tr.G_seg.parameters())
    assert all(p.grad is None for p in tr.D_rgb.parameters())  # the critic is frozen in the G step
    assert all(p.grad is None for p in tr.parser.parameters())  # P is never trained
    g_rgb = [p.grad.clone() for p in tr.G_rgb.parameters()]
    loss_seg.backward()
    assert all(p.grad is not None for p in tr.G_seg.parameters())
    assert all(torch.equal(a, p.grad) for a, p in zip(g_rgb, tr.G_rgb.parameters()))
    assert all(p.grad is None for p in tr.D_seg.parameters())
    # eq. 11 on the same tensors, by hand
    expected = L.mask_ce(s_fake.detach().argmax(1), tr.parser.log_probs12(x_fake))
    assert float(st["sc"]) == pytest.approx(expected.item(), rel=1e-5)
    # log space equals the former log(probs) where no probability is tiny
    clamped = -tr.parser.probs12(x_fake).clamp_min(1e-8).log().gather(1, s_fake.detach().argmax(1)[:, None])
    assert float(st["sc"]) == pytest.approx(clamped.mean().item(), rel=1e-4)
    seg_expected = L.mask_ce(tr.parser.probs12(x_fake).argmax(1), s_fake.clamp_min(1e-30).log())
    assert float(st_seg["sc"]) == pytest.approx(seg_expected.item(), rel=1e-4)
    # targets are a permutation of the batch's labels; the condition is y_trg - y_src
    assert sorted(map(tuple, b.y_trg.tolist())) == sorted(map(tuple, b.y_src.tolist()))
    torch.testing.assert_close(b.c, b.y_trg - b.y_src)
    assert torch.count_nonzero(b.c0) == 0


def test_source_masks_from_the_parser_when_the_data_has_none(tmp_path):
    cfg = tiny_config("stargan", "secgan")
    parser = tiny_parser()
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(masks=False), parser=parser, progress=False)
    batch = next(iter(tr._loader(0)))
    tr.rng.manual_seed(99)
    b = tr.prepare_batch(batch)
    # s_lab is the parser's labelling of the (possibly flipped) batch images
    torch.testing.assert_close(b.s_lab, parser.labels12(b.x))
    assert b.s_in.shape == (4, 12, 32, 32) and torch.all(b.s_in.sum(1) == 1)


def test_secgan_needs_a_parser(tmp_path):
    with pytest.raises(ConfigError, match="--parser"):
        Trainer(tiny_config("stargan", "secgan"), tmp_path / "r", dataset=ToyFaces(), progress=False)


def test_nan_loss_stops_with_the_loss_and_step_named(tmp_path, monkeypatch):
    cfg = tiny_config("stargan", "baseline", "train.iterations=10", "log.checkpoint_every=2")
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(), progress=False)
    calls = {"n": 0}
    real = L.rec_l1_loss

    def flaky(x, y):
        calls["n"] += 1
        loss, st = real(x, y)
        if calls["n"] == 3:  # the third G step = iteration 6
            loss = loss * float("nan")
            st = {"rec": loss.detach()}
        return loss, st

    monkeypatch.setattr(L, "rec_l1_loss", flaky)
    with pytest.raises(TrainingError, match=r"G_rgb/.* at step 6.*step-000004\.pt"):
        tr.train()
    names = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.pt"))
    assert names[-1] == "step-000004.pt" and "step-000006.pt" not in names


def test_run_folder_and_export(tmp_path):
    cfg = tiny_config(
        "stargan", "secgan", "log.sample_every=2", "log.checkpoint_every=3", "log.tensorboard=true"
    )
    run = tmp_path / "run"
    tr = Trainer(cfg, run, dataset=ToyFaces(), parser=tiny_parser(), progress=False)
    tr.train()
    assert json.loads((run / "config.json").read_text())["model"]["mode"] == "secgan"
    env = json.loads((run / "env.json").read_text())
    assert env["torch"] == torch.__version__ and "git" in env
    lines = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    assert [x["step"] for x in lines] == [1, 2, 3, 4, 5, 6]
    assert {"lr_G", "lr_D", "img_per_s", "D_rgb/loss", "D_seg/loss"} <= set(lines[-1])
    base = cfg.train.g_lr  # constant up to decay_start, then linear decay to 0
    assert lines[2]["lr_G"] == pytest.approx(base) and lines[-1]["lr_G"] == 0.0
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step-000002.png",
        "step-000004.png",
        "step-000006.png",
    ]
    assert list((run / "tb").glob("events.out.tfevents.*"))
    assert [p.name for p in sorted((run / "checkpoints").iterdir())] == [
        "step-000003.pt",
        "step-000003.pt.sha256",  # each checkpoint's digest, checked when it is loaded
        "step-000006.pt",
        "step-000006.pt.sha256",
    ]
    nets, meta = load_pretrained(run / "export")
    assert set(nets) == {"G", "G_seg", "parser"}
    assert meta["kind"] == "editor" and meta["attributes"] == list(cfg.data.attributes)
    assert meta["iterations"] == 6 and meta["needs_mask"] is False and meta["lambda_sc"] == 0.01
    assert meta["parser"]["input_size"] == 32
    for k, v in tr.G_rgb.state_dict().items():
        torch.testing.assert_close(nets["G"].state_dict()[k], v)


def test_concat_export_needs_a_mask(tmp_path):
    cfg = tiny_config("attgan", "concat", "train.iterations=2", "data.masks=gt")
    tr = Trainer(cfg, tmp_path / "run", dataset=ToyFaces(), progress=False)
    tr.train()
    nets, meta = load_pretrained(tmp_path / "run" / "export")
    assert meta["needs_mask"] is True and meta["in_channels"] == 15 and set(nets) == {"G"}


def _amp_run(tmp_path, device):
    cfg = tiny_config("stargan", "secgan", "train.iterations=2", "train.amp=true", "data.num_workers=1")
    tr = Trainer(
        cfg, tmp_path / "run", device=device, dataset=ToyFaces(), parser=tiny_parser(), progress=False
    )
    seen = []
    tr.D_rgb.register_forward_hook(lambda m, i, o: seen.append((i[0].shape[0], o[0].dtype)))
    out = tr.train()
    assert out["step"] == 2 and all(map(lambda v: v == v, out["last_stats"].values()))
    # step 1: the critic sees real+fake (8 images) under bf16 autocast, then the GP interpolates
    # (4 images) in float32; step 2 adds the generator's pass (4 images, bf16)
    assert seen[:2] == [(8, torch.bfloat16), (4, torch.float32)]
    assert (4, torch.bfloat16) in seen[2:]
    assert all(p.dtype == torch.float32 for p in tr.G_rgb.parameters())


def test_bf16_autocast_keeps_the_gradient_penalty_in_float32(tmp_path):
    _amp_run(tmp_path, "cpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bf16_autocast_on_cuda(tmp_path):
    _amp_run(tmp_path, "cuda")


def test_rafd_run_records_its_random_identity_split(tmp_path):
    import os

    from PIL import Image

    from secgan.data.attributes import RAFD_EXPRESSIONS

    root = tmp_path / "rafd"
    root.mkdir()
    Image.new("RGB", (34, 51), (120, 90, 60)).save(tmp_path / "face.jpg")
    for model in range(1, 5):
        for expr in RAFD_EXPRESSIONS:
            for cam in ("000", "045", "090", "135", "180"):
                os.link(
                    tmp_path / "face.jpg", root / f"Rafd{cam}_{model:02d}_Caucasian_female_{expr}_left.jpg"
                )
    cfg = tiny_config(
        "stargan", "baseline", "data.dataset=rafd", "data.attributes=" + ",".join(RAFD_EXPRESSIONS),
        "loss.cls_loss=ce", f"data.root={root}", "data.split_seed=3", "train.iterations=2",
    )  # fmt: skip
    tr = Trainer(cfg, tmp_path / "run", progress=False)
    assert len(tr.dataset) == 3 * 8 * 3  # 3 training identities x 8 expressions x cameras 045/090/135
    tr.train()
    split = json.loads((tmp_path / "run" / "data_split.json").read_text())
    assert split["identity_split"] == "random" and split["split_seed"] == 3
    assert sorted(split["train_identities"] + split["test_identities"]) == ["01", "02", "03", "04"]
    assert set(tr.dataset.meta["model"]) == set(split["train_identities"])
