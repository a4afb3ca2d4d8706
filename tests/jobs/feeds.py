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
