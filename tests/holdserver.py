"""Loopback HTTP servers that see how many requests a client has in flight at once.

One server per address (127.0.0.1, 127.0.0.2, …: distinct hosts to a client that limits
requests per host), all sharing one record: the most requests in flight at once on each
host and on all of them together. Routes marked `held` answer only when the test's
`release` condition holds (by default: `target` held requests are in flight, or all
that are left), so a client that may send that many at once is seen doing it, whatever
the machine's speed; a client that sends fewer is waited for no longer than `MAX_HOLD_S`
and the hold is counted in `holds_timed_out`. Before a held answer goes, the server
waits `SETTLE_S` more, so a request beyond the client's limit would be seen in flight
too.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

MAX_HOLD_S = 20.0
SETTLE_S = 0.05

_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class HoldServers:
    """`with HoldServers(["127.0.0.1", "127.0.0.2"], target=2) as s:` serves `s.url(host, path)`."""

    def __init__(self, hosts: list[str], *, target: int = 1) -> None:
        self.target = target
        self.lock = threading.Condition()
        self.routes: dict[tuple[str, str], tuple[bytes, str, bool]] = {}
        self.active: Counter[str] = Counter()  # in flight now, per host
        self.max_active: Counter[str] = Counter()
        self.active_total = 0
        self.max_total = 0
        self.held_active = 0
        self.held_done = 0
        self.holds_timed_out = 0
        self.hits: Counter[tuple[str, str]] = Counter()
        self.done: list[tuple[str, str]] = []  # (host, path) answered, in the order answered
        self.release: Callable[[HoldServers, str, str], bool] = HoldServers.enough_in_flight
        """When a held request for (host, path) may be answered; called under `lock`."""
        self.stopping = False
        self._servers = [_Server(self, host) for host in hosts]
        self._threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05},
                                          daemon=True) for s in self._servers]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.stopping = True
            self.lock.notify_all()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def port(self, host: str) -> int:
        return next(s.server_address[1] for s in self._servers if s.host == host)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port(host)}{path}"

    def serve(self, host: str, path: str, body: bytes | str, content_type: str, *,
              held: bool = False) -> str:
        """Answer GET `path` on `host` with `body`; its URL."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.routes[(host, path)] = (data, content_type, held)
        return self.url(host, path)

    @property
    def held_routes(self) -> int:
        return sum(1 for *_, held in self.routes.values() if held)

    def enough_in_flight(self, host: str, path: str) -> bool:
        """The default release: `target` held requests in flight, or all those left."""
        left = self.held_routes - self.held_done
        return self.held_active >= min(self.target, left)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, record: HoldServers, host: str) -> None:
        super().__init__((host, 0), _Handler)
        self.record = record
        self.host = host


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        record, host = self.server.record, self.server.host
        self.close_connection = True
        path = self.path.split("?")[0]
        route = record.routes.get((host, path))
        held = route is not None and route[2]
        with record.lock:
            record.hits[(host, self.path)] += 1
            record.active[host] += 1
            record.active_total += 1
            record.max_active[host] = max(record.max_active[host], record.active[host])
            record.max_total = max(record.max_total, record.active_total)
            if held:
                record.held_active += 1
                record.lock.notify_all()
                if not record.lock.wait_for(lambda: record.stopping or record.release(record, host, path),
                                            timeout=MAX_HOLD_S):
                    record.holds_timed_out += 1
                record.lock.notify_all()
        try:
            if held:
                time.sleep(SETTLE_S)
        finally:
            # Counted out before the answer is written, not after: once its last byte is
            # out the client may send its next request, whose handler would otherwise see
            # this one still counted in flight whenever this thread is slow to get the
            # CPU back (a loaded machine), and report a limit broken that was kept.
            with record.lock:
                record.active[host] -= 1
                record.active_total -= 1
                record.done.append((host, path))
                if held:
                    record.held_active -= 1
                    record.held_done += 1
                record.lock.notify_all()
        try:
            if route is None:
                self._reply(404, b"not found", "text/plain")
            else:
                self._reply(200, route[0], route[1])
        except _CLIENT_GONE:
            pass

    def _reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
