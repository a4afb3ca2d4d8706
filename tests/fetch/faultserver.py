"""A misbehaving HTTP server on 127.0.0.1 for fault-injection tests.

Each path is one fault (see `FaultHandler.do_GET`).  Every slow behaviour is
bounded in time and stops when the server shuts down, so a failing test never
leaves a thread hanging around.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK = b"\0" * (64 * 1024)
HUGE_SIZE = 100 * 1024 * 1024
MAX_HANG_S = 30.0
RSS = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
    b"<title>\xe6\xb5\x8b\xe8\xaf\x95</title></channel></rss>\n"
)
HTML = b"<!doctype html><html><head><title>Blocked</title></head><body>nope</body></html>"

_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class FaultServer(ThreadingHTTPServer):
    """The server plus what tests want to know: request counts and concurrency."""

    daemon_threads = True
    request_queue_size = 64

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FaultHandler)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.active = 0
        self.max_active = 0
        self.last_headers: dict[str, str] = {}
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def port(self) -> int:
        return self.server_address[1]

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def start(self) -> FaultServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self.stop.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)


class FaultHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FaultServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        name = parts.path.strip("/").split("/")[0]
        with self.server.lock:
            self.server.hits[parts.path] += 1
            self.server.last_headers = {k.lower(): v for k, v in self.headers.items()}
        handler = getattr(self, f"fault_{name.replace('-', '_')}", None)
        self.close_connection = True
        try:
            if handler is None:
                self.reply(404, b"no such fault")
            else:
                handler(parts.path, query)
        except _CLIENT_GONE:
            pass

    # --- helpers -------------------------------------------------------------

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Connection", "close")
        self.end_headers()

    def reply(self, status: int, body: bytes, content_type: str = "text/plain", **extra: str) -> None:
        headers = {"Content-Type": content_type, "Content-Length": str(len(body))}
        headers.update({k.replace("_", "-"): v for k, v in extra.items()})
        self.head(status, headers)
        self.wfile.write(body)

    def pause(self, seconds: float) -> bool:
        """Sleep unless the server stops; True when it is stopping."""
        return self.server.stop.wait(min(seconds, MAX_HANG_S))

    # --- faults --------------------------------------------------------------

    def fault_rss(self, path: str, query: dict[str, str]) -> None:
        self.reply(200, RSS, "application/rss+xml; charset=utf-8")

    def fault_hang(self, path: str, query: dict[str, str]) -> None:
        """Accept the request, then say nothing."""
        self.pause(float(query.get("s", MAX_HANG_S)))

    def fault_trickle(self, path: str, query: dict[str, str]) -> None:
        """Headers at once, then one byte every `every` seconds."""
        every = float(query.get("every", "0.2"))
        self.head(200, {"Content-Type": "application/rss+xml", "Content-Length": "100000"})
        deadline = time.monotonic() + MAX_HANG_S
        while time.monotonic() < deadline and not self.pause(every):
            self.wfile.write(b"x")

    def fault_huge(self, path: str, query: dict[str, str]) -> None:
        """100 MiB of zeros, generated chunk by chunk; with or without a Content-Length."""
        headers = {"Content-Type": "application/rss+xml"}
        if query.get("length", "1") == "1":
            headers["Content-Length"] = str(HUGE_SIZE)
        self.head(200, headers)
        for _ in range(HUGE_SIZE // len(CHUNK)):
            if self.server.stop.is_set():
                return
            self.wfile.write(CHUNK)

    def fault_sized(self, path: str, query: dict[str, str]) -> None:
        """A body of exactly `n` bytes; `length=0` leaves out the Content-Length."""
        size = int(query["n"])
        headers = {"Content-Type": "application/rss+xml"}
        if query.get("length", "1") == "1":
            headers["Content-Length"] = str(size)
        self.head(200, headers)
        self.wfile.write(b"a" * size)

    def fault_loop(self, path: str, query: dict[str, str]) -> None:
        self.reply(302, b"", Location="/loop")

    def fault_redirect(self, path: str, query: dict[str, str]) -> None:
        """/redirect/N redirects N more times (relative Location), then serves the feed."""
        left = int(path.rsplit("/", 1)[1])
        if left == 0:
            self.fault_rss(path, query)
        else:
            self.reply(301, b"", Location=f"/redirect/{left - 1}")

    def fault_drop(self, path: str, query: dict[str, str]) -> None:
        """Promise 10 000 bytes, send 100, hang up."""
        self.head(200, {"Content-Type": "application/rss+xml", "Content-Length": "10000"})
        self.wfile.write(b"<" * 100)
        self.wfile.flush()

    def fault_close(self, path: str, query: dict[str, str]) -> None:
        """Hang up without any response."""

    def fault_status(self, path: str, query: dict[str, str]) -> None:
        """/status/CODE, with an optional ?retry_after= header value."""
        code = int(path.rsplit("/", 1)[1])
        extra = {}
        if "retry_after" in query:
            extra["Retry_After"] = query["retry_after"]
        self.reply(code, b"error page", "text/html", **extra)

    def fault_busy_once(self, path: str, query: dict[str, str]) -> None:
        """429 with Retry-After on the first request to this path, the feed afterwards."""
        if self.server.hits[path] == 1:
            self.reply(429, b"slow down", Retry_After=query.get("retry_after", "1"))
        else:
            self.fault_rss(path, query)

    def fault_html(self, path: str, query: dict[str, str]) -> None:
        """A block page instead of the feed."""
        self.reply(200, HTML, "text/html; charset=utf-8")

    def fault_badgzip(self, path: str, query: dict[str, str]) -> None:
        """Claims gzip, sends a gzip header followed by garbage."""
        body = gzip.compress(RSS)[:12] + b"garbage that is not deflate data" * 4
        self.reply(200, body, "application/rss+xml", Content_Encoding="gzip")

    def fault_slow(self, path: str, query: dict[str, str]) -> None:
        """Hold the connection `s` seconds while counting simultaneous requests."""
        with self.server.lock:
            self.server.active += 1
            self.server.max_active = max(self.server.max_active, self.server.active)
        try:
            self.pause(float(query.get("s", "0.3")))
        finally:
            with self.server.lock:
                self.server.active -= 1
        self.fault_rss(path, query)
