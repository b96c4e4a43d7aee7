"""``secgan serve``: a Gradio page to edit the faces of an uploaded photo (a thin layer over
:mod:`secgan.editing`; the page's layout is in :mod:`secgan.app.page`, the request guard in
:mod:`secgan.app.guard`).

Upload a photo: the faces are found and the classifier's prediction of what the first face has ticks the
"The face has" boxes (correct them before editing). Move one slider per attribute (-1 turns it off, +1 on,
0 keeps it; the magnitude is that edit's strength) and a global strength, press *Edit*: the page shows the
edited photo, the |difference| heat map and, when the model has a parser, the face segments, both cropped
around the faces. A photo without a detectable face that already is a crop at the model's size is taken
as an aligned crop; *Aligned crop* forces that (the example faces tick it). Bound to 127.0.0.1 by default,
never shared, analytics off, system fonts only (the page fetches nothing from the internet). Non-images
and uploads over the size limit are refused with a message; each user error is logged as one line.
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

from secgan.app.page import pretty  # noqa: E402
from secgan.editing.editor import Editor  # noqa: E402
from secgan.editing.photo import NoFaceError, PhotoEdit, PhotoEditor  # noqa: E402
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


def face_window(result: PhotoEdit, shape: tuple[int, int], size: int, margin: float = 0.15):
    """``(y0, y1, x0, x1)`` around every edited face of a photo (their crops' footprints, grown by
    ``margin``); the whole image for aligned inputs."""
    from secgan.editing.align import crop_bbox

    h, w = shape
    if result.aligned or not result.faces:
        return 0, h, 0, w
    boxes = np.array([crop_bbox(f.matrix, size, shape) for f in result.faces])  # [F, 4] x0 y0 x1 y1
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    gx, gy = int(margin * (x1 - x0)), int(margin * (y1 - y0))
    return max(0, y0 - gy), min(h, y1 + gy), max(0, x0 - gx), min(w, x1 + gx)


class WebDemo:
    """The page's logic, independent of Gradio (so it can be tested without a browser).

    Args:
        editor: the loaded model.
        max_upload_mb: largest accepted upload.
        examples: the example faces (aligned crops) the page offers.
    """

    def __init__(self, editor: Editor, max_upload_mb: float = 10.0, examples: Sequence[Path] = ()) -> None:
        self.editor = editor
        self.max_upload_bytes = int(max_upload_mb * 1024 * 1024)
        self.max_upload_mb = max_upload_mb
        self.photo_editor = PhotoEditor(editor)
        self.region_editor = PhotoEditor(editor, regions=True) if editor.has_parser else None
        self.examples = list(examples)
        self._example_digests = {_digest(p) for p in self.examples if Path(p).is_file()}

    # ------------------------------------------------------------------------------ validation
    def load_upload(self, path: str | os.PathLike | None) -> np.ndarray:
        """Read an uploaded file as RGB uint8 ``[H, W, 3]``; :class:`SecganError` with a user message for a
        missing, over-large or non-image file."""
        from secgan.utils.images import read_photo

        if path is None:
            raise SecganError("upload a photo first")
        path = Path(path)
        size = path.stat().st_size if path.is_file() else 0
        if size > self.max_upload_bytes:
            raise SecganError(
                f"{path.name} is {size / 2**20:.1f} MB, over the upload limit of {self.max_upload_mb:g} MB"
            )
        try:
            return read_photo(path, max_pixels=MAX_PIXELS)[0]
        except SecganError as err:
            reason = str(err).replace(f": {path}", "").replace(str(path), path.name)
            raise SecganError(f"{path.name} is not a usable image: {reason}") from err

    def is_example(self, path: str | os.PathLike | None) -> bool:
        """Whether an upload is one of the example faces (same bytes; Gradio copies files it serves)."""
        return path is not None and Path(path).is_file() and _digest(Path(path)) in self._example_digests

    # ----------------------------------------------------------------------------------- editing
    def predict(self, path: str | os.PathLike | None, aligned: bool) -> tuple[list[dict[str, float]], str]:
        """The classifier's probabilities for every face of an upload (``[{attribute: p}]``, face order)
        and a one-line note for the page; empty when the model has no classifier."""
        ed = self.editor
        photo = self.load_upload(path)
        if not ed.has_classifier:
            return [], "this model has no classifier: tick what the face has"
        try:
            crops, _, _, used = self.photo_editor.crops(photo, True if aligned else "auto")
        except NoFaceError as err:
            raise SecganError(self._no_face_message()) from err
        from secgan.editing.editor import images_to_tensor

        probs = ed.predict_probs(images_to_tensor(crops))
        faces = [dict(zip(ed.attributes, (round(float(p), 3) for p in row))) for row in probs]
        if used:
            kind = (
                "Aligned crop."
                if aligned
                else f"No face detected in this {ed.image_size} px square: taken as an aligned crop."
            )
        else:
            kind = f"{len(faces)} face(s) found."
        return (
            faces,
            f"{kind} The ticks show what face 1 has according to the classifier: correct them if wrong.",
        )

    def _no_face_message(self) -> str:
        return (
            "no face found in the photo: try a photo with a larger, frontal face, or tick 'Aligned crop' if "
            "the photo already is a face crop"
        )

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
        """Edit the uploaded photo: ``(edited, heat map, masks or None, summary markdown)``; the heat map and
        masks are cropped around the faces.

        ``values`` are the slider values in the order of the model's attributes; ``source_mode`` is
        ``"given"`` (``source_names`` = the attributes the face has, the boxes) or ``"predict"`` (the
        classifier's prediction for each face).
        """
        from secgan.editing.editor import check_strength, effective_edits

        ed = self.editor
        photo = self.load_upload(path)
        edits = {a: float(v) for a, v in zip(ed.attributes, values) if v}
        if not edits:
            raise SecganError("move at least one attribute slider away from 0")
        strength = check_strength(strength)
        if source_mode == "predict" and ed.has_classifier:
            source = None
        else:
            source = ed.labels_from_names(list(source_names or []))[0]
        pe = self.region_editor if (regions and self.region_editor is not None) else self.photo_editor
        try:
            result = pe.edit(photo, edits, source=source, intensity=strength, aligned=True if aligned else "auto",
                             masks=ed.has_parser)  # fmt: skip
        except NoFaceError as err:
            raise SecganError(self._no_face_message()) from err
        y0, y1, x0, x1 = face_window(result, result.image.shape[:2], ed.image_size)
        heat = result.heatmap[y0:y1, x0:x1]
        masks = None if result.masks is None else result.masks[y0:y1, x0:x1]
        effective = effective_edits(edits, strength)
        lines = [
            f"**{len(result.faces)} face(s)** edited"
            + (" (aligned crop)" if result.aligned else "")
            + ": "
            + ", ".join(f"{pretty(k)} {v:+g}" for k, v in effective.items())
        ]
        for i, face in enumerate(result.faces):
            has = [pretty(a) for a, v in zip(ed.attributes, face.source) if v > 0.5]
            line = f"- face {i + 1} has: {', '.join(has) or 'none of the attributes'}"
            if not face.changed:
                line = f"- face {i + 1}: **no change** (it already is as asked) -- has: {', '.join(has) or 'none'}"
            if face.probs is not None:
                line += (
                    " (predicted; "
                    + ", ".join(f"{pretty(a)} {p:.2f}" for a, p in zip(ed.attributes, face.probs) if p > 0.5)
                    + ")"
                )
            lines.append(line)
        return result.image, heat, masks, "\n".join(lines)

    def build(self, examples: Sequence[Path] = ()) -> Any:
        """The Gradio Blocks of the page (see :func:`secgan.app.page.build_page`)."""
        from secgan.app.page import build_page

        if examples and not self.examples:
            self.examples = list(examples)
            self._example_digests = {_digest(p) for p in self.examples if Path(p).is_file()}
        return build_page(self, self.examples)


def _digest(path: str | os.PathLike) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def launch(
    demo: Any,
    host: str = "127.0.0.1",
    port: int = 7860,
    max_upload_mb: float = 10.0,
    allowed_paths: Sequence[str] = (),
    block: bool = True,
    allow_hosts: Sequence[str] = (),
) -> Any:
    """Start the server: no share link (nor Gradio's hint about one), system fonts, the upload limit
    enforced by Gradio as well, the request guard of :mod:`secgan.app.guard` in front (Host check,
    cross-origin refusal, nosniff), only :class:`gradio.Error` messages shown to the page (never a server
    path)."""
    import gradio as gr
    from starlette.middleware import Middleware

    from secgan.app.guard import RequestGuard, allowed_hosts

    hosts = allowed_hosts(host, allow_hosts)
    if hosts is None:
        log.warning(
            "bound to every interface without --allow-host: any Host header is accepted (no DNS-rebinding "
            "protection); name the server's host names with --allow-host"
        )
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
        max_file_size=int(max_upload_mb * 2**20),  # bytes: Gradio's "Nmb" strings take integers only
        allowed_paths=list(allowed_paths),
        theme=theme,
        css=CSS,
        footer_links=[],
        quiet=True,  # no "set share=True" hint: a CLI user cannot act on it
        show_error=False,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
        app_kwargs={"middleware": [Middleware(RequestGuard, hosts=hosts)]},
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
    allow_hosts: Sequence[str] = (),
) -> Any:
    """Load the model and serve the page (blocks until interrupted unless ``block=False``).

    Uploads go to :func:`secgan.app.guard.uploads_dir` (unless ``GRADIO_TEMP_DIR`` is set), whose old
    entries are removed now and on a schedule."""
    try:
        import gradio  # noqa: F401
    except ImportError as err:
        raise SecganError("the web demo needs gradio: pip install 'secgan[web]'") from err
    from secgan.app.guard import UPLOAD_MAX_AGE_S, clean_uploads, start_upload_cleaner, uploads_dir

    if not max_upload_mb > 0:
        raise SecganError(f"--max-upload-mb must be a positive number of megabytes, got {max_upload_mb}")

    editor = Editor.load(
        model_dir, device=device, classifier_dir=classifier_dir, parser_dir=parser_dir, precision=precision
    )
    upload_dir = Path(os.environ.get("GRADIO_TEMP_DIR") or uploads_dir())
    os.environ["GRADIO_TEMP_DIR"] = str(upload_dir)  # read by Gradio when the page is built
    clean_uploads(upload_dir, UPLOAD_MAX_AGE_S)
    paths = make_examples() if examples else []
    demo = WebDemo(editor, max_upload_mb=max_upload_mb, examples=paths).build()
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("serving on %s: the page is reachable from other machines", host)
    log.info("serving %s on http://%s:%d (uploads in %s)", model_dir, host, port, upload_dir)
    allowed = [str(paths[0].parent)] if paths else []
    stop_cleaner = start_upload_cleaner(upload_dir)
    close = demo.close

    def close_and_stop_cleaner(*args: Any, **kwargs: Any) -> Any:  # demo.close() also ends the cleaner
        stop_cleaner.set()
        return close(*args, **kwargs)

    demo.close = close_and_stop_cleaner
    return launch(
        demo, host, port, max_upload_mb, allowed_paths=allowed, block=block, allow_hosts=allow_hosts
    )
