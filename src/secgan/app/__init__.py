"""The Gradio web demo (a thin layer over :mod:`secgan.editing`)."""
