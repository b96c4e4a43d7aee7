"""The trainer's CUDA paths: bf16 autocast with the gradient penalty in float32, channels_last, pinned
batches, ``train.compile`` with inductor, and resume (within run-to-run noise, not bit-exact)."""

from __future__ import annotations

import os
import signal
import time

import pytest
import torch
from secgan_train_toys import ToyFaces, tiny_config, tiny_parser

from secgan import losses as L
from secgan.training.checkpoint import latest_checkpoint, load_checkpoint
from secgan.training.trainer import Trainer

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def _trainer(run, *extra, mode="secgan", n=16, resume=False):
    cfg = tiny_config("stargan", mode, *extra)
    parser = tiny_parser() if mode == "secgan" else None
    return Trainer(
        cfg, run, device="cuda", dataset=ToyFaces(n=n), parser=parser, resume=resume, progress=False
    )


def _flat(tr):
    return {
        n: torch.cat([p.detach().float().flatten() for p in net.parameters()]) for n, net in tr.nets.items()
    }


def test_bf16_steps_keep_the_gradient_penalty_in_float32(tmp_path, monkeypatch, record):
    tr = _trainer(tmp_path / "run", "train.iterations=4", "train.amp=true", "data.num_workers=1")
    seen, gp_calls = [], []
    tr.D_rgb.register_forward_hook(lambda m, i, o: seen.append((i[0].shape[0], o[0].dtype)))
    real_gp = L.gradient_penalty

    def checked_gp(critic, real, fake, alpha=None, generator=None):
        gp_calls.append((torch.is_autocast_enabled("cuda"), fake.dtype))
        loss, stats = real_gp(critic, real, fake, alpha, generator)
        assert loss.dtype == torch.float32
        return loss, stats

    monkeypatch.setattr(L, "gradient_penalty", checked_gp)
    pinned = []
    step_fn = tr.train_step
    tr.train_step = lambda step, batch: (pinned.append(batch["image"].is_pinned()), step_fn(step, batch))[1]
    start = _flat(tr)
    out = tr.train()
    assert out["step"] == 4 and all(v == v and abs(v) < 1e6 for v in out["last_stats"].values())
    # critic on real+fake (8 images) under bf16, then the GP's interpolates (4 images) in float32
    assert seen[:2] == [(8, torch.bfloat16), (4, torch.float32)]
    assert (4, torch.bfloat16) in seen[2:]  # the generator step's pass through D_rgb
    # the penalty ran with autocast off, on a bf16 translation (cast to float32 inside)
    assert gp_calls and all(not on for on, _ in gp_calls) and gp_calls[0][1] == torch.bfloat16
    assert all(pinned), "the CUDA loader must hand over pinned batches (pin_memory)"
    end = _flat(tr)
    for name in end:
        assert end[name].dtype == torch.float32 and torch.isfinite(end[name]).all(), name
        assert not torch.equal(start[name], end[name]), f"{name} did not train"
    record(last_stats=out["last_stats"], cuda_max_allocated_mib=torch.cuda.max_memory_allocated() / 2**20)


def _assert_close_stats(got, ref, rel, abs_):
    """Continuous statistics within ``rel``/``abs_``; accuracies and agreement fractions (a logit near 0 or a
    near tie may flip) within a few flips."""
    assert set(got) == set(ref)
    for k, v in ref.items():
        discrete = k.endswith("_acc") or k.endswith("agree")
        assert got[k] == pytest.approx(v, rel=0 if discrete else rel, abs=0.2 if discrete else abs_), k


def _first_step_stats(run, *extra, hooks=None):
    tr = _trainer(run, "train.iterations=2", *extra)
    if hooks:
        hooks(tr)
    return tr, tr.train()["last_stats"]


def test_channels_last_matches_contiguous(tmp_path, record):
    nhwc = torch.channels_last
    inputs = []

    def hooks(tr):
        for name in ("G_rgb", "D_seg"):
            tr.nets[name].register_forward_pre_hook(
                lambda m, args, name=name: inputs.append((name, args[0].is_contiguous(memory_format=nhwc)))
            )

    # no sample grid (its fixed batch is NCHW): only the training step's inputs are watched
    cl, got = _first_step_stats(tmp_path / "cl", "train.channels_last=true", "log.n_samples=0", hooks=hooks)
    _, ref = _first_step_stats(tmp_path / "ref", "log.n_samples=0")
    # the batch images (G_rgb) and the one-hot masks (D_seg's real inputs) arrive in NHWC
    assert {n for n, _ in inputs} == {"G_rgb", "D_seg"} and all(ok for _, ok in inputs), inputs
    for name, net in cl.nets.items():
        convs = [p for p in net.parameters() if p.dim() == 4]
        assert convs and all(p.is_contiguous(memory_format=nhwc) for p in convs), name
    assert all(p.is_contiguous(memory_format=nhwc) for p in cl.parser.parameters() if p.dim() == 4)
    # Same weights, same batch, same randomness: only the kernels differ (TF32 convolutions on both sides).
    diffs = {k: abs(got[k] - v) for k, v in ref.items()}
    record(abs_diff=diffs)
    _assert_close_stats(got, ref, rel=2e-2, abs_=2e-3)


