"""The synthetic face dataset: attribute sampling (``spec``), per-face nuisances (``nuisance``), the OpenCV
renderer (``renderer`` over ``canvas``, ``geometry``, ``layout``, ``shading``), counterfactual edits
(``counterfactual``), the CelebA-format writer (``writer``) and the contact sheets (``sheet``)."""

from .spec import FaceSpec, sample_spec, spec_to_labels
from .writer import make_face, write_dataset

__all__ = ["FaceSpec", "make_face", "sample_spec", "spec_to_labels", "write_dataset"]
