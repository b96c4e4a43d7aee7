"""``secgan serve``: a Gradio page to edit the faces of an uploaded photo (a thin layer over
:mod:`secgan.editing`).

Upload a photo, move one slider per attribute (-1 turns it off, +1 on, 0 keeps it; the magnitude is that
edit's strength) and a global strength, press *Edit*: the page shows the edited photo, the |difference|
heat map and, when the model has a parser, the face segments. Tick *Aligned crop* for CelebA-style crops
(no face detection). Bound to 127.0.0.1 by default, never shared, analytics off, system fonts only (the
page fetches nothing from the internet). Non-images and uploads over the size limit are refused with a
message.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Gradio reads this when it is imported: no usage statistics, no version check.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

from secgan.editing.editor import Editor  # noqa: E402
from secgan.editing.photo import NoFaceError, PhotoEditor  # noqa: E402
from secgan.errors import SecganError  # noqa: E402

log = logging.getLogger(__name__)

MAX_PIXELS = 25_000_000  # decoded photo size limit of the web page
# Small crops (a 128 px model's output) are drawn scaled up to their box; downloads keep the true size.
CSS = """
#edited img, #heatmap img, #masks img, #input-preview img {
  width: 100%; height: 100%; object-fit: contain;
}
"""
N_EXAMPLES = 4


def examples_dir() -> Path:
    """Where the example faces are written (``$XDG_CACHE_HOME/secgan/web-examples``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "secgan" / "web-examples"


def make_examples(directory: Path | None = None, n: int = N_EXAMPLES) -> list[Path]:
    """Render ``n`` synthetic CelebA-style faces (once) and return their paths; empty when the synthetic
    renderer is unavailable or the folder cannot be written."""
    directory = directory or examples_dir()
    try:
        from secgan.data.synthetic import make_face
    except ImportError:
        log.info("synthetic renderer not available: no example images")
        return []
    paths = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            path = directory / f"synthetic_{i:02d}.png"
            if not path.is_file():
                from PIL import Image

                _, img, _ = make_face(seed=2024, index=i)
                Image.fromarray(img).save(path)
            paths.append(path)
    except OSError as err:
        log.warning("cannot write example images to %s: %s", directory, err)
        return []
    return paths


class WebDemo:
    """The page's logic, independent of Gradio (so it can be tested without a browser).

    Args:
        editor: the loaded model.
        max_upload_mb: largest accepted upload.
    """

    def __init__(self, editor: Editor, max_upload_mb: float = 10.0) -> None:
        self.editor = editor
        self.max_upload_bytes = int(max_upload_mb * 1024 * 1024)
        self.max_upload_mb = max_upload_mb
        self.photo_editor = PhotoEditor(editor)
        self.region_editor = PhotoEditor(editor, regions=True) if editor.has_parser else None

    # ------------------------------------------------------------------------------ validation
    def load_upload(self, path: str | os.PathLike | None) -> np.ndarray:
        """Read an uploaded file as RGB uint8 ``[H, W, 3]``; :class:`SecganError` with a user message for a
        missing, over-large or non-image file."""
        if path is None:
            raise SecganError("upload a photo first")
        path = Path(path)
        size = path.stat().st_size if path.is_file() else 0
        if size > self.max_upload_bytes:
            raise SecganError(
                f"{path.name} is {size / 2**20:.1f} MB, over the upload limit of {self.max_upload_mb:g} MB"
            )
        from secgan.utils.images import load_photo, read_image

        try:
            read_image(path, max_pixels=MAX_PIXELS).close()  # header + decode check with the page's limit
            return load_photo(path)
        except SecganError as err:
            reason = str(err).replace(f": {path}", "").replace(str(path), path.name)
            raise SecganError(f"{path.name} is not a usable image: {reason}") from err

    # ----------------------------------------------------------------------------------- editing
    def run(
        self,
        path: str | os.PathLike | None,
        aligned: bool,
        strength: float,
        regions: bool,
        source_mode: str,
        source_names: Sequence[str] | None,
        *values: float,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, str]:
        """Edit the uploaded photo: ``(edited, heat map, masks or None, summary markdown)``.

        ``values`` are the slider values in the order of the model's attributes; ``source_mode`` is
        ``"predict"`` (classifier) or ``"given"`` (``source_names`` = the attributes the face has).
        """
        ed = self.editor
        photo = self.load_upload(path)
        edits = {a: float(v) for a, v in zip(ed.attributes, values) if v}
        if not edits:
            raise SecganError("move at least one attribute slider away from 0")
        if source_mode == "predict" and ed.has_classifier:
            source = None
        else:
            source = ed.labels_from_names(list(source_names or []))[0]
        pe = self.region_editor if (regions and self.region_editor is not None) else self.photo_editor
        try:
            result = pe.edit(photo, edits, source=source, intensity=float(strength), aligned=bool(aligned),
                             masks=ed.has_parser)  # fmt: skip
        except NoFaceError as err:
            raise SecganError(f"{err}; tick 'Aligned crop' if the photo is already a face crop") from err
        lines = [
            f"**{len(result.faces)} face(s)** edited: " + ", ".join(f"{k} {v:+g}" for k, v in edits.items())
        ]
        for i, face in enumerate(result.faces):
            has = [a for a, v in zip(ed.attributes, face.source) if v > 0.5]
            lines.append(f"- face {i + 1} source: {', '.join(has) or 'none of the attributes'}")
        return result.image, result.heatmap, result.masks, "\n".join(lines)

    # ------------------------------------------------------------------------------------ layout
    def build(self, examples: Sequence[Path] = ()) -> Any:
        """The Gradio Blocks of the page."""
        import gradio as gr

        ed = self.editor

        def on_edit(*args):
            try:
                return self.run(*args)
            except SecganError as err:
                raise gr.Error(str(err)) from err

        def on_upload(path):
            if path is None:
                return None
            try:
                return self.load_upload(path)
            except SecganError as err:
                raise gr.Error(str(err)) from err

        with gr.Blocks(title="secgan face editing", analytics_enabled=False) as demo:
            gr.Markdown(
                f"## Face editing\nModel: {len(ed.attributes)} attributes, {ed.image_size} px crops. Upload a "
                "photo, move sliders (-1 removes an attribute, +1 adds it, 0 keeps it) and press **Edit**."
            )
            with gr.Row():
                with gr.Column(scale=1):
                    upload = gr.File(label="Photo", file_types=["image"], type="filepath", elem_id="upload")
                    preview = gr.Image(
                        label="Input", type="numpy", interactive=False, height=256, elem_id="input-preview"
                    )
                    aligned = gr.Checkbox(
                        label="Aligned crop (no face detection)", value=False, elem_id="aligned"
                    )
                    strength = gr.Slider(0.0, 2.0, value=1.0, step=0.05, label="Strength", elem_id="strength")
                    regions = gr.Checkbox(
                        label="Limit changes to the edited regions (parser masks)",
                        value=False,
                        visible=ed.has_parser,
                        elem_id="regions",
                    )
                    source_mode = gr.Radio(
                        choices=["predict", "given"] if ed.has_classifier else ["given"],
                        value="predict" if ed.has_classifier else "given",
                        label="Source attributes: predicted by the classifier, or as ticked below",
                        visible=ed.has_classifier,
                        elem_id="source-mode",
                    )
                    source_names = gr.CheckboxGroup(
                        choices=list(ed.attributes), value=[], label="The face has", elem_id="source-names"
                    )
                with gr.Column(scale=1):
                    sliders = [
                        gr.Slider(
                            -1.0, 1.0, value=0.0, step=0.1, label=a.replace("_", " "), elem_id=f"slider-{a}"
                        )
                        for a in ed.attributes
                    ]
                    button = gr.Button("Edit", variant="primary", elem_id="edit-button")
                with gr.Column(scale=2):
                    edited = gr.Image(
                        label="Edited", type="numpy", interactive=False, height=420, elem_id="edited"
                    )
                    with gr.Row():
                        heat = gr.Image(
                            label="|difference|",
                            type="numpy",
                            interactive=False,
                            height=240,
                            elem_id="heatmap",
                        )
                        masks = gr.Image(
                            label="Segments",
                            type="numpy",
                            interactive=False,
                            height=240,
                            visible=ed.has_parser,
                            elem_id="masks",
                        )
                    summary = gr.Markdown(elem_id="summary")
            if examples:
                gallery = gr.Gallery(
                    value=[str(p) for p in examples],
                    label="Example faces (synthetic, aligned crops): click one to use it",
                    columns=len(examples),
                    height=240,
                    allow_preview=False,
                    elem_id="examples",
                )

                def on_pick(evt):
                    return str(examples[evt.index]), True

                # Gradio injects the selection event by the parameter's annotation, which must be the class
                # itself (this module's annotations are postponed strings).
                on_pick.__annotations__["evt"] = gr.SelectData
                gallery.select(on_pick, inputs=None, outputs=[upload, aligned])
            upload.change(on_upload, inputs=upload, outputs=preview)
            button.click(
                on_edit,
                inputs=[upload, aligned, strength, regions, source_mode, source_names, *sliders],
                outputs=[edited, heat, masks, summary],
            )
        return demo


def launch(
    demo: Any,
    host: str = "127.0.0.1",
    port: int = 7860,
    max_upload_mb: float = 10.0,
    allowed_paths: Sequence[str] = (),
    block: bool = True,
) -> Any:
    """Start the server (no share link, system fonts, upload limit enforced by Gradio as well)."""
    import gradio as gr

    theme = gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
    )
    demo.queue(default_concurrency_limit=1)
    demo.launch(
        server_name=host,
        server_port=port,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        max_file_size=f"{max_upload_mb:g}mb",
        allowed_paths=list(allowed_paths),
        theme=theme,
        css=CSS,
        footer_links=[],
        quiet=not block,
        show_error=True,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )
    return demo


def serve(
    model_dir: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int = 7860,
    max_upload_mb: float = 10.0,
    device: str = "cpu",
    classifier_dir: str | os.PathLike | None = None,
    parser_dir: str | os.PathLike | None = None,
    precision: str = "fp32",
    block: bool = True,
    examples: bool = True,
) -> Any:
    """Load the model and serve the page (blocks until interrupted unless ``block=False``)."""
    try:
        import gradio  # noqa: F401
    except ImportError as err:
        raise SecganError("the web demo needs gradio: pip install 'secgan[web]'") from err
    editor = Editor.load(
        model_dir, device=device, classifier_dir=classifier_dir, parser_dir=parser_dir, precision=precision
    )
    paths = make_examples() if examples else []
    demo = WebDemo(editor, max_upload_mb=max_upload_mb).build(paths)
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s: the page is reachable from other machines", host)
    log.info("serving %s on http://%s:%d", model_dir, host, port)
    allowed = [str(paths[0].parent)] if paths else []
    return launch(demo, host, port, max_upload_mb, allowed_paths=allowed, block=block)
