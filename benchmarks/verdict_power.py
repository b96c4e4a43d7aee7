"""How often does the seed-level verdict find a true difference, and how often does it invent one?

Simulated reproductions (:mod:`secgan.reporting.seed_simulation`: 300 test images × 13 attributes with
binary outcomes, each training run shifted by a seed effect) go through the functions the report uses
(:func:`secgan.reporting.seed_inference.seed_values` and :func:`~secgan.reporting.seed_inference.t_intervals`).
For each number of seeds it prints, as JSON:

- ``false_verdicts``: the share of experiments with **no** true difference whose 95 % interval excludes 0
  (nominal 5 %), at seed spreads of 3 and 6 points and with heavy-tailed (Student t, 3 df) seed effects;
- ``power``: the share of experiments with a true difference whose interval lies wholly above 0 (the verdict
  says *better*), for a difference of one standard deviation of the per-seed paired difference
  (``delta = diff_sd``, the standardised effect the t-test sees is then about 1) and of one standard
  deviation of one method's accuracy across seeds (``delta = diff_sd / sqrt(2)``, when the two methods'
  seed effects are independent), with ``diff_sd`` 4 points (our committed 3-seed differences: sd 5.0).

Usage::

    python benchmarks/verdict_power.py                   # 20,000 experiments per case, ~10 s
    python benchmarks/verdict_power.py --experiments 2000 --seeds 3 5 8

The noncentral-t power of a paired t-test at a standardised effect of 1 is printed beside the simulation
(``scipy.stats.nct``) as a check.
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
from scipy import stats

from secgan.reporting.seed_simulation import verdict_rates

DIFF_SD = 0.04


def _nct_power(n: int, effect: float, level: float = 0.95) -> float:
    crit = stats.t.ppf(0.5 + level / 2, n - 1)
    nc = effect * math.sqrt(n)
    return float(stats.nct.sf(crit, n - 1, nc) + stats.nct.cdf(-crit, n - 1, nc))


def measure(seeds: list[int], experiments: int, rng_seed: int = 0) -> dict:
    rng = np.random.default_rng(rng_seed)
    out: dict = {
        "experiments_per_case": experiments,
        "model": "300 test images x 13 attributes, binary outcomes; per-run seed effect (normal or t3) and "
        "attribute x run interaction; secgan.reporting.seed_simulation",
        "diff_sd_points": 100 * DIFF_SD,
        "by_seeds": {},
    }
    for n in seeds:
        row = {
            "false_verdicts": {
                "spread_3_points": verdict_rates(rng, experiments, n, 0.03)["excludes_zero"],
                "spread_6_points": verdict_rates(rng, experiments, n, 0.06)["excludes_zero"],
                "spread_5_points_heavy_tails": verdict_rates(rng, experiments, n, 0.05, heavy_tails=True)[
                    "excludes_zero"
                ],
            },
            "power": {
                "delta_one_sd_of_the_paired_difference": verdict_rates(rng, experiments, n, DIFF_SD, DIFF_SD)[
                    "higher"
                ],
                "delta_one_sd_of_one_method": verdict_rates(
                    rng, experiments, n, DIFF_SD, DIFF_SD / math.sqrt(2)
                )["higher"],
                "noncentral_t_at_effect_1": _nct_power(n, 1.0),
            },
        }
        out["by_seeds"][str(n)] = row
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 5, 8])
    ap.add_argument("--experiments", type=int, default=20000)
    ap.add_argument("--rng-seed", type=int, default=0)
    args = ap.parse_args()
    print(json.dumps(measure(args.seeds, args.experiments, args.rng_seed), indent=1))


if __name__ == "__main__":
    main()
