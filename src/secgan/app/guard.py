"""Hardening of ``secgan serve``: a request guard in front of Gradio and a cleaned upload cache.

The guard (a plain ASGI middleware, so Gradio's streamed responses pass through untouched):

- refuses a request whose ``Host`` header names another host than the ones served (127.0.0.1, localhost,
  ::1 and ``--host``): a page on another site that re-points its own domain name at 127.0.0.1 (DNS
  rebinding) gets ``421 Misdirected Request`` instead of the demo;
- refuses state-changing requests (POST/PUT/PATCH/DELETE, among them multipart uploads) sent by a page of
  another origin (``Origin`` header of another host, ``Origin: null``, or ``Sec-Fetch-Site: cross-site``);
- adds ``X-Content-Type-Options: nosniff`` to every response, so an uploaded file is never sniffed into
  HTML or script.

Uploads live in a folder of their own (``$XDG_CACHE_HOME/secgan/web-uploads``): entries older than an hour
are removed when the server starts and every ten minutes while it runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
UPLOAD_MAX_AGE_S = 3600  # uploads older than this are removed
UPLOAD_CLEAN_EVERY_S = 600


def host_name(value: str) -> str:
    """The host part of a ``Host`` header or an origin's netloc, lower case, without port or brackets."""
    value = value.strip().lower()
    if value.startswith("["):  # [::1]:7860
        return value[1 : value.find("]")] if "]" in value else value[1:]
    if value.count(":") == 1:
        return value.split(":", 1)[0]
    return value


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> frozenset[str] | None:
    """Host names a request may name: loopback, the bind address and ``extra``; ``None`` (any) when bound
    to every interface without ``extra`` names (the server cannot know the names it is reached by)."""
    extra = [host_name(h) for h in extra if h]
    if host_name(bind) in WILDCARD_HOSTS and not extra:
        return None
    names = {*LOOPBACK_NAMES, *extra}
    if host_name(bind) not in WILDCARD_HOSTS:
        names.add(host_name(bind))
    return frozenset(names)


class RequestGuard:
    """ASGI middleware: Host check, cross-origin refusal, ``nosniff`` (see the module docstring).

    Args:
        app: the wrapped ASGI application.
        hosts: accepted host names, or ``None`` to accept any ``Host``.
    """

    def __init__(self, app, hosts: frozenset[str] | None = frozenset(LOOPBACK_NAMES)) -> None:
        self.app = app
        self.hosts = hosts

    def refusal(self, scope) -> tuple[int, str] | None:
        """``(status, reason)`` when the request is refused, else ``None``."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = host_name(headers.get("host", ""))
        if self.hosts is not None and host not in self.hosts:
            return 421, f"unknown host {host!r}: this server answers to {', '.join(sorted(self.hosts))}"
        if scope["type"] == "http" and scope.get("method", "GET").upper() in UNSAFE_METHODS:
            origin = headers.get("origin")
            if origin is not None:
                origin_host = host_name(urlsplit(origin).netloc) if origin != "null" else "null"
                if origin_host != host and (self.hosts is None or origin_host not in self.hosts):
                    return 403, "cross-origin request refused"
            elif headers.get("sec-fetch-site") == "cross-site":
                return 403, "cross-origin request refused"
        return None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.refusal(scope)
        if refused is not None:
            status, reason = refused
            log.warning("refused %s %s: %s", scope.get("method", "WS"), scope.get("path", ""), reason)
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            body = f"{reason}\n".encode()
            await send({"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return

        async def send_nosniff(message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-content-type-options"
                ]
                message = {**message, "headers": [*headers, (b"x-content-type-options", b"nosniff")]}
            await send(message)

        await self.app(scope, receive, send_nosniff)


# ---------------------------------------------------------------------------------------- upload cache
def uploads_dir() -> Path:
    """Where the web page's uploads are kept (``$XDG_CACHE_HOME/secgan/web-uploads``)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "secgan" / "web-uploads"


def clean_uploads(directory: Path, max_age_s: float = UPLOAD_MAX_AGE_S, now: float | None = None) -> int:
    """Remove the entries of ``directory`` last modified more than ``max_age_s`` ago; returns how many."""
    now = time.time() if now is None else now
    removed = 0
    if not directory.is_dir():
        return 0
    for entry in directory.iterdir():
        try:
            if now - entry.lstat().st_mtime <= max_age_s:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
        except OSError as err:
            log.debug("cannot remove %s: %s", entry, err)
    if removed:
        log.info("removed %d old upload(s) from %s", removed, directory)
    return removed


def start_upload_cleaner(
    directory: Path, every_s: float = UPLOAD_CLEAN_EVERY_S, max_age_s: float = UPLOAD_MAX_AGE_S
):
    """A daemon thread running :func:`clean_uploads` every ``every_s`` seconds; returns its stop event."""
    import threading

    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every_s):
            clean_uploads(directory, max_age_s)

    threading.Thread(target=loop, name="secgan-upload-cleaner", daemon=True).start()
    return stop
