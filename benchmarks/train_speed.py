"""Training speed of SeCGAN vs its baseline per preset: it/s, images/s, peak memory and the projected wall
time of the paper's schedule, as JSON.

    python benchmarks/train_speed.py                                   # both backbones, 64 px, CPU (~2 min)
    python benchmarks/train_speed.py --backbones stargan --sizes 32,64 --iters 20
    python benchmarks/train_speed.py --presets celeba-stargan-128,celebahq-stargan-256 --device cuda \\
        --precision bf16 --channels-last --iters 100 --max-seconds 10 --methods baseline,secgan

A preset is named without its ``-{method}`` suffix (``--presets``, or ``--preset`` with ``{backbone}``
replaced by each of ``--backbones``). An iteration is one critic step (paper Algorithm 1); the timed window
is a whole number of ``n_critic`` cycles, so it holds the generator updates in their true proportion
(``--max-seconds`` ends it early, still on a whole cycle). Data are random in-memory tensors (images,
labels and 12-segment source masks, as read from the parser's mask cache), so the figures are the training
computation itself. secgan runs the real frozen BiSeNet parser (randomly initialised, same cost as a
trained one) on G_rgb's output (eqs. 11/12); ``secgan-nocache`` also parses every source image on the fly,
as a run without the parser's mask cache does.

Each configuration runs in its own process (``--no-isolate``: all in this one), so its ``peak_memory``
(``rss_mib``: peak resident set size; on CUDA also ``cuda_max_allocated_gib`` over the training steps) is
its own. ``--threads`` (default 1 on CPU) fixes torch's intra-op threads: on a shared machine spinning
OpenMP threads make small convolutions many times slower. ``--tiny`` shrinks every network to width 8 at
32 px (dry runs of the GPU suite: the code paths, not the figures).
"""

from __future__ import annotations

import argparse
import gc
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
# --tiny: width-8 networks at 32 px (as tests/training/secgan_train_toys.tiny_config), per backbone.
TINY = {
    "common": ["model.g_conv_dim=8", "model.d_conv_dim=8", "model.d_n_layers=3"],
    "stargan": ["model.g_n_res=1"],
    "attgan": ["model.g_n_layers=3", "model.g_max_dim=32", "model.d_fc_dim=16", "model.d_max_dim=32"],
}


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


def _overrides(args: argparse.Namespace, backbone: str, size: int | None) -> list[str]:
    over = ["data.num_workers=0", "log.tensorboard=false", "log.n_samples=1"]
    if args.tiny:
        over += TINY["common"] + TINY.get(backbone, [])
    if size:
        over.append(f"data.image_size={size}")
    if args.batch:
        over.append(f"train.batch_size={args.batch}")
    if args.precision == "bf16":
        over.append("train.amp=true")
    if args.channels_last:
        over.append("train.channels_last=true")
    if args.compile:
        over.append("train.compile=true")
    return over + list(args.set)


def _free_cuda(device: torch.device) -> float:
    """Release what earlier configurations left (``--no-isolate``) and reset the peak; returns the GiB
    still allocated (0 in a fresh process)."""
    gc.collect()
    torch.cuda.synchronize(device)
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(device)
    return round(torch.cuda.memory_allocated(device) / 2**30, 3)


