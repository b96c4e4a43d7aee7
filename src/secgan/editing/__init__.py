"""Editing for people: the inference API (:class:`Editor`), face detection and alignment, paste-back,
photo-level editing and importers of public StarGAN / AttGAN checkpoints."""

from secgan.editing.editor import Editor

__all__ = ["Editor"]
