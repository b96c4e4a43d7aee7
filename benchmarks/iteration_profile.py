"""Where a training iteration's time goes: each part's FLOPs and time, Baseline against SeCGAN, as JSON.

    python benchmarks/iteration_profile.py                       # the demo presets and celeba-stargan-128
    python benchmarks/iteration_profile.py --presets synthetic-stargan-64 --reps 5
    python benchmarks/iteration_profile.py --dry-run             # width-8 networks at 32 px (the test suite)

The real ``Trainer.train_step`` runs on random in-memory batches (``train_speed.RandomFaces``: images,
labels and the 12-segment source masks of the parser's mask cache), one ``n_critic`` cycle at a time, as
``secgan train`` runs it (learning rates set, then the step's NaN/Inf check). Each part of it is a region:

- ``G_rgb``, ``D_rgb``, ``G_seg``, ``D_seg``: the network's forward passes and the backward passes through
  them (the critics' regions hold their whole update: both critic passes, the WGAN-GP penalty with its
  double backward, the loss arithmetic; the generator step's pass through the frozen critic counts to the
  critic too);
- ``parser``: P's forward on G_rgb's output and the backward through it (eqs. 11, 12);
- ``masks``: the source masks' preparation (one-hot, formats; the parse itself without the mask cache);
- ``losses``: the generator losses' arithmetic; ``optimizer``: ``zero_grad`` and Adam's steps;
- ``data``: moving the batch, flips and the step's random draws; ``host_sync``: the per-step NaN/Inf check;
  ``other``: the rest (``requires_grad`` toggles, gradient accumulation).

A forward op belongs to the innermost region it runs in. A backward op belongs to the region in which the
autograd node it executes was created (the node's sequence number; a node created during a backward pass,
as the penalty's double backward creates them, inherits its creator's region). FLOPs are counted by
``torch.utils.flop_counter.FlopCounterMode`` (its formulas: convolutions, matrix products and their
backward passes), time by ``torch.profiler`` (the self CPU time of every op, summed per region), each in
its own pass. ``step_s`` is the wall time of whole cycles without any instrumentation, the methods of a
preset interleaved cycle by cycle (``--reps`` rounds), so the SeCGAN / Baseline time ratio is measured
under the same load; ``time_over_flop_ratio`` is that ratio divided by the FLOP ratio (issue 23's goal:
at most 1.15). On a machine whose load changes from second to second, ``time_ratio_rgb_units`` is the
steadier estimate: each method's profiled time in units of its own RGB branch (G_rgb + D_rgb compute the
same in both methods), so a load that differs between the two profiled cycles cancels.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.profiler import ProfilerActivity, profile, record_function
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import TINY, RandomFaces  # noqa: E402

PARTS = (
    "data", "masks", "G_rgb", "D_rgb", "G_seg", "D_seg", "parser", "losses", "optimizer", "host_sync",
    "other",
)  # fmt: skip
NETWORKS = ("G_rgb", "D_rgb", "G_seg", "D_seg")
# Parser per preset family: the demo's (width 8, run at 256 px) and the paper-size BiSeNet at the image size.
PARSERS = {"synthetic": (8, 256), "default": (64, None)}
DEFAULT_PRESETS = "synthetic-stargan-64,synthetic-attgan-64,synthetic-stgan-64,celeba-stargan-128"


class PartTracker:
    """The region stack of the step and the map from autograd sequence numbers to regions."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self._records: list[Any] = []  # the open record_function regions of the profiler
        self.marks_seq: list[int] = [0]
        self.marks_part: list[str] = ["other"]

    def reset(self) -> None:
        self.__init__()

    def _mark(self) -> None:
        part = self.stack[-1] if self.stack else "other"
        seq = torch._C._autograd._get_sequence_nr()  # the next node's sequence number
        if self.marks_seq[-1] == seq:
            self.marks_part[-1] = part
        elif self.marks_part[-1] != part:
            self.marks_seq.append(seq)
            self.marks_part.append(part)

    def push(self, name: str) -> None:
        self.stack.append(name)
        self._mark()
        rec = record_function(f"part:{name}")
        rec.__enter__()
        self._records.append(rec)

    def pop(self) -> None:
        self._records.pop().__exit__(None, None, None)
        self.stack.pop()
        self._mark()

    @contextlib.contextmanager
    def region(self, name: str) -> Iterator[None]:
        self.push(name)
        try:
            yield
        finally:
            self.pop()

    def part_of_seq(self, seq: int) -> str:
        if seq < 0:
            return "other"
        return self.marks_part[bisect.bisect_right(self.marks_seq, seq) - 1]

    def current(self) -> str:
        """The region of the op running now: the backward node's creator's, else the innermost open one."""
        node = torch._C._current_autograd_node()
        if node is not None:
            seq = node._sequence_nr()
            return self.part_of_seq(seq if seq < 2**62 else -1)  # AccumulateGrad: no sequence number
        return self.stack[-1] if self.stack else "other"


