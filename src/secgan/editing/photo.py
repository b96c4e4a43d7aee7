"""Edit whole photos: detect every face, align it to the model's crop, edit, warp back and blend.

Also handles already aligned inputs (``aligned=True``: a CelebA-style crop, e.g. a 178 x 218
``img_align_celeba`` image; its centre square is resized to the model's size, edited, and the edit goes
back into the image at its own size). A zero edit returns the photo unchanged in every mode.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from secgan.editing.align import alignment_matrix, square_crop_matrix, warp_to_crop
from secgan.editing.blend import (
    BLEND_MODES,
    apply_to_crop,
    blend_crops,
    colorize_labels,
    difference_heatmap,
    feather_mask,
    paste_back,
    paste_labels,
    region_mask,
)
from secgan.editing.editor import Editor, images_to_tensor, parse_edits, tensor_to_images
from secgan.errors import DataError, SecganError

log = logging.getLogger(__name__)


class NoFaceError(SecganError):
    """No face was found in a photo."""


@dataclass
class FaceEdit:
    """One face of a photo: its detector box and score (``None`` for aligned inputs), the photo -> crop
    transform ``[2, 3]``, the aligned crop and its edit ``[S, S, 3]`` uint8, the source labels used, the
    classifier's probability of each attribute (``None`` when the source labels were given), the
    generator's no-change output ``G(x, c0)`` ``[S, S, 3]`` uint8 (``None`` unless blending needs it) and
    the 12-segment label map of the crop ``[S, S]`` (when a parser was run)."""

    box: tuple[int, int, int, int] | None
    score: float | None
    matrix: np.ndarray
    crop: np.ndarray
    edited: np.ndarray
    source: list[float]
    probs: list[float] | None = None
    reference: np.ndarray | None = None
    labels12: np.ndarray | None = None

    @property
    def changed(self) -> bool:
        """Whether the edit asks this face for any change (``False`` when ``G(x, c) == G(x, c0)``, e.g. the
        face already has every attribute turned on); always ``True`` without a reference."""
        return self.reference is None or not np.array_equal(self.edited, self.reference)


@dataclass
class PhotoEdit:
    """The result for one photo: ``image`` (the edited photo ``[H, W, 3]`` uint8, the input's size), ``heatmap`` (|edited - original| drawn as RGB, same size), ``masks`` (the parser's
    segments drawn as RGB, black where no face; ``None`` without parser or when not asked) and the faces."""

    image: np.ndarray
    heatmap: np.ndarray
    masks: np.ndarray | None
    faces: list[FaceEdit] = field(default_factory=list)
    aligned: bool = False


class PhotoEditor:
    """Photo-level editing on top of an :class:`Editor`.

    Args:
        editor: the loaded model.
        blend: one of :data:`~secgan.editing.blend.BLEND_MODES`: ``"delta"`` (add the upsampled edit
            ``G(x, c) - G(x, c0)``: a zero edit leaves the photo unchanged), ``"residual"`` (add
            ``G(x, c) - x``) or ``"replace"`` (paste ``G(x, c)``); see :func:`secgan.editing.blend.paste_back`.
        regions: limit each face's change to the segments the edited attributes touch (needs a parser).
        detector: a :class:`~secgan.editing.detect.FaceDetector`; created on first use.
    """

    def __init__(self, editor: Editor, blend: str = "delta", regions: bool = False, detector=None) -> None:
        if blend not in BLEND_MODES:
            raise SecganError(f"unknown blend mode {blend!r}; valid: {', '.join(BLEND_MODES)}")
        self.editor = editor
        self.blend = blend
        self.regions = regions
        self._detector = detector
        if regions and not editor.has_parser:
            raise SecganError(
                "region-limited blending needs a parser: the model folder has none (pass --parser)"
            )

    @property
    def detector(self):
        if self._detector is None:
            from secgan.editing.detect import FaceDetector

            self._detector = FaceDetector()
        return self._detector

    def is_model_crop(self, photo: np.ndarray) -> bool:
        """Whether a photo already is an aligned crop at the model's size (square, ``S x S``)."""
        return photo.shape[0] == photo.shape[1] == self.editor.image_size

    def crops(
        self, photo: np.ndarray, aligned: bool | str
    ) -> tuple[list[np.ndarray], list[np.ndarray], list, bool]:
        """``(crops [S, S, 3] uint8, matrices [2, 3], faces, aligned)`` of a photo ``[H, W, 3]`` uint8.

        ``aligned``: ``True`` takes the photo as an aligned crop (no detection), ``False`` detects faces,
        ``"auto"`` detects faces and falls back to an aligned crop only when none is found and the photo
        already is a crop at the model's size. The returned ``aligned`` says which was used."""
        size = self.editor.image_size
        if aligned not in (True, False, "auto"):
            raise ValueError(f"aligned must be True, False or 'auto', got {aligned!r}")
        if aligned is True:
            h, w = photo.shape[:2]
            m = square_crop_matrix(w, h, size)
            return [warp_to_crop(photo, m, size)], [m], [None], True
        faces = self.detector.detect(photo)
        if not faces:
            if aligned == "auto" and self.is_model_crop(photo):
                log.info("no face detected in a %d px square image: taken as an aligned crop", size)
                return self.crops(photo, True)
            hint = (
                "try a larger, frontal face"
                if aligned == "auto"
                else "try a larger, frontal face, or --aligned for crops"
            )
            raise NoFaceError(f"no face found in the photo ({hint})")
        mats = [alignment_matrix(f.landmarks, size) for f in faces]
        return [warp_to_crop(photo, m, size) for m in mats], mats, faces, False

    def edit(
        self,
        photo: np.ndarray,
        edits: Mapping[str, float] | Sequence[str],
        source: torch.Tensor | None = None,
        intensity: float = 1.0,
        aligned: bool | str = False,
        masks: bool = False,
    ) -> PhotoEdit:
        """Edit every face of ``photo`` (``[H, W, 3]`` uint8 RGB).

        ``source``: ``[n_a]`` labels applied to every face, or None to predict each face's labels with the
        classifier (their probabilities are kept in :attr:`FaceEdit.probs`). ``aligned``: see
        :meth:`crops`. Raises :class:`NoFaceError` when no face is found.
        """
        if photo.ndim != 3 or photo.shape[2] != 3 or photo.dtype != np.uint8:
            raise DataError(f"expected an RGB uint8 photo [H, W, 3], got {photo.dtype} {photo.shape}")
        ed = self.editor
        edits = parse_edits(edits, ed.attributes)
        crops, mats, faces, aligned = self.crops(photo, aligned)
        x = images_to_tensor(crops)
        probs = None
        if source is None:
            probs = ed.predict_probs(x)
            src = ed.labels_from_probs(probs)
        else:
            src = source.float().reshape(1, -1).expand(len(crops), -1)
        need_ref = self.blend == "delta"
        g_edit, g_ref = ed.edit_with_reference(x, edits, source=src, intensity=intensity, reference=need_ref)
        edited = tensor_to_images(g_edit)
        refs = tensor_to_images(g_ref) if g_ref is not None else [None] * len(crops)
        need_labels = ed.has_parser and (masks or self.regions)
        labels = [lab.numpy().astype(np.uint8) for lab in ed.parse(x)] if need_labels else [None] * len(crops)
        prob_rows = [None] * len(crops) if probs is None else [[round(float(p), 4) for p in r] for r in probs]

        results = [
            FaceEdit(
                box=None if f is None else f.box,
                score=None if f is None else f.score,
                matrix=m,
                crop=c,
                edited=e,
                source=s.tolist(),
                probs=pr,
                reference=r,
                labels12=lab,
            )
            for f, m, c, e, s, pr, r, lab in zip(faces, mats, crops, edited, src, prob_rows, refs, labels)
        ]
        edited_names = [k for k, v in edits.items() if v != 0]
        still = not any(v * intensity != 0 for v in edits.values())  # a zero edit: the photo as it came
        if aligned and self.is_model_crop(photo):  # the photo is the model's crop: edited in place
            face = results[0]
            out = photo if still else apply_to_crop(crops[0], face.edited, face.reference, self.blend)
            if self.regions and labels[0] is not None and not still:
                region = region_mask(labels[0], edited_names)
                if region is not None:
                    out = blend_crops(crops[0], out, region)
            heat = difference_heatmap(photo, out)
            drawn = colorize_labels(labels[0]) if (masks and labels[0] is not None) else None
            return PhotoEdit(image=out, heatmap=heat, masks=drawn, faces=results, aligned=True)

        # Faces found in a photo, or an aligned crop of another size than the model's (its centre square
        # was edited at the model's size): the edit goes back into the photo at the photo's own size.
        size = ed.image_size
        box_alpha = np.ones((size, size), np.float32) if aligned else feather_mask(size)
        out = photo
        canvas = np.full(photo.shape[:2], 255, dtype=np.uint8) if (masks and ed.has_parser) else None
        for face in results:
            alpha = box_alpha
            if self.regions and face.labels12 is not None:
                region = region_mask(face.labels12, edited_names)
                if region is not None:
                    alpha = box_alpha * region
            if not still:
                out = paste_back(out, face.crop, face.edited, face.matrix, alpha, self.blend, face.reference)
            if canvas is not None and face.labels12 is not None:
                canvas = paste_labels(canvas, face.labels12, face.matrix, box_alpha)
        heat = difference_heatmap(photo, out)
        drawn = colorize_labels(canvas) if canvas is not None else None
        log.debug("edited %d face(s)", len(results))
        return PhotoEdit(image=out, heatmap=heat, masks=drawn, faces=results, aligned=bool(aligned))
