"""Face detection and facial landmarks for photos in the wild (dlib, an optional extra).

dlib's HOG frontal face detector needs no weights file; the 68-point landmark model ships inside the
``face_recognition_models`` wheel (nothing is downloaded). Its folder is found with
``importlib.util.find_spec`` because the package's ``__init__`` imports ``pkg_resources``.

Install the extra with ``pip install 'secgan[photos]'`` (dlib-bin and face-recognition-models).
"""

from __future__ import annotations

import functools
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from secgan.errors import SecganError

log = logging.getLogger(__name__)

EXTRA_HINT = "install the photo extra: pip install 'secgan[photos]' (dlib-bin and face-recognition-models)"
LANDMARK_FILE = "shape_predictor_68_face_landmarks.dat"

# 68-point indices (iBUG 300-W): the eye on the image's left is 36-41, the other 42-47; nose tip 30;
# outer mouth corners 48 and 54.
_LEFT_EYE = slice(36, 42)
_RIGHT_EYE = slice(42, 48)
_NOSE_TIP = 30
_MOUTH_LEFT, _MOUTH_RIGHT = 48, 54


@dataclass(frozen=True)
class Face:
    """A detected face: ``box = (x0, y0, x1, y1)`` in photo pixels, the detector's ``score`` and five
    landmarks ``[5, 2]`` (left eye centre, right eye centre, nose tip, left and right mouth corner;
    "left" = smaller x)."""

    box: tuple[int, int, int, int]
    score: float
    landmarks: np.ndarray


def _import_dlib() -> Any:
    try:
        import dlib
    except ImportError as err:
        raise SecganError(
            f"face detection needs dlib: {EXTRA_HINT}; or pass --aligned for CelebA-style crops"
        ) from err
    return dlib


def landmark_model_path() -> Path:
    """The 68-point landmark model inside the ``face_recognition_models`` package (never downloaded)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SecganError(f"face landmarks need the face_recognition_models package: {EXTRA_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "models" / LANDMARK_FILE
    if not path.is_file():
        raise SecganError(
            f"landmark model not found at {path}: reinstall face-recognition-models ({EXTRA_HINT})"
        )
    return path


@functools.lru_cache(maxsize=1)
def _load_models() -> tuple[Any, Any]:
    dlib = _import_dlib()
    path = landmark_model_path()
    log.debug("loading dlib landmark model %s", path)
    return dlib.get_frontal_face_detector(), dlib.shape_predictor(str(path))


class FaceDetector:
    """dlib HOG detector + 68-point landmarks.

    Args:
        upsample: times the photo is upsampled before detection (1 finds faces down to ~40 px).
        threshold: minimum detector score (HOG SVM margin); frontal faces score ~1 or more, while the
            default of dlib (0) lets through face-like textures.
        max_side: photos larger than this are shrunk for detection only (speed); landmarks are computed
            on the full-size photo.
    """

    def __init__(self, upsample: int = 1, threshold: float = 0.25, max_side: int = 1600) -> None:
        self.upsample = upsample
        self.threshold = threshold
        self.max_side = max_side
        self._detector, self._predictor = _load_models()

    def detect(self, image: np.ndarray) -> list[Face]:
        """``image [H, W, 3]`` uint8 RGB -> faces, largest first."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f"expected an RGB uint8 image [H, W, 3], got {image.dtype} {image.shape}")
        dlib = _import_dlib()
        image = np.ascontiguousarray(image)
        h, w = image.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = image
        if scale < 1.0:
            import cv2

            small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        rects, scores, _ = self._detector.run(small, self.upsample, self.threshold)
        faces = []
        for rect, score in zip(rects, scores):
            x0, y0, x1, y1 = (
                round(v / scale) for v in (rect.left(), rect.top(), rect.right(), rect.bottom())
            )
            shape = self._predictor(image, dlib.rectangle(x0, y0, x1, y1))
            pts = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)
            landmarks = np.stack(
                [
                    pts[_LEFT_EYE].mean(axis=0),
                    pts[_RIGHT_EYE].mean(axis=0),
                    pts[_NOSE_TIP],
                    pts[_MOUTH_LEFT],
                    pts[_MOUTH_RIGHT],
                ]
            )
            faces.append(Face(box=(x0, y0, x1, y1), score=float(score), landmarks=landmarks))
        faces.sort(key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]), reverse=True)
        log.debug("detected %d face(s)", len(faces))
        return faces
