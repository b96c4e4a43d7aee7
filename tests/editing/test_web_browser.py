"""The web demo in headless Chromium (Playwright, Debian's /usr/bin/chromium; no browser download):
upload a face crop, move a slider, press Edit, see the edited image; a non-image is refused with a
message; the page requests nothing outside 127.0.0.1."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from editing_helpers import make_model_dir
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

SCREENSHOT_DIR = (
    Path(os.environ.get("SECGAN_SCREENSHOTS", "")) if os.environ.get("SECGAN_SCREENSHOTS") else None
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from secgan.app.web import serve

    tmp = tmp_path_factory.mktemp("web")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(tmp / "cache"))  # the example faces are written here
        model = make_model_dir(tmp / "M", "stargan", size=32, parser=True)
        port = _free_port()
        demo = serve(model, host="127.0.0.1", port=port, max_upload_mb=1, block=False)
        try:
            yield f"http://127.0.0.1:{port}/", tmp
        finally:
            demo.close()


def test_upload_slide_edit(server):
    url, tmp = server
    face = tmp / "face.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (218, 178, 3), dtype=np.uint8)).save(face)
    (tmp / "notes.png").write_text("this is not an image")
    big = tmp / "big.png"
    Image.fromarray(rng.integers(0, 256, (800, 800, 3), dtype=np.uint8)).save(big)  # ~1.9 MB of noise
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
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.route("**/*", guard)
            page.goto(url, wait_until="domcontentloaded")
            page.wait_for_selector("#edit-button", timeout=60_000)

            # an upload over the limit (1 MB here) is refused with a message
            page.set_input_files("#upload input[type=file]", str(big))
            page.wait_for_selector("text=exceed the maximum allowed size", timeout=30_000)

            # a non-image is refused with a message
            page.set_input_files("#upload input[type=file]", str(tmp / "notes.png"))
            page.wait_for_selector("text=notes.png is not a usable image", timeout=30_000)
            page.click("#upload button[aria-label=Clear]")

            # an example face: fills the upload and ticks "Aligned crop"
            page.click('#examples button[aria-label="Thumbnail 1 of 4"]')
            page.wait_for_selector('#upload td[aria-label="synthetic_00.png"]', timeout=30_000)
            assert page.is_checked("#aligned input[type=checkbox]")
            page.click("#upload button[aria-label=Clear]")

            page.set_input_files("#upload input[type=file]", str(face))
            page.wait_for_selector("#input-preview img", timeout=30_000)
            page.check("#aligned input[type=checkbox]")
            number = page.locator("#slider-Bangs input[type=number]")
            number.fill("1")
            number.press("Enter")
            page.click("#edit-button")
            img = page.wait_for_selector("#edited img", timeout=60_000)
            src = img.get_attribute("src")
            assert src and ("file=" in src or "/file" in src or src.startswith("data:"))
            page.wait_for_selector("#summary >> text=face(s)", timeout=30_000)
            assert "Bangs +1" in page.inner_text("#summary")
            assert page.query_selector("#heatmap img") is not None
            shot = (SCREENSHOT_DIR or tmp) / "web_demo.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert not outside, f"the page tried to reach the internet: {outside[:5]}"
