"""The web demo in headless Chromium (Playwright, Debian's /usr/bin/chromium; no browser download) at
1280 x 900: the Edit button is on screen with the sliders; an upload ticks the predicted attributes; an
edit shows the result and a new upload clears it; an example face (aligned crop) followed by a real photo
gives a detected, edited face; over-large and non-image uploads are refused with a message; the page
requests nothing outside 127.0.0.1. Screenshots go to $SECGAN_SCREENSHOTS when set."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from editing_helpers import served_model
from PIL import Image

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed (make browser installs it)"
    ),
]
pytest.importorskip("gradio", reason="the web demo needs gradio (secgan[web])")
sync_api = pytest.importorskip("playwright.sync_api", reason="the browser test needs playwright (python)")
skimage_data = pytest.importorskip("skimage.data", reason="the astronaut photo comes with scikit-image")
pytest.importorskip("dlib", reason="face detection needs the optional extra secgan[photos] (dlib-bin)")

SCREENSHOT_DIR = (
    Path(os.environ.get("SECGAN_SCREENSHOTS", "")) if os.environ.get("SECGAN_SCREENSHOTS") else None
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    models = {"parser": True, "classifier": True}
    with served_model(tmp, models, host="127.0.0.1", max_upload_mb=1) as (port, model):
        yield f"http://127.0.0.1:{port}/", tmp, model


def _shot(page, tmp, name: str) -> None:
    page.wait_for_timeout(800)  # let Gradio's fade-in of new outputs finish
    shot = (SCREENSHOT_DIR or tmp) / name
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=False)


def _ticked(page) -> list[str]:
    return page.eval_on_selector_all(
        "#source-names label",
        "els => els.filter(e => e.querySelector('input').checked).map(e => e.innerText.trim())",
    )


def _wait_summary(page, needle: str) -> str:
    page.wait_for_function(
        "n => (document.querySelector('#summary')?.innerText || '').includes(n)", arg=needle, timeout=60_000
    )
    return page.inner_text("#summary")


def test_upload_predict_edit_reset_example_then_photo(server):
    url, tmp, model = server
    from secgan.app.web import WebDemo, pretty
    from secgan.editing.editor import Editor

    rng = np.random.default_rng(0)
    crop = tmp / "crop.png"  # a model-size square without a detectable face: taken as an aligned crop
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(crop)
    crop2 = tmp / "crop2.png"
    Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(crop2)
    (tmp / "notes.png").write_text("this is not an image")
    big = tmp / "big.png"
    Image.fromarray(rng.integers(0, 256, (800, 800, 3), dtype=np.uint8)).save(big)  # ~1.9 MB of noise
    astro = tmp / "astronaut.jpg"
    Image.fromarray(skimage_data.astronaut()).save(astro, quality=90)
    faces, _ = WebDemo(Editor.load(model)).predict(crop, aligned=True)
    expected = sorted(pretty(a) for a, p in faces[0].items() if p > 0.5)
    outside: list[str] = []

    def guard(route):
        host = urlparse(route.request.url).hostname
        if host not in ("127.0.0.1", "localhost", None):
            outside.append(route.request.url)
            return route.abort()
        return route.continue_()

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", guard)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("#edit-button", timeout=60_000)
            # the Edit button and the first sliders are on screen without scrolling
            button = page.locator("#edit-button").bounding_box()
            slider = page.locator("#slider-Bangs").bounding_box()
            assert button["y"] + button["height"] <= 900 and slider["y"] + slider["height"] <= 900

            # an upload over the limit (1 MB here) and a non-image are refused with a message
            page.set_input_files("#upload input[type=file]", str(big))
            page.wait_for_selector("text=exceed the maximum allowed size", timeout=30_000)
            page.set_input_files("#upload input[type=file]", str(tmp / "notes.png"))
            page.wait_for_selector("#status >> text=notes.png is not a usable image", timeout=30_000)
            page.click("#upload button[aria-label=Clear]")
            page.wait_for_function("!(document.querySelector('#status')?.innerText || '').includes('notes')")

            # upload: the predicted attributes are ticked
            page.set_input_files("#upload input[type=file]", str(crop))
            page.wait_for_selector("#status >> text=according to the classifier", timeout=60_000)
            assert sorted(_ticked(page)) == expected
            assert not page.is_checked("#aligned input[type=checkbox]")
            _shot(page, tmp, "web_1_uploaded.png")

            # edit, then a new upload clears the old result
            number = page.locator("#slider-Bangs input[type=number]")
            number.fill("1")
            number.press("Enter")
            page.click("#edit-button")
            page.wait_for_selector("#edited img", timeout=60_000)
            assert "Bangs +1" in _wait_summary(page, "face(s)")
            assert page.query_selector("#heatmap img") is not None
            _shot(page, tmp, "web_2_edited.png")
            page.click("#upload button[aria-label=Clear]")
            page.set_input_files("#upload input[type=file]", str(crop2))
            page.wait_for_function(
                "!document.querySelector('#edited img') && !(document.querySelector('#summary')?.innerText)",
                timeout=60_000,
            )
            page.wait_for_selector("#status >> text=according to the classifier", timeout=60_000)
            _shot(page, tmp, "web_3_new_upload_cleared.png")

            # an example face ticks "Aligned crop"; a real photo after it is detected, not taken as a crop
            page.click("#upload button[aria-label=Clear]")
            page.click('#examples button[aria-label="Thumbnail 1 of 4"]')
            page.wait_for_selector('#upload td[aria-label="synthetic_00.png"]', timeout=30_000)
            page.wait_for_function("document.querySelector('#aligned input').checked", timeout=30_000)
            page.click("#upload button[aria-label=Clear]")
            page.set_input_files("#upload input[type=file]", str(astro))
            page.wait_for_selector("#status >> text=1 face(s) found", timeout=60_000)
            assert not page.is_checked("#aligned input[type=checkbox]")
            assert page.query_selector('[data-testid="toast-close"]') is None  # the size error toast is gone
            if "Bangs" in _ticked(page):  # tell the page the face has no bangs, so +Bangs changes it
                page.click("#source-names label:has-text('Bangs')")
            page.click("#edit-button")
            summary = _wait_summary(page, "face(s)")
            assert "1 face(s)" in summary and "aligned crop" not in summary and "Bangs +1" in summary
            assert "no change" not in summary
            page.wait_for_selector("#edited img", timeout=60_000)
            _shot(page, tmp, "web_4_photo_after_example.png")
            page.screenshot(path=str((SCREENSHOT_DIR or tmp) / "web_demo.png"), full_page=True)
        finally:
            browser.close()
    assert not outside, f"the page tried to reach the internet: {outside[:5]}"
