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

import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from secgan import losses as L
from secgan.config import Config, to_dict
from secgan.data.attributes import attribute_edit_targets
from secgan.data.masks import NUM_SEGMENTS, one_hot
from secgan.errors import ConfigError, DataError, SecganError, TrainingError, original_message
from secgan.models.conditioning import make_condition
from secgan.models.export import BundledParserCard, ModelCard, save_pretrained
from secgan.training import distributed as D
from secgan.training.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    load_network_state,
    plain_state_dict,
    remove_stale_temp_files,
    save_checkpoint,
)
from secgan.training.networks import build_networks, config_attributes, parameter_counts
from secgan.training.run_dir import RunDir, environment
from secgan.training.sampler import StepBatchSampler
from secgan.training.samples import compose_grid, preserved_buffers, save_png
from secgan.training.schedule import lr_at
from secgan.utils.seed import get_rng_state, seed_everything, set_rng_state, worker_init_fn

log = logging.getLogger(__name__)

MAIN_STATS = ("D_rgb/loss", "G_rgb/loss", "G_rgb/sc", "D_seg/loss", "G_seg/loss")
# torch.compile backend of train.compile ("inductor": generated kernels; the tests use "aot_eager").
COMPILE_BACKEND = "inductor"


def _worker_init(worker_id: int) -> None:
    """DataLoader workers: seeded, and deaf to SIGINT (Ctrl-C reaches the whole process group; the main
    process finishes its step and checkpoints, which needs the workers alive)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    worker_init_fn(worker_id)


def _next_batch(loader_iter: Iterator[dict]) -> dict:
    """The next batch; a user error raised in a DataLoader worker (an unreadable image...) comes back as
    the same one-line error, not the worker's traceback that PyTorch puts into the re-raised message."""
    try:
        return next(loader_iter)
    except SecganError as err:
        msg = original_message(err)
        if msg == str(err):
            raise
        raise type(err)(msg) from None


def _requires_grad(module: nn.Module | None, flag: bool) -> None:
    if module is not None:
        for p in module.parameters():
            p.requires_grad_(flag)


def _prefixed(prefix: str, stats: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}/{k}": v for k, v in stats.items()}