def bench_one(args: argparse.Namespace, preset: str, size: int | None, mode: str) -> dict:
    """Time up to ``args.iters`` training iterations of one configuration; returns its figures."""
    from secgan.auxiliary.parser import FrozenParser
    from secgan.config import apply_overrides, load_config
    from secgan.models.bisenet import BiSeNet
    from secgan.training import setup as training_setup
    from secgan.training.networks import config_attributes
    from secgan.training.trainer import Trainer

    training_setup.COMPILE_BACKEND = args.compile_backend
    device = torch.device(args.device)
    train_mode = "secgan" if mode == "secgan-nocache" else mode
    cfg = load_config(f"{preset}-{train_mode}")
    cfg = apply_overrides(cfg, _overrides(args, cfg.model.backbone, size))
    n_critic = cfg.train.n_critic
    cycles = max(1, args.iters // n_critic)
    warmup = max(1, args.warmup) * n_critic
    bs, side = cfg.train.batch_size, cfg.data.image_size
    with_masks = mode != "secgan-nocache"
    ds = RandomFaces(bs * 4, side, config_attributes(cfg), onehot=cfg.loss.cls_loss == "ce", masks=with_masks)
    cuda_at_start = _free_cuda(device) if device.type == "cuda" else None
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

        def sync() -> None:
            if device.type == "cuda":
                torch.cuda.synchronize(device)

        t0 = time.perf_counter()
        for step in range(1, warmup + 1):
            tr.train_step(step, batches[step % 4])
        sync()
        warm_s = time.perf_counter() - t0
        step = warmup
        t0 = time.perf_counter()
        for cycle in range(cycles):
            for _ in range(n_critic):
                step += 1
                tr.train_step(step, batches[step % 4])
            if args.max_seconds and cycle + 1 < cycles:
                sync()
                if time.perf_counter() - t0 >= args.max_seconds:
                    break
        sync()
        dt = time.perf_counter() - t0
        iters = step - warmup
        return {
            "preset": preset,
            "backbone": cfg.model.backbone,
            "image_size": side,
            "mode": mode,
            "batch_size": bs,
            "paper_iterations": cfg.train.iterations,
            "it_per_s": round(iters / dt, 3),
            "img_per_s": round(iters * bs / dt, 2),
            "s_per_iter": round(dt / iters, 5),
            "iters_timed": iters,
            "warmup_iters": warmup,
            "warmup_s": round(warm_s, 3),
            "params": tr.param_counts(),
            "peak_memory": {
                "rss_at_start_mib": rss_start,
                **({"cuda_allocated_at_start_gib": cuda_at_start} if cuda_at_start is not None else {}),
                **peak_memory(device),
            },
        }


def _run_isolated(argv: list[str], preset: str, size: int | None, mode: str) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv, "--only", f"{preset}:{size or 0}:{mode}"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"{preset} {size} {mode}: the benchmark process failed ({proc.returncode})")
    return json.loads(proc.stdout)


def _peak(run: dict) -> tuple[float, str]:
    pm = run["peak_memory"]
    if "cuda_max_allocated_gib" in pm:
        return pm["cuda_max_allocated_gib"], "cuda_max_allocated_gib"
    return pm["rss_mib"], "rss_mib"


