"""Candidate speed-ups of the training step, each timed against the step without it, as one JSON line.

    python benchmarks/step_candidates.py synthetic-stargan-64 base parser_cl seg_cl both_cl --rounds 5
    python benchmarks/step_candidates.py synthetic-attgan-64 bf16_parser base --rounds 5

A variant is the trainer of ``{preset}-{method}`` (``iteration_profile.build``: random faces, the demo's
parser on the synthetic presets) with one change applied after it is built; nothing it computes changes
beyond floating-point order and precision. The variants run in turn, ``--steps`` training steps each per
round (after two warm-up steps), so they share the machine's load; ``median_ratio_to_first`` is each
variant's median per-round time over the first variant's (< 1: faster). Variants:

- ``base``: the trainer as it is;
- ``bf16_parser``: P's pass on G_rgb's output under the step's autocast again (the code before the float32
  pass of ``objective.float32_pass``; the same as ``base`` where bf16 is native);
- ``parser_cl``: the parser's weights in channels_last (its convolutions follow);
- ``seg_cl``: the semantic branch in channels_last (G_seg, D_seg and the one-hot source masks);
- ``both_cl``: ``parser_cl`` and ``seg_cl``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iteration_profile import build  # noqa: E402

CL = torch.channels_last


def _parser_cl(tr: Any) -> None:
    tr.parser.to(memory_format=CL)


def _seg_cl(tr: Any) -> None:
    for name in ("G_seg", "D_seg"):
        tr.nets[name].to(memory_format=CL)
    prepare = tr.prepare_masks

    def masks_cl(x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        s_lab, s_in = prepare(x, mask)
        return s_lab, s_in.contiguous(memory_format=CL)

    tr.prepare_masks = masks_cl


def _bf16_parser(tr: Any) -> None:
    tr.parser_log_probs = tr.parser.log_probs12


VARIANTS: dict[str, Callable[[Any], None]] = {
    "base": lambda tr: None,
    "bf16_parser": _bf16_parser,
    "parser_cl": _parser_cl,
    "seg_cl": _seg_cl,
    "both_cl": lambda tr: (_parser_cl(tr), _seg_cl(tr)),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("preset", help="without the -{method} suffix, e.g. synthetic-stargan-64")
    p.add_argument("variants", nargs="+", choices=sorted(VARIANTS), help="the first is the reference")
    p.add_argument("--method", default="secgan")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--steps", type=int, default=1, help="training steps per variant and round")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--dry-run", action="store_true", help="width-8 networks at 32 px, batch 4")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    ns = argparse.Namespace(set=[], dry_run=args.dry_run)
    runs: dict[str, dict[str, Any]] = {}
    for name in args.variants:
        tr, batches, tmp = build(args.preset, args.method, ns)
        VARIANTS[name](tr)
        runs[name] = {"tr": tr, "batches": batches, "tmp": tmp, "step": 0, "times": []}

    def steps(run: dict[str, Any], n: int) -> float:
        t0 = time.perf_counter()
        for _ in range(n):
            run["step"] += 1
            run["tr"].train_step(run["step"], run["batches"][run["step"] % 4])
        return (time.perf_counter() - t0) / n

    for run in runs.values():
        steps(run, 2)
    load = [list(os.getloadavg())]
    for _ in range(args.rounds):
        for run in runs.values():
            run["times"].append(steps(run, args.steps))
    load.append(list(os.getloadavg()))
    first = runs[args.variants[0]]["times"]
    per_round = {k: [round(a / b, 3) for a, b in zip(r["times"], first)] for k, r in runs.items()}
    out = {
        "benchmark": "step_candidates",
        "preset": args.preset,
        "method": args.method,
        "load": load,
        "median_s": {k: round(statistics.median(r["times"]), 4) for k, r in runs.items()},
        "ratio_to_first_per_round": per_round,
        "median_ratio_to_first": {k: round(statistics.median(v), 3) for k, v in per_round.items()},
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