class Trainer:
    """Trains one configuration into a run folder.

    Args:
        cfg: the resolved configuration.
        out_dir: the run folder.
        device: ``torch.device`` this process trains on.
        resume: continue from the newest checkpoint in ``out_dir/checkpoints``.
        dataset: a dataset object to use instead of ``build_dataset(cfg.data...)`` (tests); items as in
            ``docs/DESIGN.md``, with ``.labels``, ``.attributes``, ``.names``.
        parser: a frozen parser (``probs12``/``labels12``) to use instead of loading ``cfg.parser.dir``.
        dist_info: this process's rank and world size (a single process when None).
        progress: show the tqdm bar (main process only).
    """

    def __init__(
        self,
        cfg: Config,
        out_dir: str | Path,
        device: torch.device | str = "cpu",
        resume: bool = False,
        dataset: Any = None,
        parser: Any = None,
        dist_info: D.DistInfo | None = None,
        progress: bool = True,
    ) -> None:
        self.cfg = cfg
        self.device = torch.device(device)
        self.dist = dist_info or D.DistInfo()
        self.resume = resume
        self.progress = progress
        self.run = RunDir(out_dir, write=self.dist.is_main)
        self.mode = cfg.model.mode
        self.need_mask = self.mode in ("concat", "secgan")
        self.amp = bool(cfg.train.amp)
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
        self.parser = parser if parser is not None else self._load_parser()
        self.dataset = dataset if dataset is not None else self._build_dataset()
        self._check_dataset()
        self.nets = build_networks(cfg, len(self.attributes))
        for net in self.nets.values():
            net.to(self.device, memory_format=self.memory_format)
            net.train()
            D.broadcast_module(net)
        self.G_rgb, self.D_rgb = self.nets["G_rgb"], self.nets["D_rgb"]
        self.G_seg, self.D_seg = self.nets.get("G_seg"), self.nets.get("D_seg")
        # The callables of the step's forward passes: the networks themselves, or their compiled forms
        # (sharing the parameters) with train.compile. Checkpoints, samples and exports use self.nets.
        self.fwd: dict[str, Callable[..., Any]] = dict(self.nets)
        self.parser_probs = self.parser.probs12 if self.parser is not None else None
        if cfg.train.compile:
            self._compile()
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
        self.classifier = self._load_classifier()
        self._load_resume_state()
        self._prepare_samples()

    # ------------------------------------------------------------------------------------------ setup
    def _compile(self) -> None:
        """``torch.compile`` the generators, the critics' loss passes and (secgan mode) the parser's
        ``probs12`` on G_rgb's output, each with static shapes.

        The critics' gradient-penalty pass stays eager: AOTAutograd (torch.compile's autograd) does not
        support double backward, which the penalty's ``create_graph=True`` needs. The compiled and eager
        critics share their parameters, so both passes train the same weights.
        """
        for name, net in self.nets.items():
            self.fwd[name] = torch.compile(net, dynamic=False, backend=COMPILE_BACKEND)
        if self.mode == "secgan" and self.parser is not None:
            self.parser_probs = torch.compile(self.parser.probs12, dynamic=False, backend=COMPILE_BACKEND)
        log.info("train.compile: generators, critics (gradient penalty eager) and parser compiled")

    def _load_parser(self) -> Any:
        pdir = self.cfg.parser.dir
        if pdir is None:
            if self.mode == "secgan":
                raise ConfigError(
                    "model.mode=secgan needs the frozen parser P: pass --parser P_DIR (or parser.dir)"
                )
            return None
        from secgan.auxiliary.parser import FrozenParser

        return FrozenParser.load(pdir, device=self.device)

    def _build_dataset(self) -> Any:
        from secgan.data.registry import build_dataset

        dc = self.cfg.data
        if dc.root is None:
            raise ConfigError("data.root is not set: pass --data DIR (the dataset folder)")
        masks = "gt" if (self.need_mask and dc.masks == "gt") else None
        ds = build_dataset(
            dc.dataset,
            dc.root,
            split=dc.split,
            attrs=list(dc.attributes) if dc.attributes else None,
            image_size=dc.image_size,
            flip=False,  # flips are drawn by the trainer from the run's seed (exact resume)
            masks=masks,
            max_items=dc.max_items,
        )
        if self.need_mask and dc.masks == "parser" and self.parser is not None and self.cfg.parser.use_cache:
            self._attach_mask_cache(ds)
        return ds

    def _attach_mask_cache(self, ds: Any) -> None:
        from secgan.auxiliary.parser import parser_hash
        from secgan.auxiliary.parser.cache import default_cache_dir, load_mask_cache

        dc = self.cfg.data
        h = parser_hash(self.parser)
        cache = default_cache_dir(dc.root, dc.dataset, dc.split, dc.image_size, h)
        if not (cache / "meta.json").is_file():
            log.info("no parser mask cache at %s: source masks are parsed on the fly", cache)
            return
        try:
            ds.set_mask_array(load_mask_cache(cache, list(ds.names), dc.image_size, h))
            log.info("source masks from the parser mask cache %s", cache)
        except DataError as err:
            log.warning("%s; source masks are parsed on the fly instead", err)

    def _check_dataset(self) -> None:
        if self.need_mask and self.parser is None:
            has = getattr(self.dataset, "has_masks", None)
            if not (has if has is not None else "mask" in self.dataset[0]):
                raise ConfigError(
                    f"model.mode={self.mode} needs source masks: pass --parser P_DIR (or parser.dir), or "
                    "use data.masks=gt with a dataset that has ground-truth masks"
                )
            log.warning("no parser: the exported concat model needs masks from elsewhere (no parser bundled)")
        ds_attrs = list(getattr(self.dataset, "attributes", self.attributes))
        if ds_attrs != self.attributes:
            raise ConfigError(
                f"the dataset's labels are {ds_attrs} but the config trains on {self.attributes} (data.attributes)"
            )
        if len(self.dataset) < self.cfg.train.batch_size:
            raise DataError(
                f"the dataset has {len(self.dataset)} images, fewer than one batch of {self.cfg.train.batch_size}"
            )

    def _load_classifier(self) -> tuple[nn.Module, dict] | None:
        cdir = self.cfg.export.classifier
        if cdir is None or not self.dist.is_main:
            return None
        from secgan.models.export import load_pretrained

        nets, meta = load_pretrained(cdir, device="cpu")
        if "classifier" in nets:
            return nets["classifier"], meta
        if len(nets) == 1:
            return next(iter(nets.values())), meta
        raise ConfigError(
            f"export.classifier={cdir}: expected one network named 'classifier', found {list(nets)}"
        )

    def _load_resume_state(self) -> None:
        path = latest_checkpoint(self.run.checkpoints)
        if not self.resume:
            if D.agree([path is not None], self.device)[0]:
                raise ConfigError(
                    f"{self.run.root} already holds checkpoints ({path.name if path else 'on rank 0'}): pass "
                    "--resume to continue that run, or choose another --out"
                )
            return
        # Every rank reads the checkpoint itself: a multi-node run needs the run folder on a shared filesystem.
        if path is None:
            log.warning("--resume: no checkpoint in %s; starting from step 0", self.run.checkpoints)
            return
        state = load_checkpoint(path)
        for name, net in self.nets.items():
            if name not in state["networks"]:
                raise TrainingError(f"{path}: no weights for network {name} (mode {self.mode})")
            load_network_state(net, state["networks"][name], name, path)
            self.opts[name].load_state_dict(state["optimizers"][name])
        data = state.get("data", {})
        if data.get("n_items") not in (None, len(self.dataset)):
            raise DataError(
                f"{path}: the run was trained on {data['n_items']} images but the dataset now has "
                f"{len(self.dataset)}; resuming would not continue the same data order"
            )
        self.rng.set_state(state["rng"]["train"])
        if self.dist.is_main:
            set_rng_state(state["rng"]["global"])
        self.step = int(state["step"])
        log.info("resumed from %s (step %d)", path, self.step)

    # -------------------------------------------------------------------------------------- helpers
    def _autocast(self) -> contextlib.AbstractContextManager:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    def _fp32(self) -> contextlib.AbstractContextManager:
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, enabled=False)

    def _source_masks(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Source label maps ``[N, S, S]`` (long): the dataset's (cache or ground truth) or the parser's."""
        if mask is not None:
            return mask.to(self.device, non_blocking=True).long()
        if self.parser is None:
            raise ConfigError("source masks are needed but the dataset has none and no parser is configured")
        with torch.no_grad(), self._autocast():
            return self.parser.labels12(x).long()

    def _cls(self, logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict]:
        return L.cls_loss(logits, target, self.cfg.loss.cls_loss, self.cfg.loss.cls_reduction)

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
    def prepare_batch(self, batch: dict) -> dict[str, torch.Tensor]:
        """Move a local batch to the device and draw this step's randomness for the *global* batch.

        Returns ``x [n, 3, S, S]``, ``y_src``/``y_trg [n, n_a]``, ``c``/``c0 [n, n_a]`` (edit and
        reconstruction conditions), ``alpha_rgb``/``alpha_seg [n]``, with masks ``s_lab [n, S, S]`` and
        ``s_in [n, 12, S, S]`` (one-hot), and ``g_in``, G_rgb's input (``x``, or ``concat(x, s_in)``
        ``[n, 15, S, S]`` in concat mode).
        """
        n = batch["image"].shape[0]
        world, rank = self.dist.world_size, self.dist.rank
        big = n * world
        sl = slice(rank * n, (rank + 1) * n)
        # Fixed draw order: flips, permutation, alpha_rgb, alpha_seg.
        flips = (torch.rand(big, generator=self.rng) < 0.5)[sl] if self.cfg.data.flip else None
        perm = torch.randperm(big, generator=self.rng)
        alpha_rgb = torch.rand(big, generator=self.rng)[sl]
        alpha_seg = torch.rand(big, generator=self.rng)[sl] if self.mode == "secgan" else None

        x = batch["image"].to(self.device, non_blocking=True).float()
        mask = batch.get("mask")
        if flips is not None:
            f = flips.to(self.device)
            x = torch.where(f[:, None, None, None], x.flip(-1), x)
            if mask is not None:
                mask = torch.where(flips[:, None, None], mask.flip(-1), mask)
        x = x.contiguous(memory_format=self.memory_format)
        y_src = batch["label"].to(self.device, non_blocking=True).float()
        y_trg = D.all_gather_rows(y_src)[perm.to(self.device)][sl]
        m = self.cfg.model
        out = {
            "x": x,
            "y_src": y_src,
            "y_trg": y_trg,
            "c": make_condition(y_src, y_trg, m.conditioning, scale=m.target_scale),
            "c0": make_condition(y_src, y_src, m.conditioning, scale=m.target_scale),
            "alpha_rgb": alpha_rgb,
        }
        if alpha_seg is not None:
            out["alpha_seg"] = alpha_seg
        if self.need_mask:
            s_lab = self._source_masks(x, mask)
            out["s_lab"] = s_lab
            out["s_in"] = (
                one_hot(s_lab, NUM_SEGMENTS).to(x.dtype).contiguous(memory_format=self.memory_format)
            )
        out["g_in"] = torch.cat([x, out["s_in"]], dim=1) if self.mode == "concat" else x
        return out

    def critic_step(
        self, name: str, real: torch.Tensor, fake: torch.Tensor, y_src: torch.Tensor, alpha: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """One update of critic ``name`` (``"D_rgb"`` or ``"D_seg"``): eq. 13/15, WGAN-GP + classification."""
        net, opt, lc = self.nets[name], self.opts[name], self.cfg.loss
        _requires_grad(net, True)
        n = real.shape[0]
        with self._autocast():
            adv, cls = self.fwd[name](torch.cat([real, fake.detach()]))
        l_adv, s_adv = L.d_adv_loss(adv[:n], adv[n:])
        l_cls, s_cls = self._cls(cls[:n], y_src)
        with self._fp32():
            l_gp, s_gp = L.gradient_penalty(lambda z: net(z)[0], real, fake, alpha)
        loss = l_adv + lc.lambda_cls_d * l_cls + lc.lambda_gp * l_gp
        opt.zero_grad(set_to_none=True)
        loss.backward()
        D.all_reduce_grads(net)
        opt.step()
        return _prefixed(name, {**s_adv, **s_cls, **s_gp, "loss": loss.detach().float()})

    def generator_losses(self, b: dict[str, torch.Tensor], x_fake: torch.Tensor, s_fake: torch.Tensor | None):
        """The generator objectives of the step (eqs. 14 and 16) on the same mini-batch.

        Returns ``(loss_rgb, stats_rgb, loss_seg | None, stats_seg)``. ``loss_rgb`` depends on G_seg only
        through ``argmax s_out`` and ``loss_seg`` on G_rgb only through ``argmax P(x_out)``: neither carries
        a gradient into the other generator. The critics are frozen (no parameter gradients).
        """
        lc = self.cfg.loss
        _requires_grad(self.D_rgb, False)
        _requires_grad(self.D_seg, False)
        with self._autocast():
            adv, cls = self.fwd["D_rgb"](x_fake)
            x_rec = self.fwd["G_rgb"](b["g_in"], b["c0"])
            p_out = self.parser_probs(x_fake) if self.mode == "secgan" else None
        l_adv, s_adv = L.g_adv_loss(adv)
        l_cls, s_cls = self._cls(cls, b["y_trg"])
        l_rec, s_rec = L.rec_l1_loss(b["x"], x_rec)
        loss_rgb = l_adv + lc.lambda_cls_g * l_cls + lc.lambda_rec * l_rec
        stats_rgb = {**s_adv, **s_cls, **s_rec}
        loss_seg, stats_seg = None, {}
        if self.mode == "secgan":
            l_sc, s_sc = L.sc_loss_rgb(s_fake, p_out)  # eq. 11: through P into G_rgb
            loss_rgb = loss_rgb + lc.lambda_sc * l_sc
            stats_rgb.update(s_sc)
            with self._autocast():
                adv_s, cls_s = self.fwd["D_seg"](s_fake)
                s_rec = self.fwd["G_seg"](b["s_in"], b["c0"])
            la, sa = L.g_adv_loss(adv_s)
            lcl, scl = self._cls(cls_s, b["y_trg"])
            lr_, sr = L.rec_mask_loss(b["s_lab"], s_rec)  # eq. 10
            lsc, ssc = L.sc_loss_seg(p_out, s_fake)  # eq. 12
            loss_seg = la + lc.lambda_cls_g * lcl + lc.lambda_rec * lr_ + lc.lambda_sc * lsc
            stats_seg = {**sa, **scl, **sr, **ssc, "loss": loss_seg.detach().float()}
        stats_rgb["loss"] = loss_rgb.detach().float()
        return loss_rgb, stats_rgb, loss_seg, stats_seg

    def train_step(self, step: int, batch: dict) -> dict[str, torch.Tensor]:
        """Algorithm 1, one iteration: critics every step, generators when ``step % n_critic == 0``."""
        b = self.prepare_batch(batch)
        g_step = step % self.cfg.train.n_critic == 0
        # The translations are computed once: detached for the critics, with their graph for the
        # generator update of the same step (G does not change in between).
        with torch.set_grad_enabled(g_step), self._autocast():
            x_fake = self.fwd["G_rgb"](b["g_in"], b["c"])
            s_fake = self.fwd["G_seg"](b["s_in"], b["c"]) if self.mode == "secgan" else None
        stats = self.critic_step("D_rgb", b["x"], x_fake, b["y_src"], b["alpha_rgb"])
        if self.mode == "secgan":
            stats.update(self.critic_step("D_seg", b["s_in"], s_fake, b["y_src"], b["alpha_seg"]))
        if g_step:
            loss_rgb, st_rgb, loss_seg, st_seg = self.generator_losses(b, x_fake, s_fake)
            self.opts["G_rgb"].zero_grad(set_to_none=True)
            loss_rgb.backward()
            D.all_reduce_grads(self.G_rgb)
            self.opts["G_rgb"].step()
            stats.update(_prefixed("G_rgb", st_rgb))
            if loss_seg is not None:
                self.opts["G_seg"].zero_grad(set_to_none=True)
                loss_seg.backward()
                D.all_reduce_grads(self.G_seg)
                self.opts["G_seg"].step()
                stats.update(_prefixed("G_seg", st_seg))
            _requires_grad(self.D_rgb, True)
            _requires_grad(self.D_seg, True)
        return stats

    # ------------------------------------------------------------------------------------ samples
    def _prepare_samples(self) -> None:
        self.sample_batch: dict[str, torch.Tensor] | None = None
        if not self.dist.is_main:
            return
        n = min(self.cfg.log.n_samples, len(self.dataset))
        if n <= 0:
            return
        idx = torch.linspace(0, len(self.dataset) - 1, n).round().long().tolist()
        items = [self.dataset[i] for i in idx]
        x = torch.stack([it["image"] for it in items]).to(self.device).float()
        y = torch.stack([torch.as_tensor(it["label"]) for it in items]).to(self.device).float()
        sb = {"x": x, "y": y}
        if self.need_mask:
            masks = [it.get("mask") for it in items]
            mask = torch.stack(masks) if all(m is not None for m in masks) else None
            sb["s_lab"] = self._source_masks(x, mask)
        self.sample_batch = sb

    @torch.no_grad()
    def make_samples(self, step: int) -> Path | None:
        """Write ``samples/step-XXXXXX.png`` (and a TensorBoard image): rows of input | one edit per
        attribute, with the input mask and G_seg's edited masks beneath in secgan mode."""
        if self.sample_batch is None:
            return None
        sb = self.sample_batch
        m = self.cfg.model
        targets = attribute_edit_targets(sb["y"], self.attributes, onehot=self.cfg.loss.cls_loss == "ce")
        s_in = one_hot(sb["s_lab"], NUM_SEGMENTS) if self.need_mask else None
        g_in = torch.cat([sb["x"], s_in], dim=1) if self.mode == "concat" else sb["x"]
        mods = [self.G_rgb] + ([self.G_seg] if self.G_seg is not None else [])
        edits, mask_edits = [], []
        with preserved_buffers(*mods):
            for y_t in targets:
                c = make_condition(sb["y"], y_t, m.conditioning, scale=m.target_scale)
                edits.append(self.G_rgb(g_in, c).float().cpu())
                if self.G_seg is not None:
                    mask_edits.append(self.G_seg(s_in, c).argmax(dim=1).cpu())
        grid = compose_grid(
            sb["x"].cpu(),
            edits,
            masks_in=sb["s_lab"].cpu() if self.G_seg is not None else None,
            masks_out=mask_edits or None,
        )
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
            "networks": {name: plain_state_dict(net) for name, net in self.nets.items()},
            "optimizers": {name: opt.state_dict() for name, opt in self.opts.items()},
            "rng": {"global": get_rng_state(), "train": self.rng.get_state()},
            "data": {
                "n_items": len(self.dataset),
                "batch_size": self.cfg.train.batch_size,
                "seed": self.cfg.seed,
            },
            "world_size": self.dist.world_size,
        }

    def save(self, step: int, export: bool) -> Path | None:
        """Checkpoint (and optionally export) on the main process; every rank must call this."""
        for net in self.nets.values():
            D.average_buffers(net)
        path = None
        if self.dist.is_main:
            path = save_checkpoint(
                self.run.checkpoints, step, self.state_dict(), keep=self.cfg.log.keep_checkpoints
            )
            if export:
                self.export(step)
        D.barrier()
        return path

    def model_card(self, step: int) -> ModelCard:
        """The exported model's card (:class:`~secgan.models.export.ModelCard`)."""
        cfg = self.cfg
        parser = None
        if self.parser is not None:
            pm = getattr(self.parser, "meta", {}) or {}
            parser = BundledParserCard(
                input_size=int(getattr(self.parser, "input_size", cfg.data.image_size)),
                mean=tuple(self.parser.mean.flatten().tolist()),
                std=tuple(self.parser.std.flatten().tolist()),
                trained_on=pm.get("trained_on"),
                dir=cfg.parser.dir,
            )
        return ModelCard(
            attributes=tuple(self.attributes),
            conditioning=cfg.model.conditioning,
            target_scale=cfg.model.target_scale,
            image_size=cfg.data.image_size,
            mode=cfg.model.mode,
            onehot_labels=cfg.loss.cls_loss == "ce",
            backbone=cfg.model.backbone,
            dataset=cfg.data.dataset,
            lambda_sc=cfg.loss.lambda_sc if self.mode == "secgan" else 0.0,
            iterations=int(step),
            seed=cfg.seed,
            parser=parser,
            classifier=dict(self.classifier[1]) if self.classifier is not None else None,
        )

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
    @contextlib.contextmanager
    def _signals(self) -> Iterator[None]:
        """SIGINT/SIGTERM set a flag checked after each step (a second SIGINT interrupts at once)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handler(signum: int, frame: Any) -> None:
            if self._stop_signal is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt
            self._stop_signal = signum
            log.warning(
                "%s received: stopping after this step with a checkpoint", signal.Signals(signum).name
            )

        old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    # --------------------------------------------------------------------------------------- loop
    def _loader(self, start: int) -> DataLoader:
        sampler = StepBatchSampler(
            len(self.dataset),
            self.cfg.train.batch_size,
            self.cfg.seed,
            start,
            self.cfg.train.iterations,
            self.dist.rank,
            self.dist.world_size,
        )
        workers = self.cfg.data.num_workers
        return DataLoader(
            self.dataset,
            batch_sampler=sampler,
            num_workers=workers,
            pin_memory=self.device.type == "cuda",
            worker_init_fn=_worker_init if workers > 0 else None,
            generator=torch.Generator().manual_seed(self.cfg.seed * 1000 + self.dist.rank),
            persistent_workers=False,
            prefetch_factor=4 if workers > 0 else None,
        )

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
            r = self.run
            for folder in (r.checkpoints, r.export, r.samples):
                remove_stale_temp_files(folder)
            remove_stale_temp_files(r.root, [r.config_path.name, "env.json", r.stats_path.name])
        self.run.create(to_dict(cfg), environment(self.device, self.dist.world_size), resume_step=start)
        tb = self.run.tensorboard(cfg.log.tensorboard, purge_step=start + 1 if start else None)
        if self.dist.is_main:
            log.info(
                "training %s (%s, %s) on %s x%d: steps %d..%d, params %s",
                cfg.name or "config",
                cfg.model.backbone,
                self.mode,
                self.device,
                self.dist.world_size,
                start + 1,
                total,
                self.param_counts(),
            )
        bar = tqdm(
            total=total,
            initial=start,
            desc="train",
            unit="it",
            dynamic_ncols=True,
            disable=not (self.progress and self.dist.is_main),
        )
        sums: dict[str, torch.Tensor] = {}
        counts: dict[str, int] = {}
        last_stats: dict[str, float] = {}
        last_ckpt: Path | None = latest_checkpoint(self.run.checkpoints) if start else None
        t0 = time.time()
        window_t, window_steps = time.time(), 0
        step = start
        interrupted = False
        with self._signals():
            loader_iter = iter(self._loader(start)) if start < total else iter(())
            try:
                for step in range(start + 1, total + 1):
                    batch = _next_batch(loader_iter)
                    lr_g, lr_d = self.set_learning_rates(step)
                    stats = self.train_step(step, batch)
                    self.step = step
                    window_steps += 1
                    # One host synchronisation per step: the NaN/Inf check of every loss.
                    vals = torch.stack([v.float() for v in stats.values()])
                    bad = not bool(torch.isfinite(vals).all())
                    stop_any, bad_any = D.agree([self._stop_signal is not None, bad], self.device)
                    if bad_any:
                        self._raise_nonfinite(step, stats, bad, last_ckpt)
                    for k, v in stats.items():
                        sums[k] = sums.get(k, 0) + v.float()
                        counts[k] = counts.get(k, 0) + 1
                    bar.update(1)
                    last = step == total
                    if step % cfg.log.log_every == 0 or last or stop_any:
                        elapsed = time.time() - window_t
                        ips = window_steps * cfg.train.batch_size / max(elapsed, 1e-9)
                        last_stats = self._log(step, sums, counts, lr_g, lr_d, ips, time.time() - t0, tb, bar)
                        sums, counts = {}, {}
                        window_t, window_steps = time.time(), 0
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

    def _raise_nonfinite(
        self, step: int, stats: dict[str, torch.Tensor], local: bool, ckpt: Path | None
    ) -> None:
        names = [k for k, v in stats.items() if not math.isfinite(float(v))] if local else []
        what = ", ".join(names) if names else "a loss on another process"
        kept = f"the last good checkpoint is {ckpt}" if ckpt else "no checkpoint was written yet"
        raise TrainingError(f"loss {what} became NaN/Inf at step {step}; training stopped ({kept})")

    def _log(
        self,
        step: int,
        sums: dict[str, torch.Tensor],
        counts: dict[str, int],
        lr_g: float,
        lr_d: float,
        ips: float,
        elapsed: float,
        tb: Any,
        bar: Any,
    ) -> dict[str, float]:
        keys = sorted(sums)
        if not keys:
            return {}
        means = torch.stack([sums[k] / counts[k] for k in keys])
        means = D.mean_over_ranks(means)
        values = dict(zip(keys, means.tolist()))
        record = {
            "step": step,
            "time": round(elapsed, 3),
            "img_per_s": round(ips, 2),
            "lr_G": lr_g,
            "lr_D": lr_d,
        }
        record.update({k: round(v, 6) for k, v in values.items()})
        if self.dist.is_main:
            self.run.log_stats(record)
            if tb is not None:
                for k, v in values.items():
                    tb.add_scalar(k, v, step)
                tb.add_scalar("lr/G", lr_g, step)
                tb.add_scalar("lr/D", lr_d, step)
                tb.add_scalar("speed/img_per_s", ips, step)
            post = {k.replace("/loss", ""): f"{values[k]:.3g}" for k in MAIN_STATS if k in values}
            post["img/s"] = f"{ips:.1f}"
            bar.set_postfix(post, refresh=False)
        return values