def summarize(runs: list[dict]) -> dict[str, dict]:
    """Per preset (``name`` or ``name@size``): it/s, img/s and peak memory per method, the SeCGAN/Baseline
    time ratio, the peak-memory ratio, and the projected hours of the preset's schedule per method."""
    out: dict[str, dict] = {}
    for r in runs:
        key = r["preset"] if r.get("size_override") is None else f"{r['preset']}@{r['image_size']}"
        fig = out.setdefault(
            key,
            {
                "image_size": r["image_size"],
                "batch_size": r["batch_size"],
                "paper_iterations": 0,
                "methods": {},
            },
        )
        peak, basis = _peak(r)
        fig["methods"][r["mode"]] = {"it_per_s": r["it_per_s"], "img_per_s": r["img_per_s"], "peak": peak}
        fig["peak_basis"] = basis
        fig["paper_iterations"] = r["paper_iterations"]
    for fig in out.values():
        m = fig["methods"]
        fig["projected_hours"] = {
            k: round(fig["paper_iterations"] / v["it_per_s"] / 3600, 3) for k, v in m.items() if v["it_per_s"]
        }
        if "baseline" in m and "secgan" in m:
            fig["secgan_over_baseline"] = round(m["baseline"]["it_per_s"] / m["secgan"]["it_per_s"], 3)
            fig["peak_memory_ratio"] = round(m["secgan"]["peak"] / max(m["baseline"]["peak"], 1e-9), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--preset",
        default="synthetic-{backbone}-64",
        help="preset name without the -{method} suffix; {backbone} is replaced (default synthetic-{backbone}-64)",
    )
    p.add_argument("--backbones", default="stargan,attgan", help="comma-separated: stargan, attgan")
    p.add_argument(
        "--presets", default="", help="comma-separated preset names (replaces --preset/--backbones)"
    )
    p.add_argument("--sizes", default="", help="comma-separated image sides (default: the preset's)")
    p.add_argument(
        "--methods",
        "--modes",
        dest="modes",
        default="baseline,secgan",
        help=f"comma-separated: {', '.join(MODES)}",
    )
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    p.add_argument("--precision", default="fp32", choices=("fp32", "bf16"), help="bf16: train.amp autocast")
    p.add_argument("--amp", action="store_true", help="same as --precision bf16")
    p.add_argument("--channels-last", action="store_true", help="train.channels_last")
    p.add_argument("--compile", action="store_true", help="train.compile (torch.compile; slow warm-up)")
    p.add_argument(
        "--compile-backend", default="inductor", help="torch.compile backend (aot_eager: dry runs)"
    )
    p.add_argument(
        "--iters", type=int, default=10, help="timed iterations (rounded to whole n_critic cycles)"
    )
    p.add_argument(
        "--max-seconds", type=float, default=0, help="end the timed window after this long (0: no cap)"
    )
    p.add_argument("--warmup", type=int, default=1, help="warm-up n_critic cycles")
    p.add_argument("--batch", type=int, help="override train.batch_size")
    p.add_argument("--parser-width", type=int, default=64, help="BiSeNet width (64 = the paper's parser)")
    p.add_argument("--parser-size", type=int, help="parser input side (default: the image size)")
    p.add_argument("--tiny", action="store_true", help="width-8 networks, 32 px, batch 4 (dry runs)")
    p.add_argument(
        "--threads", type=int, default=1, help="torch intra-op threads on CPU (0: torch's default)"
    )
    p.add_argument("--no-isolate", action="store_true", help="run every configuration in this process")
    p.add_argument("--set", action="append", default=[], help="extra config overrides key=value")
    p.add_argument("--only", help=argparse.SUPPRESS)  # PRESET:SIZE:MODE, used by the isolated runs
    args = p.parse_args(argv)
    if args.amp:
        args.precision = "bf16"
    if args.tiny:
        args.parser_width = 8
        args.sizes = args.sizes or "32"
        args.batch = args.batch or 4
    logging.basicConfig(level=logging.WARNING)
    if args.threads and args.device == "cpu":
        torch.set_num_threads(args.threads)
    if args.device == "cuda":
        if not torch.cuda.is_available():
            p.error("--device cuda: CUDA is not available")
        torch.backends.cudnn.benchmark = True
    if args.only:
        preset, size, mode = args.only.rsplit(":", 2)
        run = bench_one(args, preset, int(size) or None, mode)
        run["size_override"] = int(size) or None
        sys.stdout.write(json.dumps(run) + "\n")
        return 0
    if args.presets:
        presets = [s.strip() for s in args.presets.split(",") if s.strip()]
    else:
        backbones = [b.strip() for b in args.backbones.split(",") if b.strip()]
        presets = [args.preset.format(backbone=b) for b in backbones]
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] or [None]
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in MODES]
    if unknown:
        p.error(f"unknown method(s) {unknown}; valid: {', '.join(MODES)}")
    runs = []
    for preset in presets:
        for size in sizes:
            for mode in modes:
                if args.no_isolate:
                    runs.append({**bench_one(args, preset, size, mode), "size_override": size})
                else:
                    runs.append(_run_isolated(argv, preset, size, mode))
    cuda = args.device == "cuda"
    result = {
        "benchmark": "train_speed",
        "presets": presets,
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "precision": args.precision,
        "channels_last": args.channels_last,
        "compile": args.compile,
        "compile_backend": args.compile_backend if args.compile else None,
        "tiny": args.tiny,
        "threads": args.threads if not cuda else None,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "summary": summarize(runs),
        "runs": runs,
    }
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
