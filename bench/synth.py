"""Synthetic but realistic inputs for the benchmarks: Chinese news items with HTML bodies
and images, served from a loopback server that answers conditional requests with 304.

Every item is a pure function of (source, item number), so the benchmark can write the
same articles straight into an archive (`item`) and serve them in a feed (`feed`).
Bodies carry what real feeds carry and a cleaning pass has to deal with: class and style
attributes, a share widget with a script, tag links, sometimes a video iframe."""

from __future__ import annotations

import hashlib
import random
import threading
from dataclasses import dataclass
from datetime import datetime, UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC
SPACING_MS = 600_000  # one item every ten minutes per source
WORDS = ("中国 美国 台湾 香港 经济 贸易 会晤 政府 官员 表示 记者 报道 发布 政策 选举 人权 "
         "外交 军事 安全 市场 公司 科技 疫情 教育 法院 抗议 总统 主席 部长 议会 合作 谈判").split()


def sentence(rng: random.Random) -> str:
    return "".join(rng.choices(WORDS, k=rng.randint(8, 20))) + "。"


def body(rng: random.Random, source: int, item: int) -> str:
    paras = []
    for n in range(rng.randint(4, 9)):
        text = "".join(sentence(rng) for _ in range(rng.randint(2, 5)))
        if n % 3 == 1:
            tag = rng.choice(WORDS)
            text += f'<a href="/tag/{n}.html" class="tag-link" target="_blank">{tag}</a>'
        style = ' style="text-align:justify;margin:0 0 1em"' if n % 2 else ' class="article-p"'
        paras.append(f"<p{style}>{text}</p>")
    image = (f'<figure class="photo"><img src="https://img.news{source}.test/{item}/photo.jpg?w=900" '
             f'alt="{sentence(rng)}" width="900" loading="lazy"><figcaption>{sentence(rng)}</figcaption></figure>')
    paras.insert(1, image)
    if item % 7 == 0:
        paras.insert(3, f'<iframe src="https://www.youtube.com/embed/v{source}x{item}" width="640" '
                        'height="360" frameborder="0" allowfullscreen></iframe>')
    paras.append('<div class="share-bar" data-share="1"><span>分享：</span>'
                 '<a href="javascript:void(0)" onclick="share(\'wx\')">微信</a>'
                 '<script type="text/javascript">window.shareInit && shareInit();</script></div>')
    return "\n    ".join(paras)


@dataclass(frozen=True)
class Item:
    title: str
    link: str
    guid: str
    published_ms: int
    summary: str
    body: str


def item(source: int, i: int) -> Item:
    rng = random.Random(source * 1_000_003 + i)
    title = "".join(rng.choices(WORDS, k=rng.randint(5, 12)))
    return Item(title=title, link=f"https://news{source}.test/a/{i}.html", guid=f"news{source}-{i}",
                published_ms=T0 + i * SPACING_MS, summary=sentence(rng), body=body(rng, source, i))


def feed(source: int, items: range, *, edition: int = 0) -> bytes:
    """An RSS 2.0 document with the given items, newest first (as feeds list them)."""
    parts = ['<?xml version="1.0" encoding="utf-8"?>',
             '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
             f"<channel><title>新闻源{source}</title><link>https://news{source}.test/</link>"
             f"<description>benchmark edition {edition}</description>"]
    for i in reversed(items):
        it = item(source, i)
        when = datetime.fromtimestamp(it.published_ms / 1000, tz=UTC)
        parts.append(
            f"<item><title>{escape(it.title)}</title>"
            f"<link>{it.link}</link><guid>{it.guid}</guid>"
            f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
            f"<description>{escape(it.summary)}</description>"
            f"<content:encoded><![CDATA[{it.body}]]></content:encoded></item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


class FeedServer:
    """Serves /s<N>.xml from `documents` (which the benchmark may change between runs).

    It listens on several loopback addresses (127.0.0.1, 127.0.0.2, ...: Linux routes all
    of 127/8 to the loopback device), so sources spread over several "hosts" the way real
    sources do, and the fetcher's per-host limit applies as it would in production."""

    def __init__(self, hosts: int = 8) -> None:
        self.documents: dict[str, bytes] = {}
        self.requests = 0
        self.not_modified = 0
        self._etags: dict[int, tuple[bytes, str]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                server.requests += 1
                data = server.documents.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                etag = server._etag(data)
                if self.headers.get("If-None-Match") == etag:
                    server.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.servers: list[ThreadingHTTPServer] = []
        for n in range(1, hosts + 1):
            try:
                httpd = ThreadingHTTPServer((f"127.0.0.{n}", 0), Handler)
            except OSError:
                if n == 1:
                    raise
                break  # a system that only has 127.0.0.1
            httpd.daemon_threads = True
            self.servers.append(httpd)
            threading.Thread(target=httpd.serve_forever, daemon=True).start()
        host, port = self.servers[0].server_address[:2]
        self.base = f"http://{host}:{port}"

    def _etag(self, data: bytes) -> str:
        found = self._etags.get(id(data))
        if found is None or found[0] is not data:
            found = self._etags[id(data)] = (data, '"' + hashlib.md5(data).hexdigest() + '"')
        return found[1]

    def url(self, source: int) -> str:
        """The address of source N's feed, on one of the server's loopback hosts."""
        host, port = self.servers[source % len(self.servers)].server_address[:2]
        return f"http://{host}:{port}/s{source}.xml"

    def close(self) -> None:
        for httpd in self.servers:
            httpd.shutdown()
            httpd.server_close()
