"""A git host on loopback for tests: smart HTTP over TLS (`git http-backend` behind a
small threaded server with a self-signed certificate made by `openssl`), serving the bare
repositories of a folder, with the repositories whose names `locked` matches answering
401 unless the request carries the basic credentials `credentials` (as GitHub does for
a repository the token does not reach), and the repositories whose names `moved` matches
answering 301 to the same path under the address `moved_to` (as a host does for a renamed
repository). `seen` records, per request, the repository and
the Authorization header sent."""

from __future__ import annotations

import base64
import os
import re
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class GitHost:
    def __init__(self, root: Path, *, locked: str, credentials: tuple[str, str],
                 moved: str = r"(?!)", moved_to: str = ""):
        self.root = root
        self.moved, self.moved_to = re.compile(moved), moved_to
        self.locked = re.compile(locked)
        self.expected = "basic " + base64.b64encode(":".join(credentials).encode()).decode()
        self.seen: list[tuple[str, str | None]] = []
        self.ca = root / "host.pem"
        key = root / "host.key"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(self.ca)], check=True, capture_output=True)
        host = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self.answer()

            def do_POST(self) -> None:
                self.answer()

            def answer(self) -> None:
                path, _, query = self.path.partition("?")
                repository = path.strip("/").split("/", 1)[0]
                given = self.headers.get("Authorization")
                host.seen.append((repository, given))
                if host.moved.search(repository):
                    self.send_response(301)
                    self.send_header("Location", host.moved_to + self.path)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                scheme, _, value = (given or "").partition(" ")  # the scheme in any case
                if host.locked.search(repository) and f"{scheme.lower()} {value}" != host.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="test"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                env = {**os.environ, "GIT_PROJECT_ROOT": str(host.root), "GIT_HTTP_EXPORT_ALL": "1",
                       "PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                       "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "test", "REMOTE_ADDR": "127.0.0.1",
                       "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}
                done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, check=False)
                head, _, content = done.stdout.partition(b"\r\n\r\n")
                status, headers = 200, []
                for line in head.decode("latin-1").split("\r\n"):
                    name, _, value = line.partition(": ")
                    if name.lower() == "status":
                        status = int(value.split()[0])
                    elif name:
                        headers.append((name, value))
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"https://localhost:{self.server.server_address[1]}/{name}"

    def __enter__(self) -> GitHost:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
