"""The SeCGAN trainer (paper Algorithm 1).

Every iteration ``t`` (1-based, counted in critic steps) takes one global mini-batch and

1. updates ``D_rgb`` (and, in secgan mode, ``D_seg``) with WGAN-GP + attribute classification (eqs. 1, 3,
   6, 8, 13, 15);
2. when ``t % n_critic == 0``, on the same mini-batch, updates ``G_rgb`` and then ``G_seg`` (eqs. 14, 16).
   The two generator losses only meet through ``argmax`` targets (eqs. 11, 12), so the gradient of one
   generator's loss never reaches the other generator: each branch is updated with the other frozen.

Modes: ``baseline`` (RGB branch only), ``concat`` (G_rgb takes ``concat(x_in, s_in)``, no semantic branch)
and ``secgan`` (both branches and the semantic consistency loss). All randomness of a step (flips, target
permutation, gradient-penalty interpolation weights) comes from the run's own generator, drawn for the
global batch and sliced per rank, and the data order is a pure function of ``(seed, step)``, so a resumed
run continues exactly and a K-process run sees the same global batches as a single process.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from secgan.auxiliary.parser.protocol import ParserLike
from secgan.config import Config, to_dict
from secgan.data.masks import NUM_SEGMENTS, one_hot
from secgan.errors import ConfigError
from secgan.models.conditioning import make_condition
from secgan.models.export import ModelCard, generator_input, save_pretrained
from secgan.training import distributed, setup
from secgan.training import objective as obj
from secgan.training.card import run_model_card
from secgan.training.checkpoint import (
    ResumeExpectation,
    TrainingState,
    latest_checkpoint,
    restore_checkpoint,
    save_checkpoint,
)
from secgan.training.data_order import next_batch, shutdown_workers, step_loader
from secgan.training.networks import build_networks, config_attributes, parameter_counts
from secgan.training.objective import Batch, Precision, critic_loss, generator_losses
from secgan.training.resume_check import data_fingerprint
from secgan.training.run_dir import RunDir, environment
from secgan.training.sample_grids import draw_sample_grid, sample_batch, save_png
from secgan.training.schedule import lr_at
from secgan.training.signals import stop_on_signals
from secgan.training.stats_window import StatsWindow, raise_nonfinite, write_log_line
from secgan.utils.seed import seed_everything

log = logging.getLogger(__name__)


class Trainer:
    """Trains one configuration into a run folder.

    Args:
        cfg: the resolved configuration.
        out_dir: the run folder.
        device: ``torch.device`` this process trains on.
        resume: continue from the newest checkpoint in ``out_dir/checkpoints``.
        dataset: a dataset object to use instead of ``build_dataset(cfg.data...)`` (tests); items as in
            ``docs/DESIGN.md``, with ``.labels``, ``.attributes``, ``.names``.
        parser: a frozen parser (:class:`~secgan.auxiliary.parser.protocol.ParserLike`) to use instead of
            loading ``cfg.parser.dir``.
        dist_info: this process's rank and world size (a single process when None).
        progress: show the tqdm bar (main process only).
        allow_changes: on resume, accept the safe configuration changes (:mod:`.resume_check`).
    """

    def __init__(
        self,
        cfg: Config,
        out_dir: str | Path,
        device: torch.device | str = "cpu",
        resume: bool = False,
        dataset: Any = None,
        parser: ParserLike | None = None,
        dist_info: distributed.DistInfo | None = None,
        progress: bool = True,
        allow_changes: bool = False,
    ) -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.dist = dist_info or distributed.DistInfo()
        self.resume = resume
        self.progress = progress
        self.run = RunDir(out_dir, write=self.dist.is_main)
        self.mode = cfg.model.mode
        self.need_mask = self.mode in ("concat", "secgan")
        self.precision = Precision(self.device.type, bool(cfg.train.amp))
        self.memory_format = torch.channels_last if cfg.train.channels_last else torch.contiguous_format
        if cfg.train.batch_size % self.dist.world_size:
            raise ConfigError(
                f"train.batch_size={cfg.train.batch_size} (the global batch) must be divisible by the "
                f"{self.dist.world_size} processes"
            )
        self._stop_signal: int | None = None
        self.step = 0
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick the fastest kernels

        # Networks: the same initial weights on every rank (seeded identically, then broadcast).
        seed_everything(cfg.seed)
        self.attributes = config_attributes(cfg)
        self.parser: ParserLike | None = parser if parser is not None else setup.load_parser(cfg, self.device)
        if self.parser is not None and cfg.train.channels_last:
            # P runs on G_rgb's NHWC output: NHWC weights too, or every conv converts them per call.
            self.parser.to(memory_format=torch.channels_last)
        self.dataset = dataset if dataset is not None else setup.build_dataset(cfg, self.parser)
        self.fingerprint = data_fingerprint(list(self.dataset.names), self.dataset.labels)  # for resume
        setup.check_dataset(cfg, self.dataset, self.parser, self.attributes)
        self.nets = build_networks(cfg, len(self.attributes))
        for net in self.nets.values():
            net.to(self.device, memory_format=self.memory_format)
            net.train()
            distributed.broadcast_module(net)
        self.G_rgb, self.D_rgb = self.nets["G_rgb"], self.nets["D_rgb"]
        self.G_seg, self.D_seg = self.nets.get("G_seg"), self.nets.get("D_seg")
        # The callables of the step's forward passes: the networks themselves, or their compiled forms
        # (sharing the parameters) with train.compile. Checkpoints, samples and exports use self.nets.
        self.fwd: dict[str, Callable[..., Any]] = dict(self.nets)
        self.parser_log_probs = self.parser.log_probs12 if self.parser is not None else None  # eqs. 11-12
        if cfg.train.compile:
            self.fwd, self.parser_log_probs = setup.compile_forwards(self.nets, self.parser, self.mode)
        if self.parser_log_probs is not None and self.precision.amp and not obj.native_bf16(self.device.type):
            # P in float32 where bf16 is emulated: 1.6x faster there, the same function (docs/speed.md)
            self.parser_log_probs = obj.float32_pass(self.parser_log_probs)
        t = cfg.train
        self.opts = {
            name: torch.optim.Adam(
                net.parameters(), lr=t.g_lr if name.startswith("G") else t.d_lr, betas=(t.beta1, t.beta2)
            )
            for name, net in self.nets.items()
        }
        # The run's own random stream: same on every rank (global draws, sliced per rank).
        self.rng = torch.Generator()
        self.rng.manual_seed(cfg.seed)
        # Per-rank stream for anything rank-local (seeds offset by rank).
        seed_everything(cfg.seed + self.dist.rank)
        self.classifier = setup.load_export_classifier(cfg) if self.dist.is_main else None
        self.training_state = TrainingState(self.nets, self.opts, self.rng, global_rng=self.dist.is_main)
        expect = ResumeExpectation(to_dict(cfg), self.fingerprint, len(self.dataset), allow_changes)
        self.step = restore_checkpoint(self.run.checkpoints, self.training_state, expect, resume, self.device)
        self.sample_batch = None
        if self.dist.is_main:
            masks = self._source_masks if self.need_mask else None
            self.sample_batch = sample_batch(self.dataset, cfg.log.n_samples, self.device, masks)

    # -------------------------------------------------------------------------------------- helpers
    def _source_masks(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Source label maps ``[N, S, S]`` (long): the dataset's (cache or ground truth) or the parser's."""
        if mask is not None:
            return mask.to(self.device, non_blocking=True).long()
        if self.parser is None:
            raise ConfigError("source masks are needed but the dataset has none and no parser is configured")
        with torch.no_grad(), self.precision.autocast():
            return self.parser.labels12(x).long()

    def prepare_masks(self, x: torch.Tensor, mask: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """The step's source masks: ``s_lab [n, S, S]`` (long, eq. 10's target) and one-hot ``s_in [n, 12, S, S]``
        (G_seg's and D_seg's input) in the step's memory format."""
        s_lab = self._source_masks(x, mask)
        return s_lab, one_hot(s_lab, NUM_SEGMENTS).to(x.dtype).contiguous(memory_format=self.memory_format)

    def set_learning_rates(self, step: int) -> tuple[float, float]:
        """Apply the schedule of ``step`` to every optimizer; returns ``(lr_G, lr_D)``."""
        t = self.cfg.train
        # final_lr is G's final lr; D decays by the same factor.
        lr_g = lr_at(step, t.g_lr, t.iterations, t.decay_start, t.schedule, t.final_lr)
        d_final = t.final_lr * t.d_lr / t.g_lr if t.g_lr > 0 else t.final_lr
        lr_d = lr_at(step, t.d_lr, t.iterations, t.decay_start, t.schedule, d_final)
        for name, opt in self.opts.items():
            for group in opt.param_groups:
                group["lr"] = lr_g if name.startswith("G") else lr_d
        return lr_g, lr_d

    # -------------------------------------------------------------------------------- one iteration
    def prepare_batch(self, batch: dict) -> Batch:
        """Move a local batch to the device and draw this step's randomness for the *global* batch
        (see :class:`~secgan.training.objective.Batch`)."""
        n = batch["image"].shape[0]
        world, rank = self.dist.world_size, self.dist.rank
        big = n * world
        sl = slice(rank * n, (rank + 1) * n)
        # Fixed draw order: flips, permutation, alpha_rgb, alpha_seg.
        flips = (torch.rand(big, generator=self.rng) < 0.5)[sl] if self.cfg.data.flip else None
        perm = torch.randperm(big, generator=self.rng)
        alpha_rgb = torch.rand(big, generator=self.rng)[sl]
        alpha_seg = torch.rand(big, generator=self.rng)[sl] if self.mode == "secgan" else None

        x = batch["image"].to(self.device, non_blocking=True).float()  # pinned on CUDA: asynchronous
        mask = batch.get("mask")
        if mask is not None:  # to the device as loaded (pinned), flipped there
            mask = mask.to(self.device, non_blocking=True)
        if flips is not None:
            f = flips.to(self.device)
            x = torch.where(f[:, None, None, None], x.flip(-1), x)
            if mask is not None:
                mask = torch.where(f[:, None, None], mask.flip(-1), mask)
        x = x.contiguous(memory_format=self.memory_format)
        y_src = batch["label"].to(self.device, non_blocking=True).float()
        y_trg = distributed.all_gather_rows(y_src)[perm.to(self.device)][sl]
        m = self.cfg.model
        s_lab, s_in = self.prepare_masks(x, mask) if self.need_mask else (None, None)
        return Batch(
            x=x,
            y_src=y_src,
            y_trg=y_trg,
            c=make_condition(y_src, y_trg, m.conditioning, scale=m.target_scale),
            c0=make_condition(y_src, y_src, m.conditioning, scale=m.target_scale),
            alpha_rgb=alpha_rgb,
            alpha_seg=alpha_seg,
            s_lab=s_lab,
            s_in=s_in,
            g_in=generator_input(x, s_in if self.mode == "concat" else None),
        )

    def critic_step(
        self, name: str, real: torch.Tensor, fake: torch.Tensor, y_src: torch.Tensor, alpha: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """One update of critic ``name`` (``"D_rgb"`` or ``"D_seg"``): eq. 13/15, WGAN-GP + classification."""
        net, opt = self.nets[name], self.opts[name]
        obj.requires_grad(net, True)
        loss, stats = critic_loss(
            self.fwd[name], net, real, fake, y_src, alpha, self.cfg.loss, self.precision
        )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        distributed.all_reduce_grads(net)
        opt.step()
        return obj.prefixed(name, stats)

    def generator_losses(self, b: Batch, x_fake: torch.Tensor, s_fake: torch.Tensor | None,
                         s_fake_log: torch.Tensor | None = None):  # fmt: skip
        """:func:`~secgan.training.objective.generator_losses` of this run, with the critics frozen."""
        obj.requires_grad(self.D_rgb, False)
        obj.requires_grad(self.D_seg, False)
        lp = self.parser_log_probs if self.mode == "secgan" else None
        return generator_losses(self.fwd, b, x_fake, s_fake, self.cfg.loss, self.precision, lp, s_fake_log)

    def train_step(self, step: int, batch: dict) -> dict[str, torch.Tensor]:
        """Algorithm 1, one iteration: critics every step, generators when ``step % n_critic == 0``."""
        b = self.prepare_batch(batch)
        g_step = step % self.cfg.train.n_critic == 0
        # The translations are computed once: detached for the critics, with their graph for the
        # generator update of the same step (G does not change in between).
        with torch.set_grad_enabled(g_step), self.precision.autocast():
            x_fake = self.fwd["G_rgb"](b.g_in, b.c)
            s_fake, s_fake_log = (  # G_seg's probabilities and log-probabilities [B, 12, S, S]
                self.fwd["G_seg"](b.s_in, b.c, with_log_probs=True) if self.mode == "secgan" else (None, None)
            )
        if s_fake is not None:  # G_seg's softmax returns NCHW: back to the step's memory format
            s_fake = s_fake.contiguous(memory_format=self.memory_format)
        stats = self.critic_step("D_rgb", b.x, x_fake, b.y_src, b.alpha_rgb)
        if self.mode == "secgan":
            stats.update(self.critic_step("D_seg", b.s_in, s_fake, b.y_src, b.alpha_seg))
        if g_step:
            loss_rgb, st_rgb, loss_seg, st_seg = self.generator_losses(b, x_fake, s_fake, s_fake_log)
            self.opts["G_rgb"].zero_grad(set_to_none=True)
            loss_rgb.backward()
            distributed.all_reduce_grads(self.G_rgb)
            self.opts["G_rgb"].step()
            stats.update(obj.prefixed("G_rgb", st_rgb))
            if loss_seg is not None:
                self.opts["G_seg"].zero_grad(set_to_none=True)
                loss_seg.backward()
                distributed.all_reduce_grads(self.G_seg)
                self.opts["G_seg"].step()
                stats.update(obj.prefixed("G_seg", st_seg))
            obj.requires_grad(self.D_rgb, True)
            obj.requires_grad(self.D_seg, True)
        return stats

    # ------------------------------------------------------------------------------------ samples
    def make_samples(self, step: int) -> Path | None:
        """Write ``samples/step-XXXXXX.png`` (and a TensorBoard image): rows of input | one edit per
        attribute, with the input mask and G_seg's edited masks beneath in secgan mode."""
        if self.sample_batch is None:
            return None
        m = self.cfg.model
        grid = draw_sample_grid(
            self.sample_batch, self.G_rgb, self.G_seg, self.attributes, m.conditioning, m.target_scale,
            concat=self.mode == "concat", onehot=self.cfg.loss.cls_loss == "ce",
        )  # fmt: skip
        path = self.run.samples / f"step-{step:06d}.png"
        save_png(grid, path)
        tb = self.run.tensorboard(self.cfg.log.tensorboard)
        if tb is not None:
            tb.add_image("samples", torch.from_numpy(grid).permute(2, 0, 1), step)
        return path

    # ------------------------------------------------------------------------- checkpoint, export
    def state_dict(self) -> dict[str, Any]:
        return {
            "config": to_dict(self.cfg),
            "attributes": self.attributes,
            **self.training_state.capture(),  # networks, optimizers, rng
            "data": {
                "n_items": len(self.dataset),
                "batch_size": self.cfg.train.batch_size,
                "seed": self.cfg.seed,
                "fingerprint": self.fingerprint,
            },
            "world_size": self.dist.world_size,
        }

    def save(self, step: int, export: bool) -> Path | None:
        """Checkpoint (and optionally export) on the main process; every rank must call this."""
        for net in self.nets.values():
            distributed.average_buffers(net)
        path = None
        if self.dist.is_main:
            path = save_checkpoint(
                self.run.checkpoints, step, self.state_dict(), keep=self.cfg.log.keep_checkpoints
            )
            if export:
                self.export(step)
        distributed.barrier()
        return path

    def model_card(self, step: int) -> ModelCard:
        """The exported model's card (:class:`~secgan.models.export.ModelCard`)."""
        return run_model_card(self.cfg, self.attributes, self.parser, self.classifier, step)

    def export(self, step: int) -> Path:
        """``RUN_DIR/export``: G (G_rgb), G_seg in secgan mode, the parser and classifier when present."""
        nets: dict[str, nn.Module] = {"G": self.G_rgb}
        if self.G_seg is not None:
            nets["G_seg"] = self.G_seg
        if self.parser is not None and hasattr(self.parser, "net"):
            nets["parser"] = self.parser.net
        if self.classifier is not None:
            nets["classifier"] = self.classifier[0]
        return save_pretrained(self.run.export, nets, self.model_card(step))

    # ------------------------------------------------------------------------------------ signals
    def stop(self, signum: int = signal.SIGTERM) -> None:
        """Ask the loop to stop after the current step, with a checkpoint (what SIGINT/SIGTERM do);
        ``signum`` is remembered as :attr:`stop_signal`."""
        self._stop_signal = int(signum)
        log.warning("%s received: stopping after this step with a checkpoint", signal.Signals(signum).name)

    @property
    def stop_signal(self) -> int | None:
        """The signal that stopped (or is stopping) training, ``None`` while it runs on."""
        return self._stop_signal

    def _loader(self, start: int) -> DataLoader:
        return step_loader(
            self.dataset, self.cfg.train.batch_size, self.cfg.seed, start, self.cfg.train.iterations,
            self.dist, self.cfg.data.num_workers, pin_memory=self.device.type == "cuda",
        )  # fmt: skip

    def param_counts(self) -> dict[str, int]:
        return parameter_counts(self.nets)

    def train(self) -> dict[str, Any]:
        """Train from ``self.step`` to ``train.iterations``. Returns a summary dict (``step``,
        ``interrupted``, ``seconds``, ``last_stats``, ``checkpoint``)."""
        from tqdm import tqdm

        cfg = self.cfg
        total = cfg.train.iterations
        start = self.step
        if self.dist.is_main:  # leftovers of a run killed mid-write (they never count as checkpoints)
            self.run.remove_stale_temp()
        split = getattr(self.dataset, "split_info", None)  # a drawn split (RaFD ids): data_split.json
        self.run.create(to_dict(cfg), environment(self.device, self.dist.world_size), start, split)
        tb = self.run.tensorboard(cfg.log.tensorboard, purge_step=start + 1 if start else None)
        if self.dist.is_main:
            log.info(
                "training %s (%s, %s) on %s x%d: steps %d..%d, params %s", cfg.name or "config",
                cfg.model.backbone, self.mode, self.device, self.dist.world_size, start + 1, total,
                self.param_counts(),
            )  # fmt: skip
        bar = tqdm(
            total=total, initial=start, desc="train", unit="it", dynamic_ncols=True,
            disable=not (self.progress and self.dist.is_main),
        )  # fmt: skip
        window = StatsWindow()
        last_stats: dict[str, float] = {}
        last_ckpt: Path | None = latest_checkpoint(self.run.checkpoints) if start else None
        t0 = time.time()
        step = start
        interrupted = False
        with stop_on_signals(self.stop, lambda: self._stop_signal is not None):
            loader_iter = iter(self._loader(start)) if start < total else iter(())
            try:
                for step in range(start + 1, total + 1):
                    batch = next_batch(loader_iter)
                    lr_g, lr_d = self.set_learning_rates(step)
                    stats = self.train_step(step, batch)
                    self.step = step
                    bad = not obj.all_finite(stats)  # the step's one host synchronisation
                    stop_any, bad_any = distributed.agree([self._stop_signal is not None, bad], self.device)
                    if bad_any:
                        raise_nonfinite(step, stats, bad, last_ckpt)
                    window.add(stats)
                    bar.update(1)
                    last = step == total
                    if step % cfg.log.log_every == 0 or last or stop_any:
                        ips = window.images_per_second(cfg.train.batch_size)
                        last_stats = window.means()
                        if self.dist.is_main and last_stats:
                            write_log_line(
                                self.run, step, last_stats, lr_g, lr_d, ips, time.time() - t0, tb, bar
                            )
                        window = StatsWindow()
                    if self.dist.is_main and (step % cfg.log.sample_every == 0 or last):
                        self.make_samples(step)
                    if step % cfg.log.checkpoint_every == 0 or last or stop_any:
                        last_ckpt = (
                            self.save(step, export=cfg.log.export_every_checkpoint or last) or last_ckpt
                        )
                    if stop_any:
                        interrupted = not last
                        break
            finally:
                shutdown_workers(loader_iter)  # no batch is fetched after the last step
                bar.close()
                self.run.close()
        if interrupted and self.dist.is_main:
            log.warning("interrupted at step %d of %d; continue with --resume", step, total)
        if start >= total and self.dist.is_main:  # resumed a finished run: make sure export/ exists
            self.export(start)
        return {
            "run_dir": str(self.run.root),
            "step": int(step),
            "iterations": total,
            "interrupted": interrupted,
            "seconds": round(time.time() - t0, 3),
            "checkpoint": str(last_ckpt) if last_ckpt else None,
            "last_stats": last_stats,
        }
