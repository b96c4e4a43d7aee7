"""The run folder: resolved config, environment, ``stats.jsonl``, TensorBoard events.

Layout::

    RUN_DIR/config.json          the resolved configuration (secgan.config.to_dict)
    RUN_DIR/env.json             versions, git commit, host, device, world size
    RUN_DIR/stats.jsonl          one JSON object per logged step
    RUN_DIR/tb/                  TensorBoard events (losses, learning rates, sample grids)
    RUN_DIR/samples/step-XXXXXX.png
    RUN_DIR/checkpoints/step-XXXXXX.pt
    RUN_DIR/export/              the inference model (secgan.models.export)
"""

from __future__ import annotations

import functools
import json
import logging
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import torch

from secgan.data.split_record import DATA_SPLIT_FILE  # a drawn training split (RaFD ids); evaluate reads it
from secgan.training.run_lock import holds_lock
from secgan.utils.io import atomic_path, remove_stale_temp_dirs, write_json_atomic

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def git_commit(path: str | Path | None = None) -> dict[str, Any]:
    """``{"commit": sha or None, "dirty": bool or None}`` of the git checkout holding ``path``."""
    cwd = Path(path) if path is not None else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        return {"commit": sha or None, "dirty": bool(status.strip())}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def environment(device: torch.device | str, world_size: int = 1) -> dict[str, Any]:
    """Versions, git commit, host and device of this run."""
    import numpy
    import torchvision

    from secgan import __version__
    from secgan.training.distributed import backend as dist_backend

    device = torch.device(device)
    env: dict[str, Any] = {
        "secgan": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        "host": socket.gethostname(),
        "device": str(device),
        "world_size": world_size,
        "dist_backend": dist_backend(),  # "nccl" / "gloo" in a process group (torchrun), else None
        "cpu_threads": torch.get_num_threads(),
        "argv": sys.argv,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git": git_commit(),
    }
    if device.type == "cuda" and torch.cuda.is_available():
        env["cuda"] = torch.version.cuda
        env["cudnn"] = torch.backends.cudnn.version()
        env["gpu"] = torch.cuda.get_device_name(device)
    return env


class RunDir:
    """Paths and writers of one run folder. Only the main process (rank 0) writes."""

    def __init__(self, root: str | Path, write: bool = True) -> None:
        self.root = Path(root)
        self.write = write
        self.checkpoints = self.root / "checkpoints"
        self.samples = self.root / "samples"
        self.export = self.root / "export"
        self.tb_dir = self.root / "tb"
        self.stats_path = self.root / "stats.jsonl"
        self.config_path = self.root / "config.json"
        self._tb = None

    def create(
        self,
        config: dict[str, Any],
        env: dict[str, Any],
        resume_step: int = 0,
        data_split: dict[str, Any] | None = None,
    ) -> None:
        """Make the folders and write config.json / env.json (and ``data_split.json`` when the training
        split was drawn: RaFD's seed and identity lists). On resume, drop stats lines after ``resume_step``
        (they belong to steps that will be trained again)."""
        if not self.write:
            return
        for d in (self.root, self.checkpoints, self.samples):
            d.mkdir(parents=True, exist_ok=True)
        write_json_atomic(config, self.config_path)
        write_json_atomic(env, self.root / "env.json")
        if data_split is not None:
            write_json_atomic(data_split, self.root / DATA_SPLIT_FILE)
        if resume_step and self.stats_path.exists():
            keep = []
            for line in self.stats_path.read_text().splitlines():
                try:
                    if json.loads(line).get("step", 0) <= resume_step:
                        keep.append(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a kill
            with atomic_path(self.stats_path) as tmp:
                tmp.write_text("".join(x + "\n" for x in keep))
        elif not resume_step and self.stats_path.exists():
            self.stats_path.unlink()

    def remove_stale_temp(self) -> None:
        """Remove the temporary files and folders of writes a kill interrupted (checkpoints, export,
        samples, the run's JSON files); only the holder of the run's lock removes anything."""
        from secgan.utils.io import remove_stale_temp_files

        for folder in (self.checkpoints, self.export, self.samples):
            remove_stale_temp_files(folder)
        remove_stale_temp_files(
            self.root, [self.config_path.name, "env.json", self.stats_path.name, DATA_SPLIT_FILE]
        )
        if holds_lock(self.root) is not False:
            remove_stale_temp_dirs(self.root, self.export.name)  # an export killed before its swap

    def tensorboard(self, enabled: bool, purge_step: int | None = None):
        """A ``SummaryWriter`` on ``RUN_DIR/tb`` (or None when disabled / not the main process)."""
        if not (self.write and enabled):
            return None
        if self._tb is None:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.tb_dir), purge_step=purge_step)
        return self._tb

    def log_stats(self, record: dict[str, Any]) -> None:
        if not self.write:
            return
        with open(self.stats_path, "a") as fh:
            fh.write(json.dumps(record) + "\n")

    def close(self) -> None:
        if self._tb is not None:
            self._tb.flush()
            self._tb.close()
            self._tb = None
