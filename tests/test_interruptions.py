"""Interruptions and concurrent use, injected for real: processes are started, signalled and killed.

* two trainers on one run folder: the second stops with one line naming the first (PID and host), touches
  nothing (no config rewrite, no removal of the first's in-flight temporary files); once the first is
  SIGKILLed, its stale lock is taken over with a warning;
* ``secgan reproduce``'s stage runner: a SIGINT to the pipeline reaches the training child, which
  checkpoints before the pipeline stops; a SIGKILLed pipeline takes its child with it (PR_SET_PDEATHSIG);
* a multi-file output killed mid-write leaves the previous folder whole.

Tiny networks (width 8, 32 px) and few steps keep each case to seconds.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from secgan.cli import main
from secgan.training.checkpoint import list_checkpoints, load_checkpoint
from secgan.training.run_lock import LOCK_NAME, read_owner

TINY = [
    "data.image_size=32",
    "model.g_conv_dim=8",
    "model.g_n_res=1",
    "model.d_conv_dim=8",
    "model.d_n_layers=3",
    "train.batch_size=4",
    "train.n_critic=1",
    "log.log_every=1",
    "log.sample_every=100000",
    "log.n_samples=1",
    "log.tensorboard=false",
    "log.export_every_checkpoint=false",
]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


def _train_args(data: Path, out: Path, *extra: str, iters: int = 100_000, every: int = 2) -> list[str]:
    args = ["train", "--config", "synthetic-stargan-64-baseline", "--data", str(data), "--out", str(out)]
    args += ["--device", "cpu", "--no-progress"]
    for s in [
        *TINY,
        f"train.iterations={iters}",
        f"train.decay_start={iters}",
        f"log.checkpoint_every={every}",
    ]:
        args += ["--set", s]
    for s in extra:
        args += ["--set", s]
    return args


def _secgan(*args: str) -> list[str]:
    return [sys.executable, "-m", "secgan", *args]


def _wait_for(cond, timeout: float = 120.0, what: str = "condition") -> None:
    t0 = time.time()
    while not cond():
        if time.time() - t0 > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in state  # a zombie (nobody reaped it yet) has stopped running


@pytest.fixture(scope="module")
def faces(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("faces") / "data"
    assert main(["synth", str(root), "--num", "24", "--workers", "1", "--no-progress"]) == 0
    return root


def test_two_trainers_on_one_run_folder(faces, tmp_path):
    run = tmp_path / "run"
    log = open(tmp_path / "first.log", "w")
    first = subprocess.Popen(
        _secgan(*_train_args(faces, run)), stderr=log, stdout=subprocess.DEVNULL, env=_env()
    )
    try:
        _wait_for(lambda: len(list_checkpoints(run / "checkpoints")) > 0, what="the first checkpoint")
        assert read_owner(run)["pid"] == first.pid and read_owner(run)["host"] == socket.gethostname()
        config = (run / "config.json").read_bytes()
        in_flight = run / "checkpoints" / ".step-999998.pt.abcd1234.tmp"  # as the first's atomic write
        in_flight.write_bytes(b"half a checkpoint")
        for second in (_train_args(faces, run, "seed=2"), ["train", "--resume", "--out", str(run)]):
            proc = subprocess.run(_secgan(*second), capture_output=True, text=True, env=_env(), timeout=120)
            err = proc.stderr.strip().splitlines()
            assert proc.returncode == 2, proc.stderr[-2000:]
            assert f"in use by process {first.pid} on host {socket.gethostname()}" in err[-1]
            assert in_flight.exists() and (run / "config.json").read_bytes() == config
        assert first.poll() is None  # the first trainer never noticed
    finally:
        first.kill()
        first.wait(timeout=60)
        log.close()
    # The first died without releasing anything: its lock is stale and the next trainer takes it over.
    last = list_checkpoints(run / "checkpoints")[-1][0]
    proc = subprocess.run(
        _secgan(
            "train", "--resume", "--allow-changes", "--out", str(run), "--set", f"train.iterations={last + 1}"
        ),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"taking over the lock of process {first.pid}" in proc.stderr
    assert not in_flight.exists()  # the lock holder cleans up the dead writer's temporary file
    assert (run / LOCK_NAME).read_text() == ""  # released cleanly


# A pipeline stage as `secgan reproduce` runs it: python -c PARENT RUN_ARGS... (prints INTERRUPTED).
_PARENT = textwrap.dedent(
    """
    import sys
    from secgan.reproduce.stages import StageInterrupted, secgan_cli
    try:
        secgan_cli(sys.argv[1:])
    except StageInterrupted as err:
        print("INTERRUPTED", err, flush=True)
        sys.exit(3)
    """
)


def _start_pipeline(faces: Path, run: Path, log: Path) -> tuple[subprocess.Popen, int]:
    """The parent and its training child's PID, once the child has logged its first step."""
    args = _train_args(faces, run, every=100_000)
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT, *args],
        stdout=subprocess.PIPE,
        stderr=open(log, "w"),
        text=True,
        env=_env(),
        start_new_session=True,
    )
    _wait_for(
        lambda: (run / "stats.jsonl").is_file() and (run / "stats.jsonl").read_text().strip(), what="step 1"
    )
    child = read_owner(run)["pid"]
    assert child != parent.pid and _alive(child)
    return parent, child


