"""Small RSS documents for pipeline tests, built from plain values."""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import format_datetime
from datetime import datetime, UTC
from xml.sax.saxutils import escape


@dataclass
class Item:
    title: str
    link: str
    body: str
    guid: str | None = None
    date_ms: int | None = None


def rss(items: list[Item], *, title: str = "测试源") -> bytes:
    parts = ['<?xml version="1.0" encoding="utf-8"?>',
             '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
             f"<channel><title>{escape(title)}</title><link>https://news.test/</link>"]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title><link>{escape(item.link)}</link>")
        if item.guid:
            parts.append(f"<guid>{escape(item.guid)}</guid>")
        if item.date_ms is not None:
            when = datetime.fromtimestamp(item.date_ms / 1000, tz=UTC)
            parts.append(f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>")
        parts.append(f"<content:encoded><![CDATA[{item.body}]]></content:encoded>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "\n".join(parts).encode("utf-8")


def serve_news(server, items: list[Item], n: int, *, start_ms: int, path: str = "/feed.xml") -> None:
    """Append `n` numbered news items (one a minute from `start_ms`) to `items` and serve
    them all as the RSS feed at `path` of the pytest-httpserver `server`."""
    first = len(items)
    items += [Item(f"新闻{i}", f"https://news.test/{i}", f"<p>第{i}篇。</p>",
                   guid=f"g{i}", date_ms=start_ms + i * 60_000) for i in range(first, first + n)]
    server.clear()
    server.expect_request(path).respond_with_data(rss(items), content_type="application/rss+xml")
