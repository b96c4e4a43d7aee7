"""The evaluation driver (paper §4.4): editing accuracy, Fréchet distances and Inception Scores.

Every test image is translated once per attribute (CelebA-style: invert, then the conflict rules) or once
per expression (RaFD: to each of the 8); the translations are classified by the external classifier
(editing accuracy), their features are compared with the real test images' features one edit group at a
time (Fréchet distance per group, then the mean, as the paper does), and the pool of all translations
gives the Inception Scores (10 subsets).

Which distances are computed depends on the weights given:

==============  ============================================  =====================================
key             features                                      needs
==============  ============================================  =====================================
``ssfid``       SwAV ResNet-50 pool (Morozov et al. 2021)      ``--swav swav_800ep_pretrain.pth.tar``
``fid``/``is``  Inception-v3 pool / softmax                    ``--inception FILE``
``fid_cls``     evaluation classifier, penultimate layer       always (the in-domain substitute)
``is_cls``      evaluation classifier predictions              always (the in-domain substitute)
==============  ============================================  =====================================

The ``*_cls`` numbers are substitutes for data where ImageNet-trained networks do not apply (the synthetic
faces) or their weights are absent; they are never reported as ssFID/FID/IS.

On data with ground-truth counterfactuals (synthetic faces) the edits are also scored against them
(:mod:`secgan.metrics.ground_truth`). Shape IoU and mIoU need a parser: ``shape_iou``/``miou`` use the
training parser (the one SeCGAN's consistency loss trains through), and with ``--judge-parser DIR``
``judge_shape_iou``/``judge_miou`` use an independent one (another architecture and seed), recorded with
its own mIoU against the ground-truth masks in ``metrics.json["judge"]``.

Outputs (in ``out``): ``metrics.json``, ``per_image.npz`` and ``examples.npz`` (the first K test images, each
edit, the masks), which :mod:`secgan.reporting` turns into the paper's table and figures.

The code is setup (:func:`_setup`), a per-batch loop (:func:`_score_batch`, :func:`_score_edit`) and the
assembly of ``metrics.json`` (:func:`_assemble`).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from secgan.data.attributes import RAFD_EXPRESSIONS, protocol_edit_targets
from secgan.data.masks import one_hot
from secgan.errors import ConfigError, WeightsError
from secgan.metrics.accuracy import AccuracyCounter, edit_correct, implied_changes
from secgan.metrics.accuracy_ceiling import DistributionCeiling, ceiling_keys
from secgan.metrics.distances import METRIC_KEYS, FeatureDistances  # noqa: F401  (METRIC_KEYS: public here)
from secgan.metrics.eval_files import (  # noqa: F401  (EvalOptions, default_out_dir: public here too)
    EVAL_SUBDIR,
    EXAMPLES_FILE,
    FORMAT,
    METRICS_FILE,
    VERSION,
    EvalOptions,
    default_out_dir,
    dir_hashes,
    load_metrics,
    resolve_model_dir,
)
from secgan.metrics.eval_parsers import load_judge as _load_judge
from secgan.metrics.eval_parsers import load_parser as _load_parser  # noqa: F401  (tests import it here)
from secgan.metrics.examples import ExampleRecorder
from secgan.metrics.features import ClassifierFeatures
from secgan.metrics.ground_truth_eval import GroundTruthScorer
from secgan.metrics.per_image import PER_IMAGE_FILE, PerImageRecorder
from secgan.metrics.reconstruction import ReconstructionMeter
from secgan.metrics.stats_cache import names_hash
from secgan.models.conditioning import make_condition
from secgan.models.export import ModelCard
from secgan.models.inference import prepare_generator
from secgan.utils.device import resolve_device
from secgan.utils.io import file_sha256, publish_dir, write_json_atomic

log = logging.getLogger(__name__)


@dataclass
class _Eval:
    """What one evaluation reads and fills, from setup to assembly."""

    opts: EvalOptions
    device: torch.device
    model_dir: Path
    run_dir: Path | None
    out: Path
    card: ModelCard
    g: nn.Module
    g_seg: nn.Module | None
    norm_mode: str
    groups: list[str]
    expressions: bool
    cfeat: ClassifierFeatures
    cols: list[int]
    multilabel: bool
    parser: Any  # FrozenParser | None: masks for 'concat' models, figures, shape metrics
    parser_info: dict | None
    judge_parser: Any  # FrozenParser | None: the independent judge of shape
    judge_info: dict | None
    n_images: int
    fd: FeatureDistances
    counter: AccuracyCounter
    real_counter: AccuracyCounter
    per_image: PerImageRecorder
    gt: GroundTruthScorer | None
    examples: ExampleRecorder
    recon: ReconstructionMeter
    amp: Any  # autocast context (bf16) or nullcontext
    ceiling_split: DistributionCeiling | None = None  # the ceiling in / off the training distribution

    @property
    def n_pool(self) -> int:
        return self.n_images * len(self.groups)


# ---------------------------------------------------------------------------------------------- setup
def _setup(opts: EvalOptions) -> tuple[_Eval, torch.utils.data.Dataset]:
    """Load the model, classifier, parsers and data; build the meters. Returns the state and the dataset."""
    from secgan.auxiliary.classifier import classifier_columns, load_classifier
    from secgan.data.registry import get_dataset
    from secgan.data.split_record import build_as_trained, seen_in_training
    from secgan.models.export import load_pretrained

    device = torch.device(resolve_device(opts.device))
    if opts.batch < 1 or opts.is_splits < 1 or opts.num_examples < 0:
        raise ConfigError("--batch and --is-splits must be >= 1 and --examples >= 0")
    if opts.precision not in ("fp32", "bf16"):
        raise ConfigError(f"--precision {opts.precision!r}; valid: fp32, bf16")
    model_dir, run_dir = resolve_model_dir(opts.model)
    nets, meta = load_pretrained(model_dir, device=device)
    card = ModelCard.from_json(meta, model_dir / "config.json")
    if "G" not in nets:
        raise WeightsError(f"{model_dir / 'config.json'}: no generator 'G'; networks: {', '.join(nets)}")
    g, g_seg = nets["G"], nets.get("G_seg")
    norm_mode = prepare_generator(g, card.norm_stats)
    if g_seg is not None:
        prepare_generator(g_seg, card.norm_stats)
    attributes = list(card.attributes)
    spec = get_dataset(opts.dataset, "--dataset")  # the dataset table: its traits
    expressions = spec.multiclass or attributes == list(RAFD_EXPRESSIONS)

    cnet, cmeta = load_classifier(opts.classifier, device)
    cnet.eval()
    cols = classifier_columns(attributes, cmeta, f"classifier {opts.classifier}")
    multilabel = bool(cmeta.get("multilabel", not expressions))
    cfeat = ClassifierFeatures(
        cnet, int(cmeta.get("image_size", card.image_size)), multilabel, str(opts.classifier)
    )
    parser, parser_info = _load_parser(opts, nets, card, device)
    if card.needs_mask and parser is None:
        raise ConfigError(
            f"{model_dir}: a 'concat' generator needs the input mask s_in: pass --parser P_DIR "
            "(or export the model with its parser)"
        )
    judge_parser, judge_info = _load_judge(opts, parser, device)

    # a drawn training split (RaFD ids): the run's data_split.json, or a one-line refusal of another split
    ds, data_options = build_as_trained(opts.dataset, opts.data, run_dir, split=opts.split,
                                        attrs=None if expressions else attributes, image_size=card.image_size,
                                        flip=False, max_items=opts.max_images, **opts.data_options)  # fmt: skip
    if list(ds.attributes) != attributes:
        raise ConfigError(
            f"dataset attributes {list(ds.attributes)} differ from the model's {attributes} "
            f"({model_dir / 'config.json'})"
        )
    n_images, groups = len(ds), list(attributes)
    if n_images < 2:
        raise ConfigError(f"{opts.data}: split {opts.split!r} has {n_images} image(s); need at least 2")
    if n_images * len(groups) < opts.is_splits:
        raise ConfigError(f"--is-splits {opts.is_splits} exceeds the {n_images * len(groups)} translations")
    data_id = {
        "dataset": opts.dataset,
        "root": str(Path(opts.data).resolve()),
        "split": opts.split,
        "image_size": card.image_size,
        "count": n_images,
        "names": names_hash(list(ds.names)),
        "data_options": {k: str(v) for k, v in sorted(data_options.items())},
    }
    fd = FeatureDistances(cfeat, opts.swav, opts.inception, device, opts.cache_dir, data_id, len(groups),
                          n_images * len(groups), opts.is_splits, opts.seed)  # fmt: skip
    use_gt = opts.ground_truth and spec.counterfactuals and not expressions  # counterfactuals: synthetic
    gt = GroundTruthScorer.maybe(opts.data, opts.split, groups, card.image_size, ds.names) if use_gt else None
    if judge_parser is not None and gt is None:
        fd.notes.append("--judge-parser given, but the data has no counterfactuals: no judged shape metrics")
    if (seen := seen_in_training(ds, cmeta, str(opts.classifier))) is not None:  # a drawn split (RaFD ids)
        log.warning("%s", seen)
        fd.notes.append(seen)
    amp = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if opts.precision == "bf16"
        else contextlib.nullcontext()
    )
    ev = _Eval(
        opts=opts, device=device, model_dir=model_dir, run_dir=run_dir,
        out=Path(opts.out) if opts.out else (run_dir or model_dir) / EVAL_SUBDIR, card=card, g=g, g_seg=g_seg,
        norm_mode=norm_mode, groups=groups, expressions=expressions, cfeat=cfeat, cols=cols,
        multilabel=multilabel, parser=parser, parser_info=parser_info, judge_parser=judge_parser,
        judge_info=judge_info, n_images=n_images, fd=fd, counter=AccuracyCounter(groups),
        real_counter=AccuracyCounter(groups), per_image=PerImageRecorder(groups), gt=gt,
        examples=ExampleRecorder(min(opts.num_examples, n_images), groups, attributes, expressions),
        recon=ReconstructionMeter(), amp=amp,
        ceiling_split=DistributionCeiling.of_dataset(opts.data, groups) if gt is not None else None,
    )  # fmt: skip
    return ev, ds


# ---------------------------------------------------------------------------------------------- loop
def _score_batch(ev: _Eval, batch: dict) -> None:
    """Real images (classifier check, feature statistics, reconstruction), then each edit group."""
    x = batch["image"].to(ev.device, non_blocking=True)  # [B, 3, S, S] in [-1, 1]
    y_src = batch["label"].to(ev.device).float()  # [B, n_a]
    ev.per_image.add_names(batch["name"])
    take = ev.examples.wanted(x.shape[0])  # how many of this batch go to the examples
    # s_in: the parser's mask of the input, for "concat" generators and the example figures
    s_in = ev.parser.labels12(x) if ev.parser is not None and (ev.card.needs_mask or take) else None

    logits_real, feats_real = ev.cfeat.logits_and_features(x)
    logits_real = logits_real[:, ev.cols]
    for gi in range(len(ev.groups)):
        if ev.expressions:  # per expression: recall on the real images showing it
            shown = y_src.argmax(1) == gi
            ev.real_counter.update(gi, (logits_real.argmax(1) == gi)[shown])
        else:
            ev.real_counter.update(gi, (logits_real[:, gi] > 0) == (y_src[:, gi] > 0.5))
    ev.fd.update_real(x, feats_real)
    if take:
        ev.examples.add_inputs(take, x, batch["name"], y_src, s_in)
    if ev.gt is not None:  # each parser's own mIoU on the real inputs
        ev.gt.parse_inputs(batch["name"], x, {"training_parser": ev.parser, "judge": ev.judge_parser})

    g_in = ev.card.generator_input(x, s_in)
    # held-out reconstruction: the generator asked for no change, G(x, c0), against x
    unchanged = torch.zeros_like(y_src, dtype=torch.bool)
    c0 = make_condition(
        y_src, y_src, ev.card.conditioning, ev.opts.intensity, ev.card.target_scale, unchanged
    )
    with ev.amp:
        x_rec = ev.g(g_in, c0).float().clamp(-1, 1)  # [B, 3, S, S] in [-1, 1]
    ev.recon.update(x, x_rec)
    for gi in range(len(ev.groups)):
        _score_edit(ev, batch, x, y_src, g_in, s_in, take, gi)


def _score_edit(
    ev: _Eval,
    batch: dict,
    x: torch.Tensor,
    y_src: torch.Tensor,
    g_in: torch.Tensor,
    s_in: torch.Tensor | None,
    take: int,
    gi: int,
) -> None:
    """Edit group ``gi`` of one batch: translate, classify, score against the ground truth, accumulate."""
    y_trg = protocol_edit_targets(y_src, gi, ev.groups, onehot=ev.expressions)  # [B, n_a]
    edited = torch.zeros_like(y_src, dtype=torch.bool)
    edited[:, gi] = True
    c = make_condition(y_src, y_trg, ev.card.conditioning, ev.opts.intensity, ev.card.target_scale, edited)
    with ev.amp:
        x_out = ev.g(g_in, c).float().clamp(-1, 1)  # [B, 3, S, S] in [-1, 1]
    logits, feats = ev.cfeat.logits_and_features(x_out)  # the classifier runs in float32
    logits = logits[:, ev.cols]
    if ev.expressions:
        correct = logits.argmax(1) == gi
    else:
        correct = edit_correct((logits > 0).float(), y_trg, gi)
    ev.counter.update(gi, correct, None if ev.expressions else implied_changes(y_src, y_trg, gi))

    def ceiling(images: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
        # the same test on the ground-truth edits of rows `rows`: the accuracy ceiling
        ok = edit_correct((ev.cfeat.logits_and_features(images)[0][:, ev.cols] > 0).float(), y_trg[rows], gi)
        if ev.ceiling_split is not None:
            ev.ceiling_split.update(gi, y_trg[rows], ok)
        return ok

    gt_values = {}
    if ev.gt is not None:
        gt_values = ev.gt.update(ev.groups[gi], batch["name"], x, x_out, ev.parser, ceiling, ev.judge_parser)
    ev.per_image.add(gi, correct, **gt_values)
    ev.fd.update(gi, x_out, feats, logits)
    if take:
        if ev.gt is not None:
            ev.gt.add_examples(ev.groups[gi], batch["name"][:take])
        mask_out = None
        if ev.g_seg is not None and s_in is not None:
            with ev.amp:
                mask_out = ev.g_seg(one_hot(s_in[:take]), c[:take]).float().argmax(1)  # [take, S', S']
        mask_parsed = ev.parser.labels12(x_out[:take]) if ev.parser is not None else None
        ev.examples.add_edit(take, gi, x_out, y_trg, correct, mask_out, mask_parsed)


# ---------------------------------------------------------------------------------------------- assembly
def _assemble(ev: _Eval, t_start: float, loop_seconds: float) -> dict[str, Any]:
    """``metrics.json``'s contents from the filled meters."""
    opts, card = ev.opts, ev.card
    distances, scores = ev.fd.summary(ev.groups)
    inputs_miou = ev.gt.inputs_miou() if ev.gt is not None else {}
    parser_info = ev.parser_info
    if parser_info is not None and "training_parser" in inputs_miou:
        parser_info = {**parser_info, "miou_on_inputs": inputs_miou["training_parser"]}
    judge = None if ev.judge_info is None else {**ev.judge_info, "miou_on_inputs": inputs_miou.get("judge")}
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": {
            "dir": str(ev.model_dir),
            "run_dir": str(ev.run_dir) if ev.run_dir else None,
            **{
                k: getattr(card, k)
                for k in ("dataset", "backbone", "mode", "lambda_sc", "seed", "iterations", "image_size")
            },
            "imported_from": card.imported_from,
            "conditioning": card.conditioning,
            "attributes": list(card.attributes),
        },
        "accuracy": {
            **ev.counter.summary(),
            "ceiling": ev.gt.ceiling_summary() if ev.gt is not None else None,
            **ceiling_keys(ev.ceiling_split),  # docs/ruler.md: in / off distribution, below 95 %
        },
        "classifier_on_real": ev.real_counter.summary(),
        "distances": distances,
        "inception_scores": scores,
        # docs/counterfactuals.md; shape_iou/miou: the training parser, judge_*: the judge
        "ground_truth": ev.gt.summary() if ev.gt is not None else None,
        "judge": judge,
        "reconstruction": ev.recon.summary(),
        "protocol": {
            "dataset": opts.dataset,
            "data_root": str(Path(opts.data).resolve()),
            "split": opts.split,
            "resolution": card.image_size,
            "num_images": ev.n_images,
            "num_translations": ev.n_pool,
            "intensity": opts.intensity,
            "edits": (
                "each test image to each of the expressions; correct when the classifier's argmax is the target"
                if ev.expressions
                else "each attribute inverted, then conflict rules (hair colours exclusive; Bald on -> Bangs "
                "off; Bangs on -> Bald off; Mustache and No_Beard exclusive); correct when the thresholded prediction equals the target"
            ),
            "groups": ev.groups,
            "distance_protocol": "Fréchet distance per edit group against all real test images, then the mean",
            "frechet_method": "eigh (tr sqrt(S1 S2) from the eigenvalues of S1^1/2 S2 S1^1/2; = scipy sqrtm route)",
            "is_splits": opts.is_splits,
            "model_weights_sha256": dir_hashes(ev.model_dir),
            "classifier": {
                "dir": str(opts.classifier),
                "weights_sha256": dir_hashes(Path(opts.classifier)),
                "weights_hash": ev.cfeat.weights_hash,
                "image_size": ev.cfeat.image_size,
                "multilabel": ev.multilabel,
            },
            "parser": parser_info,
            **ev.fd.protocol(),
            "substitutes": {
                "fid_cls": "Fréchet distance on the evaluation classifier's penultimate features (in-domain substitute)",
                "is_cls": ev.cfeat.protocol()["is_definition"] + " (in-domain substitute)",
            },
            "precision": opts.precision,
            "precision_detail": f"generator: {opts.precision}; classifier and feature extractors: float32",
            "generator_norm_stats": ev.norm_mode,
            "device": str(ev.device),
        },
        "notes": ev.fd.notes,
        "examples": EXAMPLES_FILE if ev.examples.k else None,
        "per_image": PER_IMAGE_FILE,
        "timing": {
            "seconds": round(time.perf_counter() - t_start, 3),
            "loop_seconds": round(loop_seconds, 3),
            "test_images_per_second": round(ev.n_images / max(loop_seconds, 1e-9), 3),
            "translations_per_second": round(ev.n_pool / max(loop_seconds, 1e-9), 3),
        },
    }