def test_ctrl_c_on_the_pipeline_lets_the_training_child_checkpoint(faces, tmp_path):
    run = tmp_path / "run"
    parent, child = _start_pipeline(faces, run, tmp_path / "pipeline.log")
    try:
        os.kill(parent.pid, signal.SIGINT)  # the pipeline only (as a terminal's Ctrl-C reaches it)
        out, _ = parent.communicate(timeout=120)
    finally:
        parent.kill()
    assert parent.returncode == 3 and "interrupted by SIGINT" in out, (tmp_path / "pipeline.log").read_text()
    _wait_for(lambda: not _alive(child), timeout=30, what="the child to exit")
    (step, path), *_ = list_checkpoints(run / "checkpoints")[::-1]
    assert step >= 1 and load_checkpoint(path)["step"] == step  # saved by the child on its way out


def test_a_killed_pipeline_takes_its_training_child_with_it(faces, tmp_path):
    run = tmp_path / "run"
    parent, child = _start_pipeline(faces, run, tmp_path / "pipeline.log")
    parent.kill()  # SIGKILL: no handler runs in the parent
    parent.wait(timeout=60)
    _wait_for(lambda: not _alive(child), timeout=120, what="the orphaned child to stop")
    ckpts = list_checkpoints(run / "checkpoints")
    assert ckpts and load_checkpoint(ckpts[-1][1])["step"] == ckpts[-1][0]  # it stopped by checkpointing


