"""Training killed with SIGKILL (no handler runs, no ``finally``) loses nothing beyond its last checkpoint.

``python -m secgan train`` runs in a child process on a synthetic CelebA-format dataset made with
``secgan synth``; the test kills it mid-run, checks that every checkpoint on disk loads (no half-written
file, temporary files never listed), resumes it with ``--resume`` and compares the final weights, optimizer
states and random states bit for bit with an uninterrupted run of the same command.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from secgan.cli import main
from secgan.training.checkpoint import (
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from secgan.utils.io import remove_stale_temp_files

ITERS = 120
EVERY = 6
TINY = [
    "data.image_size=32",
    "data.flip=true",
    "model.g_conv_dim=8",
    "model.g_n_res=1",
    "model.d_conv_dim=8",
    "model.d_n_layers=3",
    "train.batch_size=8",
    "train.n_critic=2",
    f"train.iterations={ITERS}",
    f"train.decay_start={ITERS // 2}",
    "log.log_every=3",
    "log.sample_every=1000",
    f"log.checkpoint_every={EVERY}",
    "log.keep_checkpoints=4",
    "log.n_samples=2",
    "log.tensorboard=false",
    "log.export_every_checkpoint=false",
]


def _env() -> dict[str, str]:
    # one intra-op thread: the same kernels (and bits) in every process, and no thread contention
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _train_cmd(data: Path, out: Path, resume: bool = False) -> list[str]:
    cmd = [sys.executable, "-m", "secgan", "train", "--out", str(out), "--device", "cpu", "--no-progress"]
    if resume:
        return [*cmd, "--resume"]  # the run's own config.json (data root included)
    cmd += ["--config", "synthetic-stargan-64-baseline", "--data", str(data)]
    for s in TINY:
        cmd += ["--set", s]
    return cmd


def _run_to_end(cmd: list[str], log: Path) -> dict:
    with open(log, "w") as fh:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=fh, text=True, env=_env(), timeout=300)
    assert proc.returncode == 0, log.read_text()[-2000:]
    return json.loads(proc.stdout)


def _is_temp(name: str) -> bool:
    return name.startswith(".") and name.endswith(".tmp")


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "faces"
    assert main(["synth", str(root), "--num", "200", "--workers", "1", "--no-progress"]) == 0
    return root


def test_sigkill_mid_run_then_resume_loses_nothing(synth, tmp_path):
    full_dir, run = tmp_path / "full", tmp_path / "killed"
    full = _run_to_end(_train_cmd(synth, full_dir), tmp_path / "full.log")
    assert full["step"] == ITERS and not full["interrupted"]

    # Start the same run, and SIGKILL it once a checkpoint exists: at the first moment a checkpoint is
    # being written (a temporary file in checkpoints/) or, failing that, past a third of the run.
    ckpts = run / "checkpoints"
    with open(tmp_path / "killed.log", "w") as fh:
        proc = subprocess.Popen(_train_cmd(synth, run), stdout=fh, stderr=fh, env=_env())
        try:
            deadline = time.monotonic() + 240
            while proc.poll() is None and time.monotonic() < deadline:
                done = list_checkpoints(ckpts)
                writing = ckpts.is_dir() and any(_is_temp(p.name) for p in ckpts.iterdir())
                if done and (writing or done[-1][0] >= ITERS // 3):
                    proc.send_signal(signal.SIGKILL)
                    break
                time.sleep(0.002)
        finally:
            if proc.poll() is None and time.monotonic() >= deadline:
                proc.kill()
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "killed.log").read_text()[-2000:]
    killed_at = list_checkpoints(ckpts)[-1][0]
    assert EVERY <= killed_at < ITERS  # killed mid-run, after at least one checkpoint

    # Every complete-looking file loads; anything else is a temporary file, never taken as a checkpoint.
    listed = {p for _, p in list_checkpoints(ckpts)}
    for p in ckpts.iterdir():
        if p in listed:
            state = load_checkpoint(p)
            assert p.name == f"step-{state['step']:06d}.pt"
            assert set(state["networks"]) == {"G_rgb", "D_rgb"}
        elif p.name.endswith(".sha256"):  # each checkpoint's digest, written before it
            assert p.with_suffix("") in listed or p.read_text().split()[1] == p.name[: -len(".sha256")]
        else:
            assert _is_temp(p.name), f"unexpected file {p.name} in checkpoints/"
    # A stray partial file from an earlier kill, with a step beyond the real ones: never resumed from.
    stray = ckpts / ".step-999999.pt.abcd1234.tmp"
    stray.write_bytes(b"PK\x03\x04 half a checkpoint")
    (run / ".stats.jsonl.zz9_abcd.tmp").write_text('{"step": 1')  # ours: removed on resume
    (run / ".notes.abcd1234.tmp").write_text("a user's file")  # not one of the run's files: kept
    assert latest_checkpoint(ckpts).name == f"step-{killed_at:06d}.pt"

    resumed = _run_to_end(_train_cmd(synth, run, resume=True), tmp_path / "resumed.log")
    assert resumed["step"] == ITERS and not resumed["interrupted"]
    assert (
        f"resumed from {ckpts / f'step-{killed_at:06d}.pt'} (step {killed_at})"
        in (tmp_path / "resumed.log").read_text()
    )
    assert not [p.name for p in ckpts.iterdir() if _is_temp(p.name)]  # leftovers cleaned up
    assert [p.name for p in run.iterdir() if _is_temp(p.name)] == [".notes.abcd1234.tmp"]

    # Nothing lost: the killed-and-resumed run ends bit for bit where the uninterrupted one does.
    a = load_checkpoint(latest_checkpoint(full_dir / "checkpoints"))
    b = load_checkpoint(latest_checkpoint(ckpts))
    assert a["step"] == b["step"] == ITERS
    for name in a["networks"]:
        for k, v in a["networks"][name].items():
            assert torch.equal(v, b["networks"][name][k]), f"{name}.{k} differs after the kill and resume"
        for pid, st in a["optimizers"][name]["state"].items():
            for k, v in st.items():
                assert torch.equal(v, b["optimizers"][name]["state"][pid][k]), f"{name} Adam {k}"
    assert torch.equal(a["rng"]["train"], b["rng"]["train"])
    # stats.jsonl: every logged step exactly once (a line cut by the kill is dropped), same final values
    rows_a = [json.loads(x) for x in (full_dir / "stats.jsonl").read_text().splitlines()]
    rows_b = [json.loads(x) for x in (run / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows_b] == [r["step"] for r in rows_a] == list(range(3, ITERS + 1, 3))
    assert rows_b[-1]["G_rgb/loss"] == rows_a[-1]["G_rgb/loss"]
    assert (run / "export" / "G.safetensors").read_bytes() == (
        full_dir / "export" / "G.safetensors"
    ).read_bytes()


# A child that writes checkpoint 1, then starts checkpoint 2 and freezes half-way through writing it
# (torch.save wrapped to stop after half the bytes), so the SIGKILL lands mid-write every time.
_CHILD = textwrap.dedent(
    """
    import sys, time
    import torch
    import secgan.training.checkpoint as ck
    from secgan.utils.io import atomic_path
    from secgan.training.checkpoint import save_checkpoint

    out = sys.argv[1]
    state = {"networks": {"G": {"w": torch.arange(200_000, dtype=torch.float32)}}}
    save_checkpoint(out, 1, state)

    def half_write(data, path):
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                fh.write(data[: len(data) // 2])
                fh.flush()
            print("HALF", flush=True)
            time.sleep(120)

    ck.write_bytes_atomic = half_write
    save_checkpoint(out, 2, {"networks": {"G": {"w": torch.zeros(200_000)}}})
    """
)


def test_sigkill_during_a_checkpoint_write_keeps_the_previous_checkpoint(tmp_path):
    ckpts = tmp_path / "checkpoints"
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(ckpts)], stdout=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert proc.stdout.readline().strip() == "HALF"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=60)
    names = sorted(p.name for p in ckpts.iterdir() if not p.name.endswith(".sha256"))
    assert "step-000001.pt" in names and "step-000002.pt" not in names
    (temp,) = [n for n in names if n != "step-000001.pt"]
    assert temp.startswith(".step-000002.pt.") and temp.endswith(".tmp")
    assert (ckpts / temp).stat().st_size > 0  # the half-written bytes are there, under a temporary name
    assert [s for s, _ in list_checkpoints(ckpts)] == [1]
    state = load_checkpoint(latest_checkpoint(ckpts))
    assert state["step"] == 1 and torch.equal(state["networks"]["G"]["w"], torch.arange(200_000.0))
    assert [p.name for p in remove_stale_temp_files(ckpts)] == [temp]
    # the next save after the cleanup proceeds normally
    save_checkpoint(ckpts, 2, {"networks": {}})
    assert [p.name for p in ckpts.iterdir()] and [s for s, _ in list_checkpoints(ckpts)] == [1, 2]
