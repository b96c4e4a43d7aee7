"""Our StarGAN Baseline against the official StarGAN code, one training cycle each in turn, as JSON.

    python benchmarks/official_stargan_speed.py --official-dir /tmp/stargan   # 128 px, fp32, batch 16
    python benchmarks/official_stargan_speed.py --official-dir DIR --reps 5 --set train.channels_last=true

``--official-dir`` holds ``model.py`` and ``solver.py`` of github.com/yunjey/stargan (nothing of it is
part of this repository). Its ``Solver.train`` runs unchanged for ``n_critic`` iterations per call (one
cycle: ``n_critic`` critic updates, the last with the generator update), on random in-memory batches, with
its logging, sampling, checkpointing and learning-rate decay steps set beyond the cycle. Ours is
``Trainer.train_step`` of ``celeba-stargan-128-baseline`` (the same networks: conv_dim 64, 6 residual
blocks, a 6-layer critic, 13 attributes, batch 16, n_critic 5, Adam, float32) on the same kind of batches,
with the loop's learning-rate setting and NaN check. The two alternate cycle by cycle in this one process
(``--reps`` rounds, after one warm-up cycle each), so both see the same load; ``speedup`` is the median
official time per iteration over ours. FLOPs of one cycle each are counted with
``torch.utils.flop_counter.FlopCounterMode`` (``iteration_profile.PartFlopCounter``).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from iteration_profile import PartFlopCounter, PartTracker  # noqa: E402
from train_speed import TINY, RandomFaces  # noqa: E402

PRESET = "celeba-stargan-128-baseline"


def official_solver(official_dir: Path, cfg: Any, n_attrs: int, batches: list[tuple]) -> Any:
    """The official ``Solver`` with the preset's sizes; ``train()`` then runs one ``n_critic`` cycle."""
    sys.path.insert(0, str(official_dir))
    try:
        from solver import Solver  # the official solver.py (imports its model.py)
    finally:
        sys.path.remove(str(official_dir))
    m, t = cfg.model, cfg.train
    never = 10**9
    conf = SimpleNamespace(
        c_dim=n_attrs, c2_dim=8, image_size=cfg.data.image_size, g_conv_dim=m.g_conv_dim,
        d_conv_dim=m.d_conv_dim, g_repeat_num=m.g_n_res, d_repeat_num=m.d_n_layers,
        lambda_cls=cfg.loss.lambda_cls_g, lambda_rec=cfg.loss.lambda_rec, lambda_gp=cfg.loss.lambda_gp,
        dataset="CelebA", batch_size=t.batch_size, num_iters=t.n_critic, num_iters_decay=0, g_lr=t.g_lr,
        d_lr=t.d_lr, n_critic=t.n_critic, beta1=t.beta1, beta2=t.beta2, resume_iters=None,
        selected_attrs=[f"attr{i}" for i in range(n_attrs)], test_iters=None, use_tensorboard=False,
        log_dir=None, sample_dir=None, model_save_dir=None, result_dir=None, log_step=never,
        sample_step=never, model_save_step=never, lr_update_step=never,
    )  # fmt: skip
    with contextlib.redirect_stdout(io.StringIO()):  # it prints its networks
        solver = Solver(batches, None, conf)
    solver.device = torch.device("cpu")
    return solver


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--official-dir", required=True, type=Path, help="folder with the official model.py, solver.py"
    )
    p.add_argument("--reps", type=int, default=3, help="alternating rounds of one cycle each")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    p.add_argument("--set", action="append", default=[], help="overrides of our preset, key=value")
    p.add_argument("--tiny", action="store_true", help="width-8 networks at 32 px, batch 4 (dry runs)")
    args = p.parse_args(argv)
    if not (args.official_dir / "solver.py").is_file() or not (args.official_dir / "model.py").is_file():
        p.error(
            f"--official-dir {args.official_dir}: model.py and solver.py of yunjey/stargan not found there"
        )
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)

    from secgan.config import apply_overrides, load_config
    from secgan.training.networks import config_attributes
    from secgan.training.objective import all_finite
    from secgan.training.trainer import Trainer

    over = ["data.num_workers=0", "log.tensorboard=false", "log.n_samples=1", "data.flip=false", *args.set]
    if args.tiny:
        over += ["data.image_size=32", "train.batch_size=4", *TINY["common"], *TINY["stargan"]]
    cfg = apply_overrides(load_config(PRESET), over)
    attrs = config_attributes(cfg)
    bs, side, n_critic = cfg.train.batch_size, cfg.data.image_size, cfg.train.n_critic
    ds = RandomFaces(bs * 4, side, attrs, masks=False)
    ours_batches = [
        {k: torch.stack([ds[j][k] for j in range(i * bs, (i + 1) * bs)]) for k in ("image", "label")}
        for i in range(4)
    ]
    torch.manual_seed(0)
    solver = official_solver(
        args.official_dir, cfg, len(attrs), [(b["image"], b["label"]) for b in ours_batches]
    )
    tmp = tempfile.TemporaryDirectory()
    tr = Trainer(cfg, tmp.name, dataset=ds, progress=False)
    step = 0

    def ours() -> None:
        nonlocal step
        for _ in range(n_critic):
            step += 1
            tr.set_learning_rates(step)
            all_finite(tr.train_step(step, ours_batches[step % 4]))

    def official() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            solver.train()

    def timed(fn: Any) -> float:
        t0 = time.perf_counter()
        fn()
        return (time.perf_counter() - t0) / n_critic

    flops = {}
    for name, fn in (("official", official), ("ours", ours)):
        counter = PartFlopCounter(PartTracker())
        with counter:
            fn()  # also the warm-up
        flops[name] = round(counter.get_total_flops() / n_critic / 1e9, 3)
    times: dict[str, list[float]] = {"official": [], "ours": []}
    load_before = list(os.getloadavg())
    for _ in range(args.reps):
        times["official"].append(timed(official))
        times["ours"].append(timed(ours))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "benchmark": "official_stargan_speed",
        "preset": PRESET,
        "overrides": args.set,
        "image_size": side,
        "batch_size": bs,
        "n_critic": n_critic,
        "attributes": len(attrs),
        "precision": "bf16" if cfg.train.amp else "fp32",
        "threads": args.threads,
        "torch": torch.__version__,
        "load_average_before": load_before,
        "load_average_after": list(os.getloadavg()),
        "s_per_iter": {k: [round(x, 4) for x in v] for k, v in times.items()},
        "median_s_per_iter": {k: round(v, 4) for k, v in med.items()},
        "gflop_per_iter": flops,
        "speedup": round(med["official"] / med["ours"], 3),
        "speedup_per_round": [round(o / u, 3) for o, u in zip(times["official"], times["ours"])],
        "goal": 1.5,
    }
    result["met"] = result["speedup"] >= 1.5
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
