"""Face-parsing label maps: the 19 CelebAMask-HQ / BiSeNet classes, the paper's 12 segments, the
mapping between them, one-hot encoding and a colour palette.

Conventions: a *label map* is an integer array/tensor ``[H, W]`` (or ``[N, H, W]``) of class ids; a
*one-hot* or *soft* mask is a float tensor ``[N, C, H, W]`` whose channels sum to 1 at each pixel.
"""

from __future__ import annotations

import numpy as np
import torch

# The 19 classes of CelebAMask-HQ as numbered by the face-parsing BiSeNet (paper-notes §5); also the order in
# which part masks overwrite each other when merged (later wins: hat over hair over cloth ...).
PARTS_19: tuple[str, ...] = (
    "background", "skin", "l_brow", "r_brow", "l_eye", "r_eye", "eye_g", "l_ear", "r_ear", "ear_r",
    "nose", "mouth", "u_lip", "l_lip", "neck", "neck_l", "cloth", "hair", "hat",
)  # fmt: skip

# The paper's 12 segments.
SEGMENTS_12: tuple[str, ...] = (
    "skin", "eyebrows", "eyes", "eyeglasses", "ears", "earrings", "nose", "mouth", "lips", "neck", "hair",
    "others",
)  # fmt: skip
NUM_SEGMENTS = len(SEGMENTS_12)

# LUT_19_TO_12[k] = paper segment of BiSeNet class k (others = background, necklace, cloth, hat).
LUT_19_TO_12: tuple[int, ...] = (11, 0, 1, 1, 2, 2, 3, 4, 4, 5, 6, 7, 8, 8, 9, 11, 11, 10, 11)

# Colours (RGB uint8) for drawing the 12 segments.
PALETTE_12: tuple[tuple[int, int, int], ...] = (
    (255, 204, 153),  # skin
    (102, 51, 0),  # eyebrows
    (0, 102, 255),  # eyes
    (255, 255, 0),  # eyeglasses
    (255, 128, 128),  # ears
    (255, 0, 255),  # earrings
    (255, 153, 51),  # nose
    (102, 0, 51),  # mouth
    (230, 25, 75),  # lips
    (204, 153, 102),  # neck
    (60, 40, 20),  # hair
    (128, 128, 128),  # others
)


def map_19_to_12(labels: np.ndarray | torch.Tensor) -> np.ndarray | torch.Tensor:
    """Hard 19-class label map (any shape, ints in [0, 19)) -> 12-segment label map, same shape and type."""
    if isinstance(labels, torch.Tensor):
        lut = torch.tensor(LUT_19_TO_12, dtype=torch.long, device=labels.device)
        return lut[labels.long()]
    return np.asarray(LUT_19_TO_12, dtype=np.uint8)[np.asarray(labels, dtype=np.int64)]


def matrix_19_to_12(
    device: torch.device | str | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """The 0/1 matrix ``M [19, 12]`` with ``M[k, LUT[k]] = 1``."""
    m = torch.zeros(len(PARTS_19), NUM_SEGMENTS, dtype=dtype, device=device)
    m[torch.arange(len(PARTS_19)), torch.tensor(LUT_19_TO_12)] = 1
    return m


def soft_19_to_12(probs19: torch.Tensor) -> torch.Tensor:
    """Differentiable: probabilities ``[N, 19, H, W]`` -> ``[N, 12, H, W]`` by summing merged classes."""
    m = matrix_19_to_12(probs19.device, probs19.dtype)
    # einsum gives a permuted view; some CPU backward kernels (nll_loss) need a contiguous tensor.
    return torch.einsum("nkhw,kc->nchw", probs19, m).contiguous()


def log_soft_19_to_12(log_probs19: torch.Tensor) -> torch.Tensor:
    """Differentiable, in log space: log-probabilities ``[N, 19, H, W]`` (a log-softmax) -> the 12 segments'
    log-probabilities ``[N, 12, H, W]``, ``log p12_c = logsumexp_{k in c} log p19_k``.

    Exact at any magnitude: a segment of probability 1e-30 gets ``log(1e-30)`` and a gradient, where summing
    probabilities and taking the log would need a clamp. Merged classes are combined with ``logaddexp``.
    """
    out = []
    for c in range(NUM_SEGMENTS):
        members = [k for k, seg in enumerate(LUT_19_TO_12) if seg == c]
        acc = log_probs19[:, members[0]]
        for k in members[1:]:
            acc = torch.logaddexp(acc, log_probs19[:, k])
        out.append(acc)
    return torch.stack(out, dim=1)  # [N, 12, H, W]


def one_hot(labels: torch.Tensor, num_classes: int = NUM_SEGMENTS) -> torch.Tensor:
    """Label map ``[N, H, W]`` (long) -> one-hot float ``[N, C, H, W]``."""
    return torch.nn.functional.one_hot(labels.long(), num_classes).permute(0, 3, 1, 2).float()


def from_one_hot(mask: torch.Tensor) -> torch.Tensor:
    """One-hot or soft mask ``[N, C, H, W]`` -> label map ``[N, H, W]`` (argmax over channels)."""
    return mask.argmax(dim=1)


def merge_part_masks(parts: dict[str, np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Merge binary part masks (name -> bool/uint8 array ``[H, W]``, keys from :data:`PARTS_19`) into one
    19-class label map ``[H, W]`` uint8; later parts in :data:`PARTS_19` order overwrite earlier ones;
    pixels covered by no part are background (0)."""
    out = np.zeros(shape, dtype=np.uint8)
    for k, name in enumerate(PARTS_19):
        if k == 0 or name not in parts:
            continue
        out[np.asarray(parts[name]).astype(bool)] = k
    return out


def colorize(labels: np.ndarray | torch.Tensor) -> np.ndarray:
    """12-segment label map ``[H, W]`` -> RGB uint8 ``[H, W, 3]`` with :data:`PALETTE_12`."""
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    return np.asarray(PALETTE_12, dtype=np.uint8)[np.asarray(labels, dtype=np.int64)]