class _NoModules:
    parents: tuple[str, ...] = ()

    def __enter__(self) -> None: ...

    def __exit__(self, *args: object) -> None: ...


class PartFlopCounter(FlopCounterMode):
    """``FlopCounterMode`` counting by region instead of by module (its module tracker cannot follow the
    gradient penalty's ``autograd.grad``)."""

    def __init__(self, tracker: PartTracker) -> None:
        super().__init__(display=False)
        self.tracker = tracker
        self.mod_tracker = _NoModules()
        self.by_part: dict[str, int] = defaultdict(int)

    def _count_flops(self, func_packet, out, args, kwargs):  # noqa: ANN001
        if func_packet in self.flop_registry:
            flops = self.flop_registry[func_packet](*args, **kwargs, out_val=out)
            self.by_part[self.tracker.current()] += flops
            self.flop_counts["Global"][func_packet] += flops
        return out


def _wrap(tracker: PartTracker, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with tracker.region(name(*args) if callable(name) else name):
            return fn(*args, **kwargs)

    return wrapped


def instrument(tr: Any, tracker: PartTracker) -> Callable[[int, dict], dict]:
    """Put the trainer's parts into regions (instance attributes and module hooks; nothing is changed in
    what they compute) and return ``step(step, batch) -> stats`` as the training loop runs it."""
    for name in NETWORKS:
        net = tr.nets.get(name)
        if net is None:
            continue
        net.register_forward_pre_hook(lambda _m, _a, n=name: tracker.push(n))
        net.register_forward_hook(lambda _m, _a, _o: tracker.pop())
    if tr.parser_log_probs is not None:
        tr.parser_log_probs = _wrap(tracker, "parser", tr.parser_log_probs)
    tr.prepare_masks = _wrap(tracker, "masks", tr.prepare_masks)
    tr.prepare_batch = _wrap(tracker, "data", tr.prepare_batch)
    tr.critic_step = _wrap(tracker, lambda name, *_: name, tr.critic_step)
    tr.generator_losses = _wrap(tracker, "losses", tr.generator_losses)
    for opt in tr.opts.values():
        opt.step = _wrap(tracker, "optimizer", opt.step)
        opt.zero_grad = _wrap(tracker, "optimizer", opt.zero_grad)
    from secgan.training.objective import all_finite

    def step(i: int, batch: dict) -> dict:
        with tracker.region("other"):
            tr.set_learning_rates(i)
            stats = tr.train_step(i, batch)
        with tracker.region("host_sync"):
            all_finite(stats)
        return stats

    return step


def part_times(prof: Any, tracker: PartTracker) -> dict[str, float]:
    """Self CPU seconds of every profiled op, summed per region."""
    out: dict[str, float] = defaultdict(float)
    for ev in prof.events():
        part = "other"
        a = ev
        while a is not None:
            if a.name.startswith("autograd::engine::evaluate_function"):
                part = tracker.part_of_seq(a.sequence_nr)
                break
            if a.name.startswith("part:"):
                part = a.name[5:]
                break
            a = a.cpu_parent
        out[part] += ev.self_cpu_time_total / 1e6
    return out


def build(preset: str, method: str, args: argparse.Namespace) -> tuple[Any, list[dict], Any]:
    """A trainer of ``{preset}-{method}`` on random faces, its 4 batches, and its temporary folder."""
    from secgan.auxiliary.parser import FrozenParser
    from secgan.config import apply_overrides, load_config
    from secgan.models.bisenet import BiSeNet
    from secgan.training.networks import config_attributes
    from secgan.training.trainer import Trainer

    cfg = load_config(f"{preset}-{method}")
    over = ["data.num_workers=0", "log.tensorboard=false", "log.n_samples=1", *args.set]
    width, psize = PARSERS["synthetic" if preset.startswith("synthetic") else "default"]
    if args.dry_run:
        over += [
            "data.image_size=32",
            "train.batch_size=4",
            *TINY["common"],
            *TINY.get(cfg.model.backbone, []),
        ]
        width, psize = 8, 32
    cfg = apply_overrides(cfg, over)
    bs, side = cfg.train.batch_size, cfg.data.image_size
    ds = RandomFaces(bs * 4, side, config_attributes(cfg), onehot=cfg.loss.cls_loss == "ce")
    parser = None
    if method == "secgan":
        torch.manual_seed(0)
        parser = FrozenParser(BiSeNet(base_width=width), input_size=psize or side)
    tmp = tempfile.TemporaryDirectory()
    tr = Trainer(cfg, tmp.name, dataset=ds, parser=parser, progress=False)
    keys = ("image", "label", "mask")
    batches = [
        {k: torch.stack([ds[j][k] for j in range(i * bs, (i + 1) * bs)]) for k in keys} for i in range(4)
    ]
    return tr, batches, tmp


class Run:
    """One configuration: its trainer, instrumented step and step counter."""

    def __init__(self, preset: str, method: str, args: argparse.Namespace) -> None:
        self.preset, self.method = preset, method
        self.tr, self.batches, self._tmp = build(preset, method, args)
        self.tracker = PartTracker()
        self.step_fn = instrument(self.tr, self.tracker)
        self.n_critic = self.tr.cfg.train.n_critic
        self.i = 0
        self.cycle_s: list[float] = []

    def cycle(self) -> float:
        """One ``n_critic`` cycle (critic steps, the last with the generator update); its wall seconds."""
        self.tracker.reset()
        t0 = time.perf_counter()
        for _ in range(self.n_critic):
            self.i += 1
            self.step_fn(self.i, self.batches[self.i % 4])
        return time.perf_counter() - t0

    def flops(self) -> dict[str, int]:
        counter = PartFlopCounter(self.tracker)
        with counter:
            self.cycle()
        return {p: int(counter.by_part.get(p, 0)) for p in PARTS}

    def times(self, cycles: int = 1) -> dict[str, float]:
        """Profiled seconds per part, summed over ``cycles`` cycles (each attributed on its own)."""
        total: dict[str, float] = defaultdict(float)
        for _ in range(cycles):
            with profile(activities=[ProfilerActivity.CPU]) as prof:
                self.cycle()
            for part, sec in part_times(prof, self.tracker).items():
                total[part] += sec / cycles
        return dict(total)


def _shares(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values()) or 1.0
    return {k: round(v / total, 4) for k, v in values.items()}


def profile_preset(preset: str, methods: list[str], args: argparse.Namespace) -> dict:
    """Every method of one preset: parts' FLOPs and times, interleaved cycle timings, the ratios."""
    runs = {m: Run(preset, m, args) for m in methods}
    for r in runs.values() if not args.dry_run else ():  # warm-up: allocations, oneDNN primitive caches
        r.cycle()
    for _ in range(args.reps):
        for r in runs.values():
            r.cycle_s.append(r.cycle())
    out: dict[str, Any] = {"preset": preset, "methods": {}}
    for m, r in runs.items():
        flops = r.flops()
        times = r.times(args.profile_cycles)
        per_iter = statistics.median(r.cycle_s) / r.n_critic
        cfg = r.tr.cfg
        out["methods"][m] = {
            "backbone": cfg.model.backbone,
            "image_size": cfg.data.image_size,
            "batch_size": cfg.train.batch_size,
            "n_critic": r.n_critic,
            "amp": bool(cfg.train.amp),
            "parser": None
            if r.tr.parser is None
            else {
                "width": r.tr.parser.net.base_width if hasattr(r.tr.parser.net, "base_width") else None,
                "input_size": r.tr.parser.input_size,
            },
            "step_s": round(per_iter, 5),
            "step_s_cycles": [round(c / r.n_critic, 5) for c in r.cycle_s],
            "gflop_per_iter": round(sum(flops.values()) / r.n_critic / 1e9, 4),
            "gflop_per_iter_parts": {p: round(v / r.n_critic / 1e9, 4) for p, v in flops.items()},
            "flop_share": _shares({p: float(v) for p, v in flops.items()}),
            "profiled_s_parts": {p: round(times.get(p, 0.0) / r.n_critic, 5) for p in PARTS},
            "time_share": _shares({p: times.get(p, 0.0) for p in PARTS}),
        }
    if "baseline" in out["methods"] and "secgan" in out["methods"]:
        out["secgan_over_baseline"] = ratios(out["methods"])
    return out


def ratios(m: dict[str, dict]) -> dict[str, Any]:
    """SeCGAN / Baseline: the wall-time ratio (medians, and round by round), the FLOP ratio, their quotient,
    and the same in RGB-branch units (each method's profiled time over its own G_rgb + D_rgb time, which
    computes the same in both methods: a load that differs between the profiled cycles cancels)."""
    time_ratio = m["secgan"]["step_s"] / m["baseline"]["step_s"]
    flop_ratio = m["secgan"]["gflop_per_iter"] / m["baseline"]["gflop_per_iter"]
    per_round = [s / b for s, b in zip(m["secgan"]["step_s_cycles"], m["baseline"]["step_s_cycles"])]
    prof = {k: m[k]["profiled_s_parts"] for k in ("baseline", "secgan")}
    units = {k: sum(prof[k].values()) / (prof[k]["G_rgb"] + prof[k]["D_rgb"]) for k in prof}
    rgb_ratio = units["secgan"] / units["baseline"]
    return {
        "time_ratio": round(time_ratio, 3),
        "time_ratio_per_round": [round(x, 3) for x in per_round],
        "flop_ratio": round(flop_ratio, 3),
        "time_over_flop_ratio": round(time_ratio / flop_ratio, 3),
        "time_ratio_rgb_units": round(rgb_ratio, 3),
        "time_over_flop_ratio_rgb_units": round(rgb_ratio / flop_ratio, 3),
        "goal": 1.15,
        "met": time_ratio / flop_ratio <= 1.15,
        "met_rgb_units": rgb_ratio / flop_ratio <= 1.15,
    }


def available_presets(names: list[str]) -> list[str]:
    """The presets of ``names`` whose ``-baseline`` preset exists (a backbone not yet added is skipped)."""
    from secgan.config import load_config
    from secgan.errors import SecganError

    keep = []
    for name in names:
        try:
            load_config(f"{name}-baseline")
        except (SecganError, FileNotFoundError, KeyError, ValueError):
            logging.getLogger(__name__).warning("preset %s-baseline not found: skipped", name)
            continue
        keep.append(name)
    return keep


def table(results: list[dict]) -> str:
    """Markdown: per preset and method each part's FLOP share and time share (%), then the ratios."""
    lines = []
    for res in results:
        for pre in res["presets"]:
            m = pre["methods"]
            head = " | ".join(f"{k} FLOP % | {k} time %" for k in m)
            lines += [f"**{pre['preset']}**", "", f"| part | {head} |", "|---" * (1 + 2 * len(m)) + "|"]
            for part in PARTS:
                cells = [(m[k]["flop_share"][part], m[k]["time_share"][part]) for k in m]
                if any(f or t >= 0.0005 for f, t in cells):
                    lines.append(
                        f"| {part} | " + " | ".join(f"{100 * f:.1f} | {100 * t:.1f}" for f, t in cells) + " |"
                    )
            lines.append("| per iteration: GFLOP, wall s | " + " | ".join(
                f"{m[k]['gflop_per_iter']:.2f} | {m[k]['step_s']:.3f} s" for k in m) + " |")  # fmt: skip
            if "baseline" in m and "secgan" in m:
                r = ratios(m)
                lines += ["", f"SeCGAN / Baseline: time {r['time_ratio']} (per round {r['time_ratio_per_round']}), "
                          f"FLOPs {r['flop_ratio']}, time / FLOP ratio {r['time_over_flop_ratio']}; in RGB-branch "
                          f"units time {r['time_ratio_rgb_units']}, time / FLOP ratio "
                          f"{r['time_over_flop_ratio_rgb_units']}"]  # fmt: skip
            lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", default=DEFAULT_PRESETS, help="comma-separated, without the -{method} suffix")
    p.add_argument("--methods", default="baseline,secgan", help="comma-separated: baseline, concat, secgan")
    p.add_argument("--reps", type=int, default=3, help="interleaved timing rounds (one n_critic cycle each)")
    p.add_argument(
        "--profile-cycles", type=int, default=1, help="profiled cycles per method (times averaged)"
    )
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (fixed: shared machines)")
    p.add_argument("--set", action="append", default=[], help="extra config overrides key=value")
    p.add_argument("--dry-run", action="store_true", help="width-8 networks at 32 px, batch 4 (code paths)")
    p.add_argument("--table", nargs="+", metavar="JSON", help="print the Markdown tables of saved results")
    args = p.parse_args(argv)
    if args.table:
        sys.stdout.write(table([json.loads(Path(f).read_text()) for f in args.table]) + "\n")
        return 0
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    presets = available_presets([s.strip() for s in args.presets.split(",") if s.strip()])
    methods = [s.strip() for s in args.methods.split(",") if s.strip()]
    result = {
        "benchmark": "iteration_profile",
        "torch": torch.__version__,
        "threads": args.threads,
        "load_average": list(os.getloadavg()),
        "dry_run": args.dry_run,
        "overrides": args.set,
        "presets": [profile_preset(pr, methods, args) for pr in presets],
    }
    result["load_average_after"] = list(os.getloadavg())
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
