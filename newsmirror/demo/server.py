"""A loopback HTTP server for the bundled demo feeds (and for tests that want one).

It serves the files under `site/`, answers conditional requests with 304, and can switch to
"round 2" where a file `NAME.round2.EXT` replaces `NAME.EXT` (the demo's edited item).
"""

from __future__ import annotations

import hashlib
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path

ROUTES = {
    "/voa.xml": ("voa.xml", "application/rss+xml; charset=utf-8"),
    "/bbc.xml": ("bbc.xml", "application/atom+xml; charset=utf-8"),
    "/rfi.xml": ("rfi.xml", "application/rss+xml; charset=utf-8"),
    "/rfi/film-week.html": ("film-week.html", "text/html; charset=utf-8"),
    "/broken.xml": ("broken.html", "text/html; charset=utf-8"),
}
# A 1x1 transparent GIF for the demo page's images.
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


class DemoServer:
    """`with DemoServer() as server:` serves on 127.0.0.1 at `server.base`."""

    def __init__(self, site: Path | None = None):
        self.site = site or Path(str(resources.files("newsmirror.demo") / "site"))
        self.round = 1
        self.requests: list[str] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def body(self, name: str) -> bytes:
        stem, dot, ext = name.partition(".")
        edited = self.site / f"{stem}.round2.{ext}"
        path = edited if self.round >= 2 and edited.exists() else self.site / name
        return path.read_bytes().replace(b"{{BASE}}", self.base.encode())

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server API)
                server.requests.append(self.path)
                if self.path in ROUTES:
                    name, kind = ROUTES[self.path]
                    data = server.body(name)
                elif self.path.startswith("/rfi/images/"):
                    data, kind = PIXEL, "image/gif"
                else:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(HTTPStatus.NOT_MODIFIED)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args) -> None:
                pass

        return Handler

    def __enter__(self) -> DemoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
