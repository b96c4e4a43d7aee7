"""Training speed of SeCGAN vs its baseline per backbone and resolution: images/s and peak memory, as JSON.

    python benchmarks/train_speed.py                                   # both backbones, 64 px, CPU (~2 min)
    python benchmarks/train_speed.py --backbones stargan --sizes 32,64 --iters 20
    python benchmarks/train_speed.py --preset 'celeba-{backbone}-128' --device cuda --amp --channels-last \\
        --iters 100 --modes baseline,secgan,secgan-nocache

An iteration is one critic step (paper Algorithm 1); the timed window is a whole number of ``n_critic``
cycles, so it holds the generator updates in their true proportion. Data are random in-memory tensors
(images, labels and 12-segment source masks, as read from the parser's mask cache), so the figures are the
training computation itself. secgan mode runs the real frozen BiSeNet parser (randomly initialised, same
cost as a trained one) on G_rgb's output (eqs. 11/12); ``secgan-nocache`` also parses every source image
on the fly, as a run without the parser's mask cache does.

Each configuration runs in its own process (``--no-isolate``: all in this one), so its ``peak_memory``
(``rss_mib``: peak resident set size; on CUDA also ``cuda_max_allocated_gib`` over the timed steps) is its
own. ``--threads`` (default 1 on CPU) fixes torch's intra-op threads: on a shared machine spinning OpenMP
threads make small convolutions many times slower.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import Dataset

sys.path.insert(0, str(Path(__file__).resolve().parent))
from memory import current_rss_mib, peak_memory  # noqa: E402

MODES = ("baseline", "concat", "secgan", "secgan-nocache")


class RandomFaces(Dataset):
    """``n`` random images ``[3, S, S]`` in [-1, 1], random {0,1} labels and (optionally) 12-segment masks."""

    def __init__(
        self,
        n: int,
        size: int,
        attributes: list[str],
        seed: int = 0,
        onehot: bool = False,
        masks: bool = True,
    ) -> None:
        g = torch.Generator().manual_seed(seed)
        self.attributes = list(attributes)
        self.images = torch.rand(n, 3, size, size, generator=g) * 2 - 1
        if onehot:
            self._labels = torch.eye(len(attributes))[torch.randint(0, len(attributes), (n,), generator=g)]
        else:
            self._labels = (torch.rand(n, len(attributes), generator=g) > 0.5).float()
        self.masks = torch.randint(0, 12, (n, size, size), generator=g) if masks else None
        self.names = [str(i) for i in range(n)]
        self.has_masks = masks

    @property
    def labels(self) -> torch.Tensor:
        return self._labels

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> dict:
        item = {"image": self.images[i], "label": self._labels[i], "index": i, "name": self.names[i]}
        if self.masks is not None:
            item["mask"] = self.masks[i]
        return item


def bench_one(args: argparse.Namespace, backbone: str, size: int | None, mode: str) -> dict:
    """Time ``args.iters`` training iterations of one configuration; returns its figures."""
    from secgan.auxiliary.parser import FrozenParser
    from secgan.config import apply_overrides, load_config
    from secgan.models.bisenet import BiSeNet
    from secgan.training.networks import config_attributes
    from secgan.training.trainer import Trainer

    device = torch.device(args.device)
    train_mode = "secgan" if mode == "secgan-nocache" else mode
    cfg = load_config(f"{args.preset.format(backbone=backbone)}-{train_mode}")
    over = ["data.num_workers=0", "log.tensorboard=false", "log.n_samples=1"]
    if size:
        over.append(f"data.image_size={size}")
    if args.batch:
        over.append(f"train.batch_size={args.batch}")
    if args.amp:
        over.append("train.amp=true")
    if args.channels_last:
        over.append("train.channels_last=true")
    if args.compile:
        over.append("train.compile=true")
    cfg = apply_overrides(cfg, over + list(args.set))
    n_critic = cfg.train.n_critic
    iters = max(n_critic, (args.iters // n_critic) * n_critic)
    warmup = max(1, args.warmup) * n_critic
    bs, side = cfg.train.batch_size, cfg.data.image_size
    with_masks = mode != "secgan-nocache"
    ds = RandomFaces(bs * 4, side, config_attributes(cfg), onehot=cfg.loss.cls_loss == "ce", masks=with_masks)
    parser = None
    if train_mode == "secgan":
        torch.manual_seed(0)
        parser = FrozenParser(BiSeNet(base_width=args.parser_width), input_size=args.parser_size or side)
        parser.to(device)
    rss_start = current_rss_mib()
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, tmp, device=device, dataset=ds, parser=parser, progress=False)
        keys = ("image", "label", "mask") if with_masks else ("image", "label")
        batches = [
            {k: torch.stack([ds[j][k] for j in range(i * bs, (i + 1) * bs)]) for k in keys} for i in range(4)
        ]
        if device.type == "cuda":
            batches = [{k: v.pin_memory() for k, v in b.items()} for b in batches]
            torch.cuda.reset_peak_memory_stats(device)

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        t0 = time.perf_counter()
        for step in range(1, warmup + 1):
            tr.train_step(step, batches[step % 4])
        sync()
        warm_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for step in range(warmup + 1, warmup + iters + 1):
            tr.train_step(step, batches[step % 4])
        sync()
        dt = time.perf_counter() - t0
        return {
            "backbone": backbone,
            "image_size": side,
            "mode": mode,
            "batch_size": bs,
            "s_per_iter": round(dt / iters, 5),
            "img_per_s": round(iters * bs / dt, 2),
            "iters_timed": iters,
            "warmup_s": round(warm_s, 3),
            "params": tr.param_counts(),
            "peak_memory": {"rss_at_start_mib": rss_start, **peak_memory(device)},
        }


def _run_isolated(argv: list[str], backbone: str, size: int | None, mode: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv, "--only", f"{backbone}:{size or 0}:{mode}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{backbone} {size} {mode}: the benchmark process failed ({proc.returncode})")
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--preset",
        default="synthetic-{backbone}-64",
        help="preset name without the -{mode} suffix; {backbone} is replaced (default synthetic-{backbone}-64)",
    )
    p.add_argument("--backbones", default="stargan,attgan", help="comma-separated: stargan, attgan")
    p.add_argument("--sizes", default="", help="comma-separated image sides (default: the preset's)")
    p.add_argument("--modes", default="baseline,secgan", help=f"comma-separated: {', '.join(MODES)}")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--amp", action="store_true", help="bf16 autocast (train.amp)")
    p.add_argument("--channels-last", action="store_true", help="train.channels_last")
    p.add_argument("--compile", action="store_true", help="train.compile (torch.compile; slow warm-up)")
    p.add_argument(
        "--iters", type=int, default=10, help="timed iterations (rounded to whole n_critic cycles)"
    )
    p.add_argument("--warmup", type=int, default=1, help="warm-up n_critic cycles")
    p.add_argument("--batch", type=int, help="override train.batch_size")
    p.add_argument("--parser-width", type=int, default=64, help="BiSeNet width (64 = the paper's parser)")
    p.add_argument("--parser-size", type=int, help="parser input side (default: the image size)")
    p.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads on CPU (0: torch's default)"
    )
    p.add_argument("--no-isolate", action="store_true", help="run every configuration in this process")
    p.add_argument("--set", action="append", default=[], help="extra config overrides key=value")
    p.add_argument("--only", help=argparse.SUPPRESS)  # BACKBONE:SIZE:MODE, used by the isolated runs
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.threads and args.device == "cpu":
        torch.set_num_threads(args.threads)
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
    if args.only:
        backbone, size, mode = args.only.split(":")
        sys.stdout.write(json.dumps(bench_one(args, backbone, int(size) or None, mode)) + "\n")
        return 0
    backbones = [b.strip() for b in args.backbones.split(",") if b.strip()]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] or [None]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        p.error(f"unknown mode(s) {unknown}; valid: {', '.join(MODES)}")
    runs = []
    for backbone in backbones:
        for size in sizes:
            for mode in modes:
                if args.no_isolate:
                    runs.append(bench_one(args, backbone, size, mode))
                else:
                    runs.append(_run_isolated(argv, backbone, size, mode))
    summary: dict = {}
    for r in runs:
        key = f"{r['backbone']}-{r['image_size']}"
        summary.setdefault(key, {})[r["mode"]] = r["img_per_s"]
    for fig in summary.values():
        if "baseline" in fig and "secgan" in fig:
            fig["secgan_time_over_baseline"] = round(fig["baseline"] / fig["secgan"], 3)
    result = {
        "preset": args.preset,
        "device": torch.cuda.get_device_name() if args.device == "cuda" else "cpu",
        "amp": args.amp,
        "channels_last": args.channels_last,
        "compile": args.compile,
        "threads": args.threads if args.device == "cpu" else None,
        "torch": torch.__version__,
        "img_per_s": summary,
        "runs": runs,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
