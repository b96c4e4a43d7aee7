"""Expected time of each reproduction stage, for the progress line ("[6/11] train:baseline-s0 ... about
4 min for this stage, 13 min left in all").

Each synthetic stage has a reference cost: seconds on the 2-core CPU the synthetic presets were sized on
(an Intel Xeon at 2.8 GHz with AVX-512 but no AMX, float32, 2 threads; measured with the stages of
`secgan reproduce --preset demo` and `benchmarks/train_speed.py`, docs/synthetic-benchmark.md, "Time of
the presets"). The runner scales the references by how fast this machine did the stages already run, so
the remaining time adapts to the host. Real-data presets have no reference: their progress line names the
stage only, and the trainer's own progress bar gives the training's remaining time.
"""

from __future__ import annotations

import re

from secgan.reproduce.plans import ReproducePreset, preset_iterations

# Seconds per training iteration (batch 16, N = 1, float32, 2 threads) of the synthetic presets at 64 px
# with the width-8 parser at 256 px input: benchmarks/train_speed.py --precision fp32 --threads 2.
S_PER_ITERATION = {
    ("stargan", "baseline"): 0.72,
    ("stargan", "concat"): 0.76,
    ("stargan", "secgan"): 1.90,
    ("attgan", "baseline"): 0.20,
    ("attgan", "concat"): 0.22,
    ("attgan", "secgan"): 0.72,
    ("stgan", "baseline"): 0.47,
    ("stgan", "concat"): 0.50,
    ("stgan", "secgan"): 1.30,
}
# Per image (and epoch where there are epochs), measured at 64 px on the same CPU.
SYNTH_S_PER_FACE = 0.054  # a face, its masks and its 13 counterfactuals
MASK_CACHE_S_PER_FACE = 0.0066
PARSER_S_PER_IMAGE_EPOCH_256 = 0.0193  # BiSeNet width 8 at 256 px input; scales with the input's area
JUDGE_S_PER_IMAGE_EPOCH = 0.0117  # U-Net width 8 at 64 px
CLASSIFIER_S_PER_IMAGE_EPOCH = 0.0056  # per face or counterfactual seen
EVAL_S_PER_IMAGE = 0.2  # 13 edits, the ground truth, both parsers
TRAIN_FRACTION = 0.8  # the training split's share of the synthetic faces


def _option(args: tuple[str, ...], name: str, default: float) -> float:
    """The value after ``name`` in a CLI argument tuple, else ``default``."""
    args = tuple(map(str, args))
    return float(args[args.index(name) + 1]) if name in args else default


def reference_seconds(preset: ReproducePreset, stage: str) -> float | None:
    """Seconds ``stage`` takes on the reference CPU, or ``None`` where there is no reference."""
    if not preset.synthetic_num or preset.image_size != 64:
        return None
    faces = preset.synthetic_num
    train = TRAIN_FRACTION * faces
    if stage == "data":
        return SYNTH_S_PER_FACE * faces
    if stage == "mask-cache":
        return MASK_CACHE_S_PER_FACE * faces
    if stage == "parser":
        area = (_option(preset.parser_extra, "--input-size", 256) / 256) ** 2
        return PARSER_S_PER_IMAGE_EPOCH_256 * area * train * preset.parser_epochs
    if stage == "judge":
        return JUDGE_S_PER_IMAGE_EPOCH * train * _option(preset.judge_extra, "--epochs", 3)
    if stage == "classifier":  # each face and one of its counterfactuals per epoch
        return CLASSIFIER_S_PER_IMAGE_EPOCH * 2 * train * preset.classifier_epochs
    m = re.fullmatch(r"(train|evaluate):(baseline|concat|secgan)\S*", stage)
    if m and m.group(1) == "evaluate":
        return EVAL_S_PER_IMAGE * (preset.eval_max_images or 0.1 * faces)
    if m:
        backbone = preset.train_preset.split("-")[1]
        per_it = S_PER_ITERATION.get((backbone, m.group(2)))
        its = preset_iterations(preset)
        return per_it * its if per_it is not None and its else None
    return {"report": 5.0, "edits": 10.0}.get(stage)


def minutes(seconds: float) -> str:
    """``"40 s"`` under a minute, else ``"3 min"``."""
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.0f} min"
