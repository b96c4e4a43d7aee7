"""A tiny stage runner: each stage has an output folder and a validity check; a valid output is reused,
so re-running ``secgan reproduce`` continues an interrupted reproduction."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
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
    # Called before a forced stage runs: remove what would make it continue instead of starting fresh.
    fresh: Callable[[], None] | None = None

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
        return _read_json(self.out / DONE_FILE)

    def reused_summary(self) -> dict:
        """The summary entry of a stage done earlier: its original seconds and result, ``skipped``."""
        info = self.done_info()
        return {"seconds": info.get("seconds", 0.0), "skipped": True, "result": info.get("result")}


class _Pace:
    """The remaining time of a reproduction: each stage's reference seconds (``expected(name)``, or
    ``None``), scaled by this machine's pace on the stages with a reference already run."""

    def __init__(self, expected: Callable[[str], float | None] | None) -> None:
        self.expected = expected or (lambda name: None)
        self.ref = self.actual = 0.0

    def note(self, name: str, seconds: float) -> None:
        ref = self.expected(name)
        if ref:
            self.ref += ref
            self.actual += seconds

    def line(self, todo: list[Stage]) -> str:
        """``" (about 4 min for this stage, 13 min left in all)"``, or ``""`` without references."""
        from secgan.reproduce.eta import minutes

        refs = [self.expected(s.name) for s in todo]
        if not refs or refs[0] is None or any(r is None for r in refs):
            return ""
        pace = self.actual / self.ref if self.ref > 0 else 1.0
        return f" (about {minutes(pace * refs[0])} for this stage, {minutes(pace * sum(refs))} left in all)"


def run_stages(
    stages: list[Stage], force: set[str], expected: Callable[[str], float | None] | None = None
) -> dict[str, dict]:
    """Run each stage unless done (or forced); return {stage name: {"seconds", "skipped", "result"}}.
    ``expected(name)``: the stage's seconds on a reference CPU (or ``None``), for the remaining time in the
    progress line."""
    unknown = force - {s.name for s in stages} - {s.group for s in stages} - {"all"}
    if unknown:
        valid = sorted({s.name for s in stages} | {s.group for s in stages if s.group})
        raise SecganError(
            f"--force: unknown stage(s) {', '.join(sorted(unknown))}; valid: {', '.join(valid)}"
        )
    summary: dict[str, dict] = {}
    pace = _Pace(expected)

    # the stages expected to run (for the remaining time only; whether a stage runs is decided when its
    # turn comes, since an earlier stage run again can invalidate a later one)
    def is_forced(s: Stage) -> bool:
        return "all" in force or s.name in force or bool(s.group and s.group in force)

    todo = {id(s) for s in stages if is_forced(s) or not s.is_done()}
    for i, stage in enumerate(stages, 1):
        forced = is_forced(stage)
        if not forced and stage.is_done():
            log.info("[%d/%d] %s: already done, reusing %s", i, len(stages), stage.name, stage.out)
            summary[stage.name] = stage.reused_summary()
            continue
        if forced and (stage.out / DONE_FILE).exists():
            (stage.out / DONE_FILE).unlink()
        if forced and stage.fresh is not None:
            stage.fresh()
        log.info(
            "[%d/%d] %s ...%s",
            i,
            len(stages),
            stage.name,
            pace.line([stage, *(s for s in stages[i:] if id(s) in todo)]),
        )
        t0 = time.perf_counter()
        result = stage.run()
        seconds = time.perf_counter() - t0
        pace.note(stage.name, seconds)
        stage.out.mkdir(parents=True, exist_ok=True)
        stage.mark_done(seconds, result)
        log.info("[%d/%d] %s done in %.1f s", i, len(stages), stage.name, seconds)
        summary[stage.name] = {"seconds": round(seconds, 2), "skipped": False, "result": result}
    return summary


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when the parent dies (even by SIGKILL), so a
    trainer whose pipeline is gone checkpoints and stops instead of living on with PPID 1 (Linux)."""
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run_child(cmd: list[str], capture: bool = False) -> tuple[int, str | None, int | None]:
    """Run ``cmd`` and wait for it; returns ``(exit status, stdout if captured, signal received)``.

    The child runs in its own session, so a terminal's Ctrl-C reaches only this process, which forwards
    each SIGINT/SIGTERM it receives to the child once and keeps waiting: a trainer then finishes its step
    and writes its checkpoint (a second Ctrl-C, forwarded too, interrupts it at once). On Linux the child
    also dies with this process (:func:`_die_with_parent`)."""
    linux = sys.platform.startswith("linux")
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE if capture else None,
        text=True,
        env=os.environ.copy(),
        start_new_session=linux,
        preexec_fn=_die_with_parent if linux else None,
    )
    received: list[int] = []

    def forward(signum: int, frame: object) -> None:
        received.append(signum)
        log.warning(
            "%s received: passing it on to the running stage and waiting for it to save",
            signal.Signals(signum).name,
        )
        if proc.poll() is None:
            proc.send_signal(signum)

    in_main = threading.current_thread() is threading.main_thread()
    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)} if in_main else {}
    try:
        out, _ = proc.communicate()
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        if proc.poll() is None:  # an exception in this process: never leave the child behind
            proc.terminate()
            proc.wait()
    return proc.returncode, out, (received[0] if received else None)


def secgan_cli(args: list[str], capture_json: bool = False) -> dict | None:
    """Run ``python -m secgan ARGS`` in a child process (stderr, with its progress bars, passes through).

    A child process per stage keeps stages isolated (memory, threads) and lets the pipeline report the
    children's peak memory. With ``capture_json``, the command's stdout is parsed as JSON and returned.
    A SIGINT/SIGTERM reaches the child, which saves what it can; then :class:`StageInterrupted` is raised.
    """
    cmd = [sys.executable, "-m", "secgan", *map(str, args)]
    log.debug("running %s", " ".join(cmd))
    rc, stdout, sig = run_child(cmd, capture=capture_json)
    if sig is not None:
        raise StageInterrupted(
            f"interrupted by {signal.Signals(sig).name} during secgan {args[0]} (exit {rc}); its work so far "
            "is saved: run the same secgan reproduce command again to continue"
        )
    if rc != 0:
        raise SecganError(f"stage command failed (exit {rc}): secgan {' '.join(map(str, args))}")
    if capture_json:
        text = (stdout or "").strip()
        start = text.find("{")
        try:
            return json.loads(text[start:]) if start >= 0 else None
        except ValueError as err:
            raise SecganError(f"secgan {args[0]} printed no JSON result: {text[-200:]!r}") from err
    return None


class StageInterrupted(SecganError):
    """A stage's child process was stopped by a signal given to the pipeline."""


