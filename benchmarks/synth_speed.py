"""Speed of ``secgan synth``: wall and CPU seconds to render N faces, with and without the counterfactuals
of the test split. Prints one JSON object.

CPU seconds (this process + its workers, from ``getrusage``) say more than wall time on a shared machine.

    python benchmarks/synth_speed.py --num 2000 --workers 2
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from secgan.data.synthetic.counterfactual import render_counterfactuals  # noqa: F401  (torch import)
    from secgan.data.synthetic.writer import write_dataset

    runs = {}
    for name, cf in (("without_counterfactuals", False), ("with_counterfactuals", True)):
        out = Path(tempfile.mkdtemp(prefix="synth_speed_"))
        try:
            c0, t0 = _cpu(), time.perf_counter()
            s = write_dataset(
                out, args.num, seed=args.seed, workers=args.workers, progress=False, counterfactuals=cf
            )
            runs[name] = {
                "seconds": round(time.perf_counter() - t0, 2),
                "cpu_seconds": round(_cpu() - c0, 2),
                "counterfactuals": s["counterfactuals"],
            }
        finally:
            shutil.rmtree(out, ignore_errors=True)
    base, full = runs["without_counterfactuals"], runs["with_counterfactuals"]
    print(
        json.dumps(
            {
                "num": args.num,
                "workers": args.workers,
                "runs": runs,
                "cpu_ratio": round(full["cpu_seconds"] / max(base["cpu_seconds"], 1e-9), 3),
                "cpu_ms_per_face": round(1000 * full["cpu_seconds"] / args.num, 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