# ---------------------------------------------------------------------------------------------- driver
@torch.no_grad()
def evaluate(opts: EvalOptions) -> dict[str, Any]:
    """Run the evaluation and write ``metrics.json``, ``per_image.npz`` and ``examples.npz``; returns the
    metrics dict (with ``"out"``: the folder written)."""
    t_start = time.perf_counter()
    ev, ds = _setup(opts)
    loader = torch.utils.data.DataLoader(
        ds, batch_size=opts.batch, shuffle=False, num_workers=opts.workers, collate_fn=_collate
    )
    t_loop = time.perf_counter()
    for batch in tqdm(loader, desc="evaluate", unit="batch"):
        _score_batch(ev, batch)
    metrics = _assemble(ev, t_start, time.perf_counter() - t_loop)
    # The files appear together (a temporary folder renamed into place); metrics.json records the
    # digests of the others, so a reader can tell a complete set.
    with publish_dir(ev.out, (EXAMPLES_FILE, PER_IMAGE_FILE, METRICS_FILE)) as tmp:
        arrays = ev.examples.arrays()
        if arrays:
            if ev.gt is not None:
                arrays.update(ev.gt.example_arrays())  # counterfactuals, counterfactual_masks
            np.savez_compressed(tmp / EXAMPLES_FILE, **arrays)
        ev.per_image.write(tmp)
        files = [f for f in (EXAMPLES_FILE, PER_IMAGE_FILE) if (tmp / f).is_file()]
        metrics["files"] = {f: file_sha256(tmp / f) for f in files}
        write_json_atomic(metrics, tmp / METRICS_FILE)
    log.info("wrote %s", ev.out / METRICS_FILE)
    metrics["out"] = str(ev.out)
    return metrics


def _collate(items: list[dict]) -> dict:
    return {
        "image": torch.stack([it["image"] for it in items]),
        "label": torch.stack([torch.as_tensor(it["label"]) for it in items]),
        "name": [str(it["name"]) for it in items],
    }
