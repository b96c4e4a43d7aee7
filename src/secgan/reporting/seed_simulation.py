"""Simulated reproductions for checking the seed-level verdict (:mod:`secgan.reporting.seed_inference`).

One simulated experiment is what ``secgan reproduce`` measures: two methods, ``n_seeds`` training runs each
(paired by seed), each run scored on ``n_images`` test images × 13 attributes with binary outcomes
(correct / wrong edit). The model, in accuracy fractions:

- each attribute has a base accuracy (:data:`BASE_ACCURACY`: the Baseline's per-attribute accuracies of the
  committed 3-seed ``standard`` reproduction, 34-98 %);
- each training run ``(method, seed)`` shifts every attribute by a run effect ``u`` (normal, or Student t
  with 3 degrees of freedom for heavy tails), scaled so that the paired difference of two runs,
  ``u_treated − u_control``, has standard deviation ``diff_sd`` (the "seed spread"; 3-6 points on our
  faces: the committed per-seed SeCGAN − Baseline differences are +10.0, +3.2, +0.3, sd 5.0), plus an
  attribute × run interaction of half that size;
- the treated method adds ``delta`` to every attribute (0: no true difference);
- each image's outcome is Bernoulli(p) with p clipped to [0.01, 0.99]; the number correct out of
  ``n_images`` is drawn as its Binomial, which is the same distribution as the sum of the binary outcomes.

:func:`simulate_cells` returns the per-run, per-attribute accuracies laid out as ``[..., n_seeds, 1, n_attr]``
(one "image" axis holding the mean over the images), the layout :func:`~secgan.reporting.seed_inference.seed_values`
reads, so a simulated experiment goes through the same functions as a real report.
"""

from __future__ import annotations

import numpy as np

from secgan.reporting.seed_inference import LEVEL, seed_values, t_intervals

# Baseline, standard preset (3 seeds × 300 images), per attribute: Bald, Bangs, Black_Hair, Blond_Hair,
# Brown_Hair, Bushy_Eyebrows, Eyeglasses, Male, Mouth_Slightly_Open, Mustache, No_Beard, Pale_Skin, Young
BASE_ACCURACY = np.array(
    [0.341, 0.771, 0.860, 0.769, 0.733, 0.736, 0.794, 0.763, 0.913, 0.637, 0.898, 0.983, 0.638]
)


def simulate_cells(
    rng: np.random.Generator,
    n_experiments: int,
    n_seeds: int,
    diff_sd: float,
    delta: float = 0.0,
    n_images: int = 300,
    heavy_tails: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(treated, control)``, each ``[n_experiments, n_seeds, 1, n_attr]`` accuracy fractions (see the
    module docstring); ``diff_sd`` and ``delta`` are fractions (0.05 = 5 points)."""
    shape = (2, n_experiments, n_seeds)
    if heavy_tails:  # Student t(3), rescaled to unit variance (its variance is 3)
        run = rng.standard_t(3, size=shape) / np.sqrt(3.0)
    else:
        run = rng.standard_normal(shape)
    run_sd = diff_sd / np.sqrt(2.0)  # two independent runs per seed: their difference has sd diff_sd
    a = BASE_ACCURACY.size
    inter = rng.standard_normal((*shape, a)) * (0.5 * run_sd)
    p = BASE_ACCURACY + run_sd * run[..., None] + inter  # [2, E, S, A]
    p[0] += delta
    p = np.clip(p, 0.01, 0.99)
    correct = rng.binomial(n_images, p) / float(n_images)
    return correct[0][..., None, :], correct[1][..., None, :]


def verdict_rates(
    rng: np.random.Generator,
    n_experiments: int,
    n_seeds: int,
    diff_sd: float,
    delta: float = 0.0,
    level: float = LEVEL,
    heavy_tails: bool = False,
) -> dict[str, float]:
    """Share of simulated experiments whose seed-level interval excludes 0 (``"excludes_zero"``), lies wholly
    above 0 (``"higher"``) or below (``"lower"``), through :func:`seed_values` and :func:`t_intervals`."""
    treated, control = simulate_cells(rng, n_experiments, n_seeds, diff_sd, delta, heavy_tails=heavy_tails)
    d = seed_values(treated) - seed_values(control)  # [E, S]
    _, low, high, _ = t_intervals(d, level)
    higher, lower = float(np.mean(low > 0)), float(np.mean(high < 0))
    return {"excludes_zero": higher + lower, "higher": higher, "lower": lower, "n_experiments": n_experiments}
