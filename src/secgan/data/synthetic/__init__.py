"""The synthetic face dataset: attribute sampling (``spec``), the OpenCV renderer (``renderer``), the
CelebA-format writer (``writer``) and the contact sheet (``sheet``)."""

from .spec import FaceSpec, sample_spec, spec_to_labels
from .writer import make_face, write_dataset

__all__ = ["FaceSpec", "make_face", "sample_spec", "spec_to_labels", "write_dataset"]
