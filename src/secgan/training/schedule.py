"""Learning-rate schedules as pure functions of the step (so a resumed run recomputes them exactly)."""

from __future__ import annotations

from secgan.errors import ConfigError


def lr_at(
    step: int, base_lr: float, total: int, decay_start: int, kind: str = "linear", final_lr: float = 0.0
) -> float:
    """The learning rate used by iteration ``step`` (1-based, counted in critic steps).

    - ``"constant"``: ``base_lr`` throughout.
    - ``"linear"`` (StarGAN, paper §4.3): ``base_lr`` up to ``decay_start``, then linearly down to 0 at ``total``:
      ``base_lr * (total - step) / (total - decay_start)``.
    - ``"exponential"`` (AttGAN): ``base_lr`` up to ``decay_start``, then
      ``base_lr * (final_lr / base_lr) ** ((step - decay_start) / (total - decay_start))``, reaching
      ``final_lr`` at ``total``.
    """
    if kind == "constant" or step <= decay_start or total <= decay_start:
        if kind not in ("constant", "linear", "exponential"):
            raise ConfigError(f"unknown lr schedule {kind!r}; valid: constant, linear, exponential")
        return base_lr
    frac = min(1.0, (step - decay_start) / (total - decay_start))
    if kind == "linear":
        return base_lr * (1.0 - frac)
    if kind == "exponential":
        if final_lr <= 0 or base_lr <= 0:
            raise ConfigError("the exponential lr schedule needs base_lr > 0 and final_lr > 0")
        return base_lr * (final_lr / base_lr) ** frac
    raise ConfigError(f"unknown lr schedule {kind!r}; valid: constant, linear, exponential")