@pytest.fixture
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def test_compile_with_inductor_matches_eager(tmp_path, fresh_dynamo, record):
    """fp32 on both sides (TF32 convolutions in both): Adam's first steps are about lr * sign(grad), so
    bf16's noise would flip the sign of many small gradients and blur the comparison of the updates. The
    bf16 + channels_last + compile combination is timed by the suite's train_compile step."""
    eager, ref = _first_step_stats(tmp_path / "eager")
    t0 = time.perf_counter()
    comp, got = _first_step_stats(tmp_path / "compiled", "train.compile=true")
    compile_s = time.perf_counter() - t0
    compiled = torch._dynamo.eval_frame.OptimizedModule
    assert all(isinstance(comp.fwd[n], compiled) for n in ("G_rgb", "D_rgb", "G_seg", "D_seg"))
    diffs = {k: abs(got[k] - v) for k, v in ref.items()}
    record(first_two_steps_with_compile_s=round(compile_s, 2), abs_diff=diffs)
    _assert_close_stats(got, ref, rel=1e-2, abs_=1e-3)
    # the same two updates: the direction of each network's whole update agrees
    start = _flat(_trainer(tmp_path / "init", "train.iterations=2"))
    e, c = _flat(eager), _flat(comp)
    cos = {}
    for name in e:
        u_e, u_c = e[name] - start[name], c[name] - start[name]
        cos[name] = float(torch.nn.functional.cosine_similarity(u_e, u_c, dim=0))
    record(update_cosine=cos)
    assert all(v > 0.99 for v in cos.values()), cos


RESUME = ("train.iterations=20", "train.decay_start=5", "log.checkpoint_every=100", "data.flip=true")


def _run(run, interrupt_at=None, resume=False):
    tr = _trainer(run, *RESUME, n=22, resume=resume)
    if interrupt_at is not None:
        step_fn = tr.train_step

        def step_and_signal(step, batch):
            out = step_fn(step, batch)
            if step == interrupt_at:
                os.kill(os.getpid(), signal.SIGINT)  # handled: finish the step, checkpoint, stop
            return out

        tr.train_step = step_and_signal
    return tr, tr.train()


def test_resume_equals_uninterrupted_within_run_to_run_noise(tmp_path, record):
    """Bit-exactness is not expected on CUDA: cuDNN's autotuner may pick other kernels in another process,
    and atomic-add reductions in convolution backward passes sum in a varying order, so two uninterrupted
    runs of the same seed already differ slightly. A resumed run must differ from an uninterrupted one by
    no more than that run-to-run noise (x3, plus 1e-3 of the update): a lost optimizer state, learning rate,
    random stream or data position would change the second half's updates entirely (a deviation of the
    order of the update itself)."""
    start = _flat(_trainer(tmp_path / "init", *RESUME, n=22))
    full_tr, full = _run(tmp_path / "full")
    again_tr, _ = _run(tmp_path / "again")
    _, part = _run(tmp_path / "part", interrupt_at=10)
    assert part["interrupted"] and part["step"] == 10
    res_tr, res = _run(tmp_path / "part", resume=True)
    assert res["step"] == full["step"] == 20 and not res["interrupted"]
    a, a2, b = _flat(full_tr), _flat(again_tr), _flat(res_tr)
    figures = {}
    for name in a:
        update = (a[name] - start[name]).norm()
        noise = float((a2[name] - a[name]).norm() / update)
        dev = float((b[name] - a[name]).norm() / update)
        figures[name] = {"run_to_run": noise, "resumed": dev}
        assert dev <= 3 * noise + 1e-3, (name, figures[name])
    record(relative_deviation=figures)
    # what is exact on any device: the step counts and the CPU-side random stream
    sa = load_checkpoint(latest_checkpoint(tmp_path / "full" / "checkpoints"))
    sb = load_checkpoint(latest_checkpoint(tmp_path / "part" / "checkpoints"))
    assert sa["step"] == sb["step"] == 20
    assert torch.equal(sa["rng"]["train"], sb["rng"]["train"])
    for name in sa["optimizers"]:
        steps_a = [float(s["step"]) for s in sa["optimizers"][name]["state"].values()]
        steps_b = [float(s["step"]) for s in sb["optimizers"][name]["state"].values()]
        assert steps_a == steps_b, name
