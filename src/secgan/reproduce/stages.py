"""A tiny stage runner: each stage has an output folder and a validity check; a valid output is reused,
so re-running ``secgan reproduce`` continues an interrupted reproduction."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from secgan.errors import SecganError
from secgan.utils.io import write_json_atomic

log = logging.getLogger(__name__)

DONE_FILE = ".stage-done.json"


@dataclass
class Stage:
    """``run()`` produces ``out``; ``valid()`` says whether ``out`` already holds a finished result."""

    name: str
    out: Path
    run: Callable[[], dict | None]
    valid: Callable[[], bool] | None = None
    group: str = ""  # --force GROUP redoes every stage of the group (e.g. "train")
    info: dict = field(default_factory=dict)

    def is_done(self) -> bool:
        marker = self.out / DONE_FILE
        if not marker.is_file():
            return False
        return self.valid() if self.valid else True

    def mark_done(self, seconds: float, result: dict | None) -> None:
        write_json_atomic(
            {"stage": self.name, "seconds": round(seconds, 2), "result": result}, self.out / DONE_FILE
        )

    def done_info(self) -> dict:
        try:
            return json.loads((self.out / DONE_FILE).read_text())
        except (OSError, ValueError):
            return {}


def run_stages(stages: list[Stage], force: set[str]) -> dict[str, dict]:
    """Run each stage unless done (or forced); return {stage name: {"seconds", "skipped", "result"}}."""
    unknown = force - {s.name for s in stages} - {s.group for s in stages} - {"all"}
    if unknown:
        valid = sorted({s.name for s in stages} | {s.group for s in stages if s.group})
        raise SecganError(
            f"--force: unknown stage(s) {', '.join(sorted(unknown))}; valid: {', '.join(valid)}"
        )
    summary: dict[str, dict] = {}
    for i, stage in enumerate(stages, 1):
        forced = "all" in force or stage.name in force or (stage.group and stage.group in force)
        if not forced and stage.is_done():
            info = stage.done_info()
            log.info("[%d/%d] %s: already done, reusing %s", i, len(stages), stage.name, stage.out)
            summary[stage.name] = {
                "seconds": info.get("seconds", 0.0),
                "skipped": True,
                "result": info.get("result"),
            }
            continue
        if forced and (stage.out / DONE_FILE).exists():
            (stage.out / DONE_FILE).unlink()
        log.info("[%d/%d] %s ...", i, len(stages), stage.name)
        t0 = time.perf_counter()
        result = stage.run()
        seconds = time.perf_counter() - t0
        stage.out.mkdir(parents=True, exist_ok=True)
        stage.mark_done(seconds, result)
        log.info("[%d/%d] %s done in %.1f s", i, len(stages), stage.name, seconds)
        summary[stage.name] = {"seconds": round(seconds, 2), "skipped": False, "result": result}
    return summary


def secgan_cli(args: list[str], capture_json: bool = False) -> dict | None:
    """Run ``python -m secgan ARGS`` in a child process (stderr, with its progress bars, passes through).

    A child process per stage keeps stages isolated (memory, threads) and lets the pipeline report the
    children's peak memory. With ``capture_json``, the command's stdout is parsed as JSON and returned.
    """
    cmd = [sys.executable, "-m", "secgan", *map(str, args)]
    log.debug("running %s", " ".join(cmd))
    proc = subprocess.run(
        cmd, stdout=subprocess.PIPE if capture_json else None, text=True, env=os.environ.copy()
    )
    if proc.returncode != 0:
        raise SecganError(f"stage command failed (exit {proc.returncode}): secgan {' '.join(map(str, args))}")
    if capture_json:
        text = proc.stdout.strip()
        start = text.find("{")
        try:
            return json.loads(text[start:]) if start >= 0 else None
        except ValueError as err:
            raise SecganError(f"secgan {args[0]} printed no JSON result: {text[-200:]!r}") from err
    return None


def reset_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
