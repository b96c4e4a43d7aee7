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

Outputs (in ``out``): ``metrics.json`` and ``examples.npz`` (the first K test images, each edit, the
masks), which :mod:`secgan.reporting` turns into the paper's table and figures.
"""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from secgan.data.attributes import RAFD_EXPRESSIONS, celeba_edit_targets, rafd_edit_targets
from secgan.data.masks import one_hot
from secgan.errors import ConfigError, WeightsError
from secgan.metrics.accuracy import AccuracyCounter, edit_correct, implied_changes
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
from secgan.metrics.examples import ExampleRecorder
from secgan.metrics.features import (
    SWAV_FILE,
    ClassifierFeatures,
    FeatureExtractor,
    SwAVResNet50,
    default_weights_dir,
    find_default_weights,
)
from secgan.metrics.frechet import FrechetReference, GaussianAccumulator
from secgan.metrics.ground_truth_eval import GroundTruthScorer
from secgan.metrics.inception import INCEPTION_FILES, InceptionV3
from secgan.metrics.per_image import PER_IMAGE_FILE, PerImageRecorder
from secgan.metrics.reconstruction import ReconstructionMeter
from secgan.metrics.stats_cache import RealStatsCache, names_hash
from secgan.models.conditioning import make_condition
from secgan.models.export import ModelCard
from secgan.models.inference import prepare_generator
from secgan.utils.device import resolve_device
from secgan.utils.io import file_sha256, publish_dir, write_json_atomic

log = logging.getLogger(__name__)

# extractor key -> (distance key, inception-score key); the names say the protocol.
METRIC_KEYS = {"swav": ("ssfid", None), "inception": ("fid", "is"), "classifier": ("fid_cls", "is_cls")}


# ---------------------------------------------------------------------------------------------- helpers
def _load_parser(opts: EvalOptions, nets: dict[str, nn.Module], card: ModelCard, device: torch.device):
    """The frozen parser: ``--parser P_DIR``, else the one bundled in the model folder, else ``None``."""
    from secgan.auxiliary.parser.frozen import FrozenParser

    if opts.parser is not None:
        p = FrozenParser.load(opts.parser, device)
        return p, {
            "source": str(opts.parser),
            "input_size": p.input_size,
            "weights_sha256": dir_hashes(Path(opts.parser)),
        }
    if "parser" in nets:
        p = FrozenParser.from_bundled(nets["parser"], card).to(device)
        bundled = card.parser
        provenance = {"trained_on": bundled.trained_on, "dir": bundled.dir} if bundled else {}
        return p, {"source": "bundled", "input_size": p.input_size, **provenance}
    return None, None


# ---------------------------------------------------------------------------------------------- driver
@torch.no_grad()
def evaluate(opts: EvalOptions) -> dict[str, Any]:
    """Run the evaluation and write ``metrics.json`` and ``examples.npz``; returns the metrics dict."""
    from secgan.auxiliary.classifier import classifier_columns, load_classifier
    from secgan.data.registry import build_dataset
    from secgan.models.export import load_pretrained

    t_start = time.perf_counter()
    device = torch.device(resolve_device(opts.device))
    if opts.batch < 1 or opts.is_splits < 1 or opts.num_examples < 0:
        raise ConfigError("--batch and --is-splits must be >= 1 and --examples >= 0")
    precision = opts.precision
    if precision not in ("fp32", "bf16"):
        raise ConfigError(f"--precision {opts.precision!r}; valid: fp32, bf16")
    model_dir, run_dir = resolve_model_dir(opts.model)
    out = Path(opts.out) if opts.out else (run_dir or model_dir) / EVAL_SUBDIR

    # ---- model
    nets, meta = load_pretrained(model_dir, device=device)
    card = ModelCard.from_json(meta, model_dir / "config.json")
    if "G" not in nets:
        raise WeightsError(f"{model_dir / 'config.json'}: no generator 'G'; networks: {', '.join(nets)}")
    g, g_seg = nets["G"], nets.get("G_seg")
    norm_mode = prepare_generator(g, card.norm_stats)
    if g_seg is not None:
        prepare_generator(g_seg, card.norm_stats)
    attributes = list(card.attributes)
    conditioning = card.conditioning
    target_scale = card.target_scale
    image_size = card.image_size
    needs_mask = card.needs_mask
    expressions = opts.dataset == "rafd" or attributes == list(RAFD_EXPRESSIONS)

    # ---- classifier, parser
    cnet, cmeta = load_classifier(opts.classifier, device)
    cnet.eval()
    cols = classifier_columns(attributes, cmeta, f"classifier {opts.classifier}")
    multilabel = bool(cmeta.get("multilabel", not expressions))
    cfeat = ClassifierFeatures(
        cnet, int(cmeta.get("image_size", image_size)), multilabel, str(opts.classifier)
    )
    parser, parser_info = _load_parser(opts, nets, card, device)
    if needs_mask and parser is None:
        raise ConfigError(
            f"{model_dir}: a 'concat' generator needs the input mask s_in: pass --parser P_DIR "
            "(or export the model with its parser)"
        )

    # ---- data
    ds = build_dataset(
        opts.dataset,
        opts.data,
        split=opts.split,
        attrs=None if expressions else attributes,
        image_size=image_size,
        flip=False,
        max_items=opts.max_images,
        **opts.data_options,
    )
    if list(ds.attributes) != attributes:
        raise ConfigError(
            f"dataset attributes {list(ds.attributes)} differ from the model's {attributes} "
            f"({model_dir / 'config.json'})"
        )
    n_images = len(ds)
    if n_images < 2:
        raise ConfigError(f"{opts.data}: split {opts.split!r} has {n_images} image(s); need at least 2")
    groups = list(attributes)
    n_groups = len(groups)
    n_pool = n_images * n_groups
    if n_pool < opts.is_splits:
        raise ConfigError(f"--is-splits {opts.is_splits} exceeds the {n_pool} translations")

    # ---- feature extractors (key -> extractor); the classifier substitute always runs
    notes: list[str] = []
    extractors: dict[str, FeatureExtractor] = {"classifier": cfeat}
    swav_path = opts.swav or find_default_weights((SWAV_FILE,))
    if swav_path:
        extractors["swav"] = SwAVResNet50(swav_path).to(device)
    else:
        notes.append(
            f"ssfid not computed: SwAV weights {SWAV_FILE} not given (pass --swav FILE or put it in "
            f"{default_weights_dir()}); fid_cls is the in-domain substitute, not ssFID"
        )
    inc_path = opts.inception or find_default_weights(INCEPTION_FILES)
    if inc_path:
        extractors["inception"] = InceptionV3(inc_path).to(device)
    else:
        notes.append(
            f"fid/is not computed: Inception-v3 weights ({' or '.join(INCEPTION_FILES)}) not given (pass "
            f"--inception FILE or put it in {default_weights_dir()}); is_cls is the in-domain substitute"
        )
    for note in notes:
        log.warning(note)

    # ---- cached real statistics
    cache = RealStatsCache(opts.cache_dir)
    data_id = {
        "dataset": opts.dataset,
        "root": str(Path(opts.data).resolve()),
        "split": opts.split,
        "image_size": image_size,
        "count": n_images,
        "names": names_hash(list(ds.names)),
        "data_options": {k: str(v) for k, v in sorted(opts.data_options.items())},
    }
    real_stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    real_acc: dict[str, GaussianAccumulator] = {}
    for key, ext in extractors.items():
        ckey = {"extractor": ext.cache_id(), **data_id}
        hit = cache.get(ckey)
        if hit is not None:
            real_stats[key] = hit
        else:
            real_acc[key] = GaussianAccumulator()
    fake_acc = {key: [GaussianAccumulator() for _ in groups] for key in extractors}
    is_acc = {
        key: ext.is_accumulator(n_pool, opts.is_splits, opts.seed)
        for key, ext in extractors.items()
        if ext.has_probs
    }

    counter = AccuracyCounter(groups)
    real_counter = AccuracyCounter(groups)
    per_image = PerImageRecorder(groups)  # -> per_image.npz, for paired intervals
    use_gt = opts.ground_truth and opts.dataset == "celeba" and not expressions  # counterfactuals: synthetic
    gt = GroundTruthScorer.maybe(opts.data, opts.split, groups, image_size, ds.names) if use_gt else None
    k_ex = min(opts.num_examples, n_images)
    examples = ExampleRecorder(k_ex, groups, attributes, expressions)  # -> examples.npz (Figure 5)
    amp = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if precision == "bf16"
        else contextlib.nullcontext()
    )

    loader = torch.utils.data.DataLoader(
        ds, batch_size=opts.batch, shuffle=False, num_workers=opts.workers, collate_fn=_collate
    )
    recon = ReconstructionMeter()
    t_loop = time.perf_counter()
    for batch in tqdm(loader, desc="evaluate", unit="batch"):
        x = batch["image"].to(device, non_blocking=True)
        y_src = batch["label"].to(device).float()
        b = x.shape[0]
        per_image.add_names(batch["name"])
        take = examples.wanted(b)  # how many of this batch go to the examples
        # s_in: the parser's mask of the input, for "concat" generators and the example figures
        s_in = parser.labels12(x) if parser is not None and (needs_mask or take) else None  # [B, S, S]

        # real images: classifier sanity check and feature statistics
        logits_real, feats_real = cfeat.logits_and_features(x)
        logits_real = logits_real[:, cols]
        for gi in range(n_groups):
            if expressions:  # per expression: recall on the real images showing it
                shown = y_src.argmax(1) == gi
                real_counter.update(gi, (logits_real.argmax(1) == gi)[shown])
            else:
                real_counter.update(gi, (logits_real[:, gi] > 0) == (y_src[:, gi] > 0.5))
        for key in real_acc:
            real_acc[key].update(feats_real if key == "classifier" else extractors[key](x)["features"])
        if take:
            examples.add_inputs(take, x, batch["name"], y_src, s_in)

        g_in = card.generator_input(x, s_in)
        # held-out reconstruction: the generator asked for no change, G(x, c0), against x
        unchanged = torch.zeros_like(y_src, dtype=torch.bool)
        c0 = make_condition(y_src, y_src, conditioning, opts.intensity, target_scale, unchanged)
        with amp:
            x_rec = g(g_in, c0).float().clamp(-1, 1)  # [B, 3, S, S] in [-1, 1]
        recon.update(x, x_rec)
        for gi in range(n_groups):
            if expressions:
                y_trg = rafd_edit_targets(b, gi, n_groups, device=device)
            else:
                y_trg = celeba_edit_targets(y_src, gi, attributes)
            edited = torch.zeros_like(y_src, dtype=torch.bool)
            edited[:, gi] = True
            c = make_condition(y_src, y_trg, conditioning, opts.intensity, target_scale, edited)
            with amp:
                x_out = g(g_in, c).float().clamp(-1, 1)  # [B, 3, S, S] in [-1, 1]
            logits, feats = cfeat.logits_and_features(x_out)  # the classifier runs in float32
            logits = logits[:, cols]
            if expressions:
                correct = logits.argmax(1) == gi
            else:
                correct = edit_correct((logits > 0).float(), y_trg, gi)
            counter.update(gi, correct, None if expressions else implied_changes(y_src, y_trg, gi))

            def judge(images: torch.Tensor, rows: torch.Tensor, y_trg=y_trg, gi=gi) -> torch.Tensor:
                # the same test on the ground-truth edits of rows `rows`: the accuracy ceiling
                return edit_correct(
                    (cfeat.logits_and_features(images)[0][:, cols] > 0).float(), y_trg[rows], gi
                )

            gt_values = (
                gt.update(groups[gi], batch["name"], x, x_out, parser, judge) if gt is not None else {}
            )
            per_image.add(gi, correct, **gt_values)
            for key, ext in extractors.items():
                o = (
                    {"features": feats, "probs": cfeat.probs_from_logits(logits)}
                    if key == "classifier"
                    else ext(x_out)
                )
                fake_acc[key][gi].update(o["features"])
                if key in is_acc:
                    is_acc[key].update(o["probs"])
            if take:
                if gt is not None:
                    gt.add_examples(groups[gi], batch["name"][:take])
                mask_out = None
                if g_seg is not None and s_in is not None:
                    with amp:
                        mask_out = g_seg(one_hot(s_in[:take]), c[:take]).float().argmax(1)  # [take, S', S']
                mask_parsed = parser.labels12(x_out[:take]) if parser is not None else None
                examples.add_edit(take, gi, x_out, y_trg, correct, mask_out, mask_parsed)
    loop_seconds = time.perf_counter() - t_loop

    # ---- statistics -> metrics
    for key, acc in real_acc.items():
        mu, sigma = acc.compute()
        real_stats[key] = (mu, sigma)
        cache.put({"extractor": extractors[key].cache_id(), **data_id}, mu, sigma)
    distances: dict[str, Any] = {}
    for key in extractors:
        dkey = METRIC_KEYS[key][0]
        ref = FrechetReference(*real_stats[key])  # real test images, factorised once for all groups
        per = {}
        for gi, name in enumerate(groups):
            per[name] = ref.distance(*fake_acc[key][gi].compute())
        distances[dkey] = {"per_attribute": per, "mean": float(np.mean(list(per.values())))}
    scores: dict[str, Any] = {}
    for key, acc in is_acc.items():
        scores[METRIC_KEYS[key][1]] = acc.compute()

    substitutes = {
        "fid_cls": "Fréchet distance on the evaluation classifier's penultimate features (in-domain substitute)",
        "is_cls": cfeat.protocol()["is_definition"] + " (in-domain substitute)",
    }
    metrics: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model": {
            "dir": str(model_dir),
            "run_dir": str(run_dir) if run_dir else None,
            **{
                k: getattr(card, k)
                for k in ("dataset", "backbone", "mode", "lambda_sc", "seed", "iterations", "image_size")
            },
            "imported_from": card.imported_from,
            "conditioning": conditioning,
            "attributes": attributes,
        },
        "accuracy": {**counter.summary(), "ceiling": gt.ceiling_summary() if gt is not None else None},
        "classifier_on_real": real_counter.summary(),
        "distances": distances,
        "inception_scores": scores,
        "ground_truth": gt.summary() if gt is not None else None,  # docs/counterfactuals.md
        "reconstruction": recon.summary(),
        "protocol": {
            "dataset": opts.dataset,
            "data_root": str(Path(opts.data).resolve()),
            "split": opts.split,
            "resolution": image_size,
            "num_images": n_images,
            "num_translations": n_pool,
            "intensity": opts.intensity,
            "edits": (
                "each test image to each of the expressions; correct when the classifier's argmax is the target"
                if expressions
                else "each attribute inverted, then conflict rules (hair colours exclusive; Bald on -> Bangs "
                "off; Bangs on -> Bald off; Mustache and No_Beard exclusive); correct when the thresholded prediction equals the target"
            ),
            "groups": groups,
            "distance_protocol": "Fréchet distance per edit group against all real test images, then the mean",
            "frechet_method": "eigh (tr sqrt(S1 S2) from the eigenvalues of S1^1/2 S2 S1^1/2; = scipy sqrtm route)",
            "is_splits": opts.is_splits,
            "is_split_seed": {METRIC_KEYS[k][1]: acc.seed for k, acc in is_acc.items()},
            "is_split_rule": {METRIC_KEYS[k][1]: acc.rule for k, acc in is_acc.items()},
            "model_weights_sha256": dir_hashes(model_dir),
            "classifier": {
                "dir": str(opts.classifier),
                "weights_sha256": dir_hashes(Path(opts.classifier)),
                "weights_hash": cfeat.weights_hash,
                "image_size": cfeat.image_size,
                "multilabel": multilabel,
            },
            "parser": parser_info,
            "feature_extractors": {METRIC_KEYS[k][0]: ext.protocol() for k, ext in extractors.items()},
            "substitutes": substitutes,
            "precision": precision,
            "precision_detail": f"generator: {precision}; classifier and feature extractors: float32",
            "generator_norm_stats": norm_mode,
            "device": str(device),
        },
        "notes": notes,
        "examples": EXAMPLES_FILE if k_ex else None,
        "per_image": PER_IMAGE_FILE,
        "timing": {
            "seconds": round(time.perf_counter() - t_start, 3),
            "loop_seconds": round(loop_seconds, 3),
            "test_images_per_second": round(n_images / max(loop_seconds, 1e-9), 3),
            "translations_per_second": round(n_pool / max(loop_seconds, 1e-9), 3),
        },
    }
    # The files appear together (a temporary folder renamed into place); metrics.json records the
    # digests of the others, so a reader can tell a complete set.
    with publish_dir(out, (EXAMPLES_FILE, PER_IMAGE_FILE, METRICS_FILE)) as tmp:
        arrays = examples.arrays()
        if arrays:
            if gt is not None:
                arrays.update(gt.example_arrays())  # counterfactuals, counterfactual_masks
            np.savez_compressed(tmp / EXAMPLES_FILE, **arrays)
        per_image.write(tmp)
        files = [f for f in (EXAMPLES_FILE, PER_IMAGE_FILE) if (tmp / f).is_file()]
        metrics["files"] = {f: file_sha256(tmp / f) for f in files}
        write_json_atomic(metrics, tmp / METRICS_FILE)
    log.info("wrote %s", out / METRICS_FILE)
    metrics["out"] = str(out)
    return metrics


def _collate(items: list[dict]) -> dict:
    return {
        "image": torch.stack([it["image"] for it in items]),
        "label": torch.stack([torch.as_tensor(it["label"]) for it in items]),
        "name": [str(it["name"]) for it in items],
    }
