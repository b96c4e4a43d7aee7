"""Hardening of ``secgan serve`` (issue 13 item 12), against the real server over HTTP: foreign Host
headers refused (DNS rebinding), cross-origin uploads refused, ``nosniff`` on responses, a refused path
does not leak the server's working directory, the upload cache is cleaned on start and on a schedule."""

from __future__ import annotations

import http.client
import json
import os
import time

import pytest
from editing_helpers import served_model

pytest.importorskip("gradio", reason="the web demo needs gradio (secgan[web])")

from secgan.app.guard import allowed_hosts, clean_uploads, host_name  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("guard")
    old = tmp / "cache" / "secgan" / "web-uploads" / "0ld"
    old.mkdir(parents=True)
    (old / "stale.png").write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    with served_model(tmp, {"classifier": True}, examples=False) as (port, _):
        yield port, tmp


def _request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(method, path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()


def _multipart(name: str = "a.png") -> tuple[bytes, str]:
    b = "secganboundary"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            f"Content-Type: image/png\r\n\r\nnot really a png\r\n--{b}--\r\n").encode()  # fmt: skip
    return body, f"multipart/form-data; boundary={b}"


def test_foreign_host_is_refused_and_nosniff_is_set(server):
    port, _ = server
    status, headers, _ = _request(port, "GET", "/", headers={"Host": "rebind.example:80"})
    assert status == 421
    for host in (f"127.0.0.1:{port}", f"localhost:{port}"):
        status, headers, _ = _request(port, "GET", "/config", headers={"Host": host})
        assert status == 200 and headers.get("x-content-type-options") == "nosniff"


def test_cross_origin_upload_is_refused(server):
    port, _ = server
    body, ctype = _multipart()
    for origin in ("http://evil.example", "null"):
        status, *_ = _request(
            port, "POST", "/gradio_api/upload", body, {"Content-Type": ctype, "Origin": origin}
        )
        assert status == 403, origin
    status, *_ = _request(port, "POST", "/gradio_api/upload", body, {"Content-Type": ctype, "Sec-Fetch-Site": "cross-site"})  # fmt: skip
    assert status == 403
    status, _, data = _request(port, "POST", "/gradio_api/upload", body,
                               {"Content-Type": ctype, "Origin": f"http://127.0.0.1:{port}"})  # fmt: skip
    assert status == 200 and json.loads(data)[0].endswith("a.png")


def test_refused_path_does_not_leak_the_working_directory(server):
    port, _ = server
    _, _, cfg = _request(port, "GET", "/config")
    deps = json.loads(cfg)["dependencies"]
    upload_fn = next(i for i, d in enumerate(deps) if d.get("api_name") == "on_upload")
    payload = {"data": [{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}], "fn_index": upload_fn,
               "session_hash": "probe", "event_data": None}  # fmt: skip
    status, *_ = _request(port, "POST", "/gradio_api/queue/join", json.dumps(payload), {"Content-Type": "application/json"})  # fmt: skip
    assert status == 200
    _, _, stream = _request(port, "GET", "/gradio_api/queue/data?session_hash=probe")
    text = stream.decode()
    assert "process_completed" in text
    assert os.getcwd() not in text and "/etc/passwd" not in text


def test_upload_cache_is_cleaned(server, tmp_path):
    _, tmp = server
    uploads = tmp / "cache" / "secgan" / "web-uploads"
    assert uploads.is_dir() and not (uploads / "0ld").exists()  # removed when the server started
    assert os.environ.get("GRADIO_TEMP_DIR") == str(uploads)
    (tmp_path / "new").mkdir()
    (tmp_path / "old.bin").write_bytes(b"x")
    os.utime(tmp_path / "old.bin", (time.time() - 4000, time.time() - 4000))
    assert clean_uploads(tmp_path, max_age_s=3600) == 1
    assert (tmp_path / "new").exists() and not (tmp_path / "old.bin").exists()


def test_host_rules():
    assert host_name("[::1]:7860") == "::1" and host_name("LocalHost:80") == "localhost"
    assert allowed_hosts("127.0.0.1") == {"127.0.0.1", "localhost", "::1"}
    assert "box.lan" in allowed_hosts("192.168.1.5", ["box.lan"]) and "192.168.1.5" in allowed_hosts(
        "192.168.1.5"
    )
    assert allowed_hosts("0.0.0.0") is None  # every interface, no names given: any Host (warned)


def test_a_user_error_is_one_log_line(server, caplog):
    port, _ = server
    b = "secganboundary"
    body = (f'--{b}\r\nContent-Disposition: form-data; name="files"; filename="notes.png"\r\n'
            f"Content-Type: image/png\r\n\r\nnot an image\r\n--{b}--\r\n").encode()  # fmt: skip
    status, _, data = _request(port, "POST", "/gradio_api/upload", body,
                               {"Content-Type": f"multipart/form-data; boundary={b}"})  # fmt: skip
    assert status == 200
    _, _, cfg = _request(port, "GET", "/config")
    deps = json.loads(cfg)["dependencies"]
    fn = next(i for i, d in enumerate(deps) if d.get("api_name") == "on_upload")
    file_data = {"path": json.loads(data)[0], "meta": {"_type": "gradio.FileData"}, "orig_name": "notes.png"}
    with caplog.at_level("INFO"):
        _request(port, "POST", "/gradio_api/queue/join", json.dumps({"data": [file_data], "fn_index": fn,
                 "session_hash": "bad", "event_data": None}), {"Content-Type": "application/json"})  # fmt: skip
        _, _, stream = _request(port, "GET", "/gradio_api/queue/data?session_hash=bad")
    assert "notes.png is not a usable image" in stream.decode()  # shown on the page (status line)
    records = [r for r in caplog.records if r.levelno >= 30]
    assert len(records) == 1 and "notes.png is not a usable image" in records[0].getMessage()
    assert records[0].exc_info is None


def test_closing_the_server_stops_its_upload_cleaner(tmp_path):
    import threading

    def cleaners() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name == "secgan-upload-cleaner"]

    before = set(cleaners())
    with served_model(tmp_path, {}, examples=False):
        started = [t for t in cleaners() if t not in before]
        assert len(started) == 1
    started[0].join(timeout=10)
    assert not started[0].is_alive()
