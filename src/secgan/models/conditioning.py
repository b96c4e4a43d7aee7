"""How a generator is conditioned on labels.

SeCGAN conditions on ``y_diff = y_trg - y_src`` (after STGAN); the public checkpoints of the official
StarGAN condition on the 0/1 target label and those of the PyTorch AttGAN on the target label mapped to
±thres_int. Every caller (trainer, evaluator, editor, importers) builds the condition here.
"""

from __future__ import annotations

import torch

from secgan.errors import ConfigError

CONDITIONINGS = ("diff", "target01", "target_pm")


def make_condition(
    y_src: torch.Tensor,
    y_trg: torch.Tensor,
    mode: str = "diff",
    intensity: float = 1.0,
    scale: float = 0.5,
    edited: torch.Tensor | None = None,
) -> torch.Tensor:
    """Condition vector ``[N, n_a]``.

    Args:
        y_src, y_trg: labels ``[N, n_a]`` in {0, 1}.
        mode: ``"diff"`` -> ``(y_trg - y_src) * intensity`` (values in {-1, 0, 1} at intensity 1);
            ``"target01"`` -> ``y_trg``; ``"target_pm"`` -> ``(2 y_trg - 1) * scale`` with the attributes
            marked in ``edited`` (bool ``[N, n_a]``) set to ``±intensity`` (AttGAN's test_int).
        intensity: edit strength (the paper's test intensity; 1 = trained strength).
        scale: AttGAN's thres_int for ``target_pm``.
    """
    if mode == "diff":
        return (y_trg - y_src) * intensity
    if mode == "target01":
        return y_trg.clone()
    if mode == "target_pm":
        c = (2 * y_trg - 1) * scale
        if edited is not None:
            c = torch.where(edited.bool(), (2 * y_trg - 1) * intensity, c)
        return c
    raise ConfigError(f"unknown conditioning {mode!r}; valid: {', '.join(CONDITIONINGS)}")
