"""``eval/examples.npz``: the first K test images and their edits, for the paper's Figure 5.

Written by :func:`secgan.metrics.evaluate.evaluate`, read by :mod:`secgan.reporting.figures`. Keys (``K``
examples, ``A`` edit groups, ``S`` the image size):

=======================  ===============================  ===============================================
key                      shape, dtype                     meaning
=======================  ===============================  ===============================================
``images``               ``[K, S, S, 3]`` uint8           the test images
``names``                ``[K]`` str                      their file names
``y_src``                ``[K, n_attr]`` float32          their labels
``groups``               ``[A]`` str                      edit groups (attributes or expressions)
``attributes``           ``[n_attr]`` str                 the model's attributes
``translations``         ``[A, K, S, S, 3]`` uint8        edit ``a`` of image ``k``
``y_trg``                ``[A, K, n_attr]`` float32       its target labels (after the conflict rules)
``correct``              ``[A, K]`` bool                  the accuracy protocol's verdict on it
``expressions``          ``[]`` bool                      RaFD-style groups
``mask_in``              ``[K, S', S']`` uint8            parser's 12-segment map of the input (if any)
``mask_out``             ``[A, K, S', S']`` uint8         G_seg's translated map (SeCGAN only)
``mask_parsed_out``      ``[A, K, S', S']`` uint8         parser's map of the edit (if a parser)
``counterfactuals``      ``[A, K, S, S, 3]`` uint8        ground-truth edits (synthetic data only)
``counterfactual_masks`` ``[A, K, S, S]`` uint8           their part maps
=======================  ===============================  ===============================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from secgan.data.transforms import tensor_to_image


class ExampleRecorder:
    """Collects the arrays of ``examples.npz`` batch by batch, for the first ``k`` test images."""

    def __init__(self, k: int, groups: Sequence[str], attributes: Sequence[str], expressions: bool):
        self.k = k
        self.groups = list(groups)
        self.attributes = list(attributes)
        self.expressions = expressions
        self._images: list[np.ndarray] = []
        self._names: list[str] = []
        self._y_src: list[np.ndarray] = []
        self._mask_in: list[np.ndarray] = []
        n = len(self.groups)
        self._trans: list[list[np.ndarray]] = [[] for _ in range(n)]
        self._y_trg: list[list[np.ndarray]] = [[] for _ in range(n)]
        self._correct: list[list[np.ndarray]] = [[] for _ in range(n)]
        self._mask_out: list[list[np.ndarray]] = [[] for _ in range(n)]
        self._mask_parsed: list[list[np.ndarray]] = [[] for _ in range(n)]

    def wanted(self, batch_size: int) -> int:
        """How many images of the next batch (of ``batch_size``) become examples: 0 once ``k`` are kept.
        The examples are the first test images, so every batch before that is taken whole."""
        return max(0, min(self.k - len(self._names), batch_size))

    def add_inputs(
        self, take: int, x: torch.Tensor, names: Sequence[str], y_src: torch.Tensor, s_in: torch.Tensor | None
    ) -> None:
        """The first ``take`` inputs of a batch: x [B, 3, S, S] in [-1, 1], y_src [B, n_attr] {0, 1},
        s_in [B, S', S'] segment indices or ``None``."""
        self._images.append(tensor_to_image(x[:take]))
        self._names += [str(n) for n in names[:take]]
        self._y_src.append(y_src[:take].cpu().numpy())
        if s_in is not None:
            self._mask_in.append(s_in[:take].to(torch.uint8).cpu().numpy())

    def add_edit(
        self,
        take: int,
        group: int,
        x_out: torch.Tensor,
        y_trg: torch.Tensor,
        correct: torch.Tensor,
        mask_out: torch.Tensor | None = None,
        mask_parsed: torch.Tensor | None = None,
    ) -> None:
        """Edit ``group`` of the first ``take`` inputs: x_out [B, 3, S, S] in [-1, 1], y_trg [B, n_attr],
        correct [B] bool; mask_out / mask_parsed [take, S', S'] segment indices when there are some."""
        self._trans[group].append(tensor_to_image(x_out[:take]))
        self._y_trg[group].append(y_trg[:take].cpu().numpy())
        self._correct[group].append(correct[:take].cpu().numpy())
        if mask_out is not None:
            self._mask_out[group].append(mask_out.to(torch.uint8).cpu().numpy())
        if mask_parsed is not None:
            self._mask_parsed[group].append(mask_parsed.to(torch.uint8).cpu().numpy())

    def arrays(self) -> dict[str, np.ndarray]:
        """The file's arrays (``{}`` when no example was kept)."""
        if not self._images:
            return {}
        out: dict[str, np.ndarray] = {
            "images": np.concatenate(self._images),
            "names": np.array(self._names),
            "y_src": np.concatenate(self._y_src).astype(np.float32),
            "groups": np.array(self.groups),
            "attributes": np.array(self.attributes),
            "translations": np.stack([np.concatenate(t) for t in self._trans]),
            "y_trg": np.stack([np.concatenate(t) for t in self._y_trg]).astype(np.float32),
            "correct": np.stack([np.concatenate(t) for t in self._correct]),
            "expressions": np.array(self.expressions),
        }
        if self._mask_in:
            out["mask_in"] = np.concatenate(self._mask_in)
        if self._mask_out[0]:
            out["mask_out"] = np.stack([np.concatenate(t) for t in self._mask_out])
        if self._mask_parsed[0]:
            out["mask_parsed_out"] = np.stack([np.concatenate(t) for t in self._mask_parsed])
        return out