def reset_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def valid_model_folder(path: Path, *names: str) -> bool:
    """Whether ``path`` is a complete exported model folder: config.json reads, and each network file
    named there (at least ``names``) exists and matches the digest config.json records for it."""
    from secgan.errors import WeightsError
    from secgan.models.export import read_config
    from secgan.utils.io import file_sha256

    try:
        config = read_config(path)
    except WeightsError:
        return False
    digests = config.get("sha256") if isinstance(config.get("sha256"), dict) else {}
    for name in {*config["networks"], *names}:
        f = path / f"{name}.safetensors"
        if not f.is_file() or (name in digests and file_sha256(f) != digests[name]):
            return False
    return True


def _read_json(path: Path) -> dict:
    """The JSON object in ``path``; ``{}`` when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def classifier_matches(path: Path, epochs: int, augmented: bool | None = None) -> bool:
    """Whether the classifier folder ``path`` is complete and was trained for ``epochs`` and, when
    ``augmented`` is given, with (or without) counterfactual augmentation (its metrics.json): a preset whose
    classifier recipe changed trains it again instead of reusing the old one (a classifier from before
    augmentation records none, so it is retrained where augmentation is expected)."""
    if not valid_model_folder(path):
        return False
    done = _read_json(path / "metrics.json")
    if done.get("epochs") != epochs:
        return False
    return augmented is None or bool((done.get("augmentation") or {}).get("counterfactuals")) == augmented


def evaluated_with(eval_dir: Path, classifier: Path) -> bool:
    """Whether the evaluation in ``eval_dir`` used the classifier now in ``classifier`` (the weight digests
    of its metrics.json and of the classifier's config.json agree): a retrained classifier makes every
    earlier evaluation stale."""
    used = _read_json(eval_dir / "metrics.json").get("protocol", {}).get("classifier", {})
    now = _read_json(classifier / "config.json").get("sha256", {}).get("classifier")
    return now is not None and (used.get("weights_sha256") or {}).get("classifier.safetensors") == now


def judge_matches(path: Path, recipe: Sequence[str]) -> bool:
    """Whether the judge folder ``path`` is a complete U-Net parser trained with ``recipe`` (the ``parser
    train`` arguments recorded in its metrics.json): a preset whose judge recipe changed trains it again."""
    if not valid_model_folder(path):
        return False
    spec = _read_json(path / "config.json").get("networks", {}).get("parser", {})
    return spec.get("family") == "unet_parser" and _read_json(path / "metrics.json").get("recipe") == list(
        recipe
    )


def judged_with(eval_dir: Path, judge: Path) -> bool:
    """Whether the evaluation in ``eval_dir`` measured its judged shape metrics with the judge now in
    ``judge`` (weight digests, as :func:`evaluated_with`): an evaluation from before the judge existed, or
    by a judge since retrained, is stale."""
    used = _read_json(eval_dir / "metrics.json").get("judge") or {}
    now = _read_json(judge / "config.json").get("sha256", {}).get("parser")
    return now is not None and (used.get("weights_sha256") or {}).get("parser.safetensors") == now


def done_after(out: Path, inputs: Sequence[Path]) -> bool:
    """Whether the stage that wrote ``out`` finished after every stage that wrote one of ``inputs`` (their
    done markers' times): a report older than a redone evaluation is stale."""
    try:
        mine = (out / DONE_FILE).stat().st_mtime_ns
        return all((p / DONE_FILE).stat().st_mtime_ns <= mine for p in inputs if (p / DONE_FILE).exists())
    except OSError:
        return False


def reset_run_folder(path: Path) -> None:
    """Delete a run folder so that a forced training stage starts from step 0 (not from its checkpoints);
    refused while a trainer holds the folder's lock."""
    from secgan.training.run_lock import RunLock

    if not path.exists():
        return
    with RunLock(path):  # raises, naming the owner, while a trainer runs there
        for p in path.iterdir():
            if p.name == ".secgan-run.lock":
                continue
            shutil.rmtree(p) if p.is_dir() and not p.is_symlink() else p.unlink()
    log.info("--force: removed the previous run in %s", path)