# A child that writes the new version of a two-file output folder and is killed half-way.
_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from secgan.utils.io import atomic_dir
    with atomic_dir(sys.argv[1]) as tmp:
        (tmp / "examples.npz").write_bytes(b"new examples")
        print("HALF", flush=True)
        time.sleep(120)
        (tmp / "metrics.json").write_text("{}")
    """
)


def test_a_kill_while_an_output_folder_is_written_keeps_the_old_folder(tmp_path):
    out = tmp_path / "eval"
    out.mkdir()
    (out / "examples.npz").write_bytes(b"old examples")
    (out / "metrics.json").write_text('{"old": true}')
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(out)], stdout=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert proc.stdout.readline().strip() == "HALF"
        proc.kill()
    finally:
        proc.wait(timeout=60)
    assert (out / "examples.npz").read_bytes() == b"old examples"
    assert json.loads((out / "metrics.json").read_text()) == {"old": True}
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "eval"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".eval.") and leftovers[0].endswith(".tmpdir")


# A child that re-exports a model folder with other weights and is killed before config.json is written.
_EXPORTER = textwrap.dedent(
    """
    import sys, time
    import torch
    import secgan.models.export as export
    from secgan.models.stargan import StarGANGenerator

    def stalled(obj, path):
        print("HALF", flush=True)
        time.sleep(120)

    torch.manual_seed(int(sys.argv[2]))
    G = StarGANGenerator(n_attrs=2, conv_dim=8, n_res=1)
    if sys.argv[3] == "stall":
        export.write_json_atomic = stalled
    export.save_pretrained(sys.argv[1], {"G": G}, {"attributes": ["A", "B"]})
    print("DONE", flush=True)
    """
)


def test_a_kill_during_export_keeps_the_previous_export_whole(tmp_path):
    from secgan.models.export import load_pretrained

    out = tmp_path / "export"
    run = [sys.executable, "-c", _EXPORTER, str(out)]
    assert (
        subprocess.run([*run, "1", "finish"], capture_output=True, text=True, env=_env()).stdout.strip()
        == "DONE"
    )
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = subprocess.Popen([*run, "2", "stall"], stdout=subprocess.PIPE, text=True, env=_env())
    try:
        assert proc.stdout.readline().strip() == "HALF"  # the new G is written, its config.json is not
        proc.kill()
    finally:
        proc.wait(timeout=60)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # not the new G beside the old config
    load_pretrained(out)  # digests match


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_whole_process_group_saves_with_dataloader_workers(sig, faces, tmp_path):
    """docker stop / Kubernetes / systemd / SLURM signal every process of the group, workers included."""
    run = tmp_path / "run"
    args = _train_args(faces, run, "data.num_workers=2", every=100_000)
    log = open(tmp_path / "train.log", "w")
    proc = subprocess.Popen(_secgan(*args), stdout=subprocess.PIPE, stderr=log, text=True, env=_env(),
                            start_new_session=True)  # fmt: skip
    try:
        _wait_for(
            lambda: (run / "stats.jsonl").is_file() and (run / "stats.jsonl").read_text().strip(),
            what="step 1",
        )
        os.killpg(proc.pid, sig)  # kill -TERM -- -PGID
        out, _ = proc.communicate(timeout=120)
    finally:
        proc.kill()
        log.close()
    text = (tmp_path / "train.log").read_text()
    assert proc.returncode == 128 + sig, text[-2000:]
    assert "killed by signal" not in text
    summary = json.loads(out)
    assert summary["interrupted"] and summary["checkpoint"]
    assert load_checkpoint(summary["checkpoint"])["step"] == summary["step"] >= 1


def test_the_next_write_removes_a_killed_writers_temporary_folder(tmp_path):
    from secgan.utils.io import publish_dir

    out = tmp_path / "eval"
    stale = tmp_path / ".eval.k1ll3d.tmpdir"  # what the SIGKILL above leaves behind
    stale.mkdir()
    (stale / "examples.npz").write_bytes(b"x" * 1000)
    with publish_dir(out, ("examples.npz", "metrics.json")) as tmp:
        (tmp / "metrics.json").write_text("{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["eval"] and (out / "metrics.json").is_file()


# A process that still holds a training loader's iterator (with workers) when its interpreter exits, as a
# test session holding a finished trainer did. multiprocessing then stops the daemonic workers with SIGTERM
# and joins them: workers that ignored SIGTERM kept the process alive for good.
_LEAKED_ITERATOR = """
import sys
from types import SimpleNamespace
import torch
from secgan.training.data_order import step_loader
ds = torch.utils.data.TensorDataset(torch.arange(64).float())
one = SimpleNamespace(rank=0, world_size=1)
IT = iter(step_loader(ds, batch_size=4, seed=0, start=0, total=10, dist=one, workers=2))
print(next(IT)[0].tolist(), flush=True)
"""


def test_a_loader_alive_at_exit_does_not_keep_the_process_alive():
    proc = subprocess.run([sys.executable, "-c", _LEAKED_ITERATOR], capture_output=True, text=True,
                          env=_env(), timeout=60)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 4  # the workers served a batch before the exit
    assert "killed by signal" not in proc.stderr and "Traceback" not in proc.stderr
