"""The layout and events of the ``secgan serve`` page (Gradio Blocks over a :class:`~secgan.app.web.WebDemo`).

Left: the upload, its preview, *Aligned crop*, a status line and the "The face has" boxes (ticked with the
classifier's prediction after each upload). Middle: the *Edit* button above the strength and one slider
per attribute, so both are on screen at 1280 x 900. Right: the edited photo, the |difference| and segment
panes cropped around the faces, and the summary. A new upload clears the previous result; user errors
appear in the status line (and as one log line each), never as a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from secgan.editing.edits import MAX_EDIT_VALUE, MAX_STRENGTH
from secgan.errors import SecganError

log = logging.getLogger(__name__)

UPLOAD_CACHE_CLEANING = (600, 3600)  # Gradio's own: every 10 min, files older than 1 h


# Run in the browser before each upload's handler: close Gradio's own error toasts (e.g. an upload over the
# size limit), so that a new photo starts from a clean page.
CLOSE_TOASTS = """(path) => {
  document.querySelectorAll('[data-testid="toast-close"]').forEach((b) => b.click());
  return path;
}"""


def pretty(attribute: str) -> str:
    """The one way the page names an attribute (``Black_Hair`` -> ``Black Hair``)."""
    return attribute.replace("_", " ")


def _error(msg: str) -> str:
    return f"**Error:** {msg}"


def build_page(demo, examples: Sequence[Path] = ()) -> Any:
    """The Gradio Blocks of the page for ``demo`` (a :class:`~secgan.app.web.WebDemo`)."""
    import gradio as gr

    ed = demo.editor
    names = [(pretty(a), a) for a in ed.attributes]

    on_upload, on_edit = _upload_handler(demo, gr), _edit_handler(demo)

    with gr.Blocks(
        title="secgan face editing", analytics_enabled=False, delete_cache=UPLOAD_CACHE_CLEANING
    ) as page:
        gr.Markdown(
            f"## Face editing\nModel: {len(ed.attributes)} attributes, {ed.image_size} px face crops. "
            "Upload a photo, check the attributes the face has, move sliders (-1 removes an attribute, +1 "
            f"adds it, 0 keeps it; up to ±{MAX_EDIT_VALUE:g} as with `secgan edit`) and press **Edit**."
        )
        with gr.Row():
            with gr.Column(scale=1, min_width=260):
                upload = gr.File(label="Photo", file_types=["image"], type="filepath", elem_id="upload")
                preview = gr.Image(
                    label="Input", type="numpy", interactive=False, height=200, elem_id="input-preview"
                )
                aligned = gr.Checkbox(
                    label="Aligned crop (skip face detection)", value=False, elem_id="aligned"
                )
                status = gr.Markdown(elem_id="status")
                source_names = gr.CheckboxGroup(
                    choices=names, value=[], label="The face has", elem_id="source-names"
                )
                source_mode = gr.Radio(
                    choices=[("as ticked above", "given"), ("predicted for each face", "predict")]
                    if ed.has_classifier
                    else [("as ticked above", "given")],
                    value="given",
                    label="Attributes each face has",
                    visible=ed.has_classifier,
                    elem_id="source-mode",
                )
            with gr.Column(scale=1, min_width=260):
                button = gr.Button("Edit", variant="primary", elem_id="edit-button")
                strength = gr.Slider(
                    0.0, MAX_STRENGTH, value=1.0, step=0.05, label="Strength", elem_id="strength"
                )
                regions = gr.Checkbox(
                    label="Limit changes to the edited regions (parser masks)",
                    value=False,
                    visible=ed.has_parser,
                    elem_id="regions",
                )
                sliders = [
                    gr.Slider(
                        -MAX_EDIT_VALUE,
                        MAX_EDIT_VALUE,
                        value=0.0,
                        step=0.1,
                        label=label,
                        elem_id=f"slider-{a}",
                    )
                    for label, a in names
                ]
            with gr.Column(scale=2):
                edited = gr.Image(
                    label="Edited", type="numpy", interactive=False, height=380, elem_id="edited"
                )
                with gr.Row():
                    heat = gr.Image(label="|difference| (around the faces)", type="numpy", interactive=False,
                                    height=220, elem_id="heatmap")  # fmt: skip
                    masks = gr.Image(label="Segments (around the faces)", type="numpy", interactive=False,
                                     height=220, visible=ed.has_parser, elem_id="masks")  # fmt: skip
                summary = gr.Markdown(elem_id="summary")
        if examples:
            gallery = gr.Gallery(
                value=[str(p) for p in examples],
                label="Example faces (synthetic, aligned crops): click one to use it",
                columns=len(examples),
                height=200,
                allow_preview=False,
                elem_id="examples",
            )

            def on_pick(evt):
                return str(examples[evt.index])

            # Gradio injects the selection event by the parameter's annotation, which must be the class
            # itself (this module's annotations are postponed strings).
            on_pick.__annotations__["evt"] = gr.SelectData
            gallery.select(on_pick, inputs=None, outputs=[upload])
        upload.change(
            on_upload,
            inputs=upload,
            js=CLOSE_TOASTS,
            outputs=[preview, aligned, source_names, edited, heat, masks, summary, status],
        )
        button.click(
            on_edit,
            inputs=[upload, aligned, strength, regions, source_mode, source_names, *sliders],
            outputs=[edited, heat, masks, summary, status],
        )
    return page


def _upload_handler(demo, gr) -> Any:
    """The page's upload event for ``demo``."""

    def on_upload(path):
        """New upload (or cleared): reset the result, guess aligned, tick the predicted attributes."""
        cleared = [None, None, None, ""]  # edited, heat map, masks, summary
        if path is None:
            return [None, False, gr.update(), *cleared, ""]
        aligned = demo.is_example(path)
        try:
            photo = demo.load_upload(path)
        except SecganError as err:
            log.warning("upload refused: %s", err)
            return [None, False, gr.update(), *cleared, _error(str(err))]
        try:
            faces, note = demo.predict(path, aligned)
        except SecganError as err:
            log.warning("upload: %s", err)
            return [photo, aligned, [], *cleared, _error(str(err))]
        if not faces:
            return [photo, aligned, gr.update(), *cleared, note]
        ticks = [a for a, p in faces[0].items() if p > 0.5]
        shown = ", ".join(
            f"{pretty(a)} {p:.2f}" for a, p in sorted(faces[0].items(), key=lambda kv: -kv[1])[:5]
        )
        return [photo, aligned, ticks, *cleared, f"{note} (most likely: {shown})"]

    return on_upload


def _edit_handler(demo) -> Any:
    """The page's Edit button for ``demo``: its outputs, or one line of error."""

    def on_edit(*args):
        try:
            return [*demo.run(*args), ""]
        except SecganError as err:
            log.warning("edit refused: %s", err)
            return [None, None, None, "", _error(str(err))]
        except Exception:  # noqa: BLE001 - a bug: logged with its traceback, the page gets one line
            log.exception("edit failed")
            return [None, None, None, "", _error("internal error (see the server log)")]

    return on_edit
