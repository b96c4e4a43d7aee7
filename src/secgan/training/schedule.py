"""Learning-rate schedules as pure functions of the step (so a resumed run recomputes them exactly)."""

from __future__ import annotations

from secgan.errors import ConfigError

SCHEDULES = ("linear", "exponential", "constant", "stargan_official", "step")
OFFICIAL_UPDATE_STEP = 1000  # official StarGAN's lr_update_step


def lr_at(
    step: int, base_lr: float, total: int, decay_start: int, kind: str = "linear", final_lr: float = 0.0
) -> float:
    """The learning rate used by iteration ``step`` (1-based, counted in critic steps).

    - ``"constant"``: ``base_lr`` throughout.
    - ``"linear"`` (the paper §4.3, "linearly decay to 0"): ``base_lr`` up to ``decay_start``, then linearly
      down to 0 at ``total``: ``base_lr * (total - step) / (total - decay_start)``.
    - ``"stargan_official"`` (official StarGAN ``solver.py``): after each completed iteration ``k`` that is a
      multiple of 1,000 and beyond ``decay_start``, ``base_lr / (total - decay_start)`` is *subtracted*
      once; with 200K iterations and decay from 100K that is 100 subtractions of ``base_lr / 100,000``,
      which leaves the rate at 99.9 % of ``base_lr`` at the end (not the paper's decay to 0).
    - ``"exponential"`` (AttGAN): ``base_lr`` up to ``decay_start``, then
      ``base_lr * (final_lr / base_lr) ** ((step - decay_start) / (total - decay_start))``, reaching
      ``final_lr`` at ``total``.
    - ``"step"`` (official STGAN ``train.py``: ``lr / 10 ** (epoch // 100)`` over 200 epochs): ``base_lr`` up
      to ``decay_start``, then ``final_lr``.
    """
    if kind not in SCHEDULES:
        raise ConfigError(f"unknown lr schedule {kind!r}; valid: {', '.join(SCHEDULES)}")
    if kind == "constant" or step <= decay_start or total <= decay_start:
        return base_lr
    if kind == "step":
        return final_lr
    if kind == "stargan_official":
        # iterations completed before this one that triggered a decrement: multiples of the update step
        # in (decay_start, step - 1]
        k = OFFICIAL_UPDATE_STEP
        count = max(0, (step - 1) // k - decay_start // k)
        return base_lr - count * (base_lr / (total - decay_start))
    frac = min(1.0, (step - decay_start) / (total - decay_start))
    if kind == "linear":
        return base_lr * (1.0 - frac)
    if final_lr <= 0 or base_lr <= 0:
        raise ConfigError("the exponential lr schedule needs base_lr > 0 and final_lr > 0")
    return base_lr * (final_lr / base_lr) ** frac
