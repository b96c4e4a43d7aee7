"""``secgan train``: train SeCGAN (or a baseline) from a preset or a YAML config into a run folder.

Also the entry point of distributed training: ``torchrun --nproc_per_node=K -m secgan train ...`` starts
one process per device; each joins the process group from torchrun's environment variables
(``train.batch_size`` is the global batch, split over the processes). Several nodes, e.g. under SLURM with
one task per node and the run folder on a shared filesystem::

    srun torchrun --nnodes=$SLURM_NNODES --nproc_per_node=4 --rdzv_backend=c10d \
        --rdzv_endpoint=$(scontrol show hostnames $SLURM_JOB_NODELIST | head -n1):29500 \
        -m secgan train --config celeba-stargan-128-secgan --data DIR --parser P_DIR --out RUN_DIR
"""

from __future__ import annotations

import argparse
import json
import logging

from secgan.cli.common import add_device_argument, print_json, resolve_device

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    from secgan.config import preset_names

    p = subparsers.add_parser(
        "train",
        help="train SeCGAN / a baseline (Algorithm 1) into a run folder",
        description=(
            "Train from a preset (e.g. celeba-stargan-128-secgan) or a YAML file into a run folder "
            "(checkpoints/, export/, stats.jsonl). Multi-GPU / multi-node: torchrun --nproc_per_node=K -m "
            "secgan train ...\nPresets (--config NAME): " + ", ".join(preset_names()) + "."
        ),
    )
    p.add_argument("--config", help="preset name (listed above) or YAML/JSON path (optional with --resume)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.iterations=40 (repeatable)",
    )
    p.add_argument("--data", help="dataset folder (sets data.root)")
    p.add_argument("--parser", help="parser folder P_DIR (sets parser.dir)")
    p.add_argument("--out", help="run folder")
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument(
        "--allow-changes",
        action="store_true",
        help="with --resume: accept safe changes to the run's configuration (more iterations, logging and "
        "checkpoint cadence, workers, data location); others are always refused",
    )
    p.add_argument("--dry-run", action="store_true", help="print the resolved config and parameter counts")
    add_device_argument(p)
    p.add_argument("--amp", action="store_true", help="bf16 autocast (sets train.amp=true)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def resolve_config(args: argparse.Namespace):
    """The configuration of this invocation: the run's saved config.json on --resume (when present),
    else --config; then --data/--parser/--amp and the --set overrides."""
    from pathlib import Path

    from secgan.config import apply_overrides, from_dict, load_config
    from secgan.errors import ConfigError

    saved = Path(args.out) / "config.json" if args.out else None
    if args.resume and saved is not None and saved.is_file():
        try:
            cfg = from_dict(json.loads(saved.read_text()))
        except json.JSONDecodeError as err:
            raise ConfigError(f"cannot read {saved}: {err}") from err
        if args.config:
            log.info("--resume: using the run's own %s (--config %s is not re-read)", saved, args.config)
    elif args.config:
        cfg = load_config(args.config)
    else:
        raise ConfigError(
            "--config PRESET_OR_YAML is required (or --resume with a run folder holding config.json)"
        )
    extra = []
    if args.data:
        extra.append(f"data.root={args.data}")
    if args.parser:
        extra.append(f"parser.dir={args.parser}")
    if args.amp:
        extra.append("train.amp=true")
    return apply_overrides(cfg, [*extra, *args.overrides])


def run(args: argparse.Namespace) -> int:
    from secgan.config import to_dict
    from secgan.errors import ConfigError

    cfg = resolve_config(args)
    if args.dry_run:
        from secgan.training.networks import build_networks, parameter_counts

        params = parameter_counts(build_networks(cfg))
        out = {
            "config": to_dict(cfg),
            "params": params,
            "params_millions": {k: round(v / 1e6, 2) for k, v in params.items()},
        }
        print_json(out)
        return 0
    if not args.out:
        raise ConfigError("--out RUN_DIR is required")

    import contextlib
    import os

    from secgan.training import distributed
    from secgan.training.run_lock import RunLock, check_out_dir
    from secgan.training.trainer import Trainer

    # The main process (rank 0 under torchrun) owns the folder: refuse a folder of the user's, and hold the
    # run's lock before anything is read, cleaned or written there (a second trainer stops here).
    lock: contextlib.AbstractContextManager = contextlib.nullcontext()
    if int(os.environ.get("RANK", "0")) == 0:
        check_out_dir(args.out)
        lock = RunLock(args.out)
    with lock:
        info, dev = distributed.init_distributed(resolve_device(args.device))
        if not info.is_main:
            logging.getLogger().setLevel(logging.WARNING)
        try:
            trainer = Trainer(
                cfg,
                args.out,
                device=dev,
                resume=args.resume,
                dist_info=info,
                progress=not args.no_progress,
                allow_changes=args.allow_changes,
            )
            summary = trainer.train()
        finally:
            distributed.shutdown()
    if info.is_main:
        summary["params"] = trainer.param_counts()
        print_json(summary)
    if summary["interrupted"]:
        return 128 + int(trainer.stop_signal or 2)
    return 0
