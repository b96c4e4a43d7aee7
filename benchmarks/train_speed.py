"""Training speed of SeCGAN vs its baseline: seconds per iteration and images/s, printed as JSON.

    python benchmarks/train_speed.py                         # small synthetic preset on CPU (~1-2 min)
    python benchmarks/train_speed.py --preset celeba-stargan-128 --device cuda --amp --iters 50

An iteration is one critic step (paper Algorithm 1); the timed window is a whole number of n_critic
cycles, so it holds the generator updates in their true proportion. Data are random in-memory tensors
(images, labels and 12-segment source masks, as read from the parser's mask cache), so the figures are the
training computation itself; secgan mode runs the real frozen BiSeNet parser (randomly initialised, same
cost as a trained one) on G_rgb's output for eq. 11/12.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time

import torch
from torch.utils.data import Dataset


class RandomFaces(Dataset):
    """``n`` random images ``[3, S, S]`` in [-1, 1], random {0,1} labels and 12-segment masks."""

    def __init__(self, n: int, size: int, attributes: list[str], seed: int = 0, onehot: bool = False) -> None:
        g = torch.Generator().manual_seed(seed)
        self.attributes = list(attributes)
        self.images = torch.rand(n, 3, size, size, generator=g) * 2 - 1
        if onehot:
            self._labels = torch.eye(len(attributes))[torch.randint(0, len(attributes), (n,), generator=g)]
        else:
            self._labels = (torch.rand(n, len(attributes), generator=g) > 0.5).float()
        self.masks = torch.randint(0, 12, (n, size, size), generator=g)
        self.names = [str(i) for i in range(n)]
        self.has_masks = True

    @property
    def labels(self) -> torch.Tensor:
        return self._labels

    def __len__(self) -> int:
        return len(self.names)

    def __getitem__(self, i: int) -> dict:
        return {
            "image": self.images[i],
            "label": self._labels[i],
            "index": i,
            "name": self.names[i],
            "mask": self.masks[i],
        }


def bench_mode(args: argparse.Namespace, mode: str, device: torch.device) -> dict:
    from secgan.auxiliary.parser import FrozenParser
    from secgan.config import apply_overrides, load_config
    from secgan.models.bisenet import BiSeNet
    from secgan.training.networks import config_attributes
    from secgan.training.trainer import Trainer

    cfg = load_config(f"{args.preset}-{mode}")
    over = ["data.num_workers=0", "log.tensorboard=false", "log.n_samples=1"]
    if args.batch:
        over.append(f"train.batch_size={args.batch}")
    if args.amp:
        over.append("train.amp=true")
    if args.channels_last:
        over.append("train.channels_last=true")
    cfg = apply_overrides(cfg, over + list(args.set))
    n_critic = cfg.train.n_critic
    iters = max(n_critic, (args.iters // n_critic) * n_critic)
    warmup = max(1, args.warmup) * n_critic
    bs = cfg.train.batch_size
    ds = RandomFaces(bs * 4, cfg.data.image_size, config_attributes(cfg), onehot=cfg.loss.cls_loss == "ce")
    parser = None
    if mode == "secgan":
        torch.manual_seed(0)
        parser = FrozenParser(
            BiSeNet(base_width=args.parser_width), input_size=args.parser_size or cfg.data.image_size
        )
        parser.to(device)
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, tmp, device=device, dataset=ds, parser=parser, progress=False)
        batches = [
            {
                k: torch.stack([ds[j][k] for j in range(i * bs, (i + 1) * bs)])
                for k in ("image", "label", "mask")
            }
            for i in range(4)
        ]
        if device.type == "cuda":
            batches = [{k: v.pin_memory() for k, v in b.items()} for b in batches]
            torch.cuda.reset_peak_memory_stats(device)

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        for step in range(1, warmup + 1):
            tr.train_step(step, batches[step % 4])
        sync()
        t0 = time.perf_counter()
        for step in range(warmup + 1, warmup + iters + 1):
            tr.train_step(step, batches[step % 4])
        sync()
        dt = time.perf_counter() - t0
        out = {
            "s_per_iter": round(dt / iters, 5),
            "img_per_s": round(iters * bs / dt, 2),
            "iters_timed": iters,
            "params": tr.param_counts(),
        }
        if device.type == "cuda":
            out["peak_mem_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 3)
        return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="synthetic-stargan-64", help="preset name without the -{mode} suffix")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--amp", action="store_true", help="bf16 autocast")
    p.add_argument("--channels-last", action="store_true")
    p.add_argument(
        "--iters", type=int, default=10, help="timed iterations (rounded to whole n_critic cycles)"
    )
    p.add_argument("--warmup", type=int, default=1, help="warm-up n_critic cycles")
    p.add_argument("--batch", type=int, help="override train.batch_size")
    p.add_argument("--parser-width", type=int, default=64, help="BiSeNet width (64 = the paper's parser)")
    p.add_argument("--parser-size", type=int, help="parser input side (default: the image size)")
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads on CPU (default 1: stable figures on a shared machine, where OpenMP "
        "threads spinning against other jobs make small convolutions many times slower)",
    )
    p.add_argument("--modes", default="baseline,secgan")
    p.add_argument("--set", action="append", default=[], help="extra config overrides key=value")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.threads and args.device == "cpu":
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    result: dict = {
        "preset": args.preset,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "amp": args.amp,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    for mode in modes:
        result[mode] = bench_mode(args, mode, device)
    if "baseline" in result and "secgan" in result:
        result["ratio_secgan_over_baseline"] = round(
            result["secgan"]["s_per_iter"] / result["baseline"]["s_per_iter"], 3
        )
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
