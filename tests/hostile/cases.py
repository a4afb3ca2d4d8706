"""The hostile feeds and pages, generated here: each bad item sits between good ones, so a
test can check the rule (one bad item costs at most that item) by the good ones."""

from __future__ import annotations

import json
from dataclasses import dataclass
from xml.sax.saxutils import escape

from tests.hostile.server import HostileServer

GOOD_BODY = "<p>" + "这是一篇正常的新闻，内容足够长，不需要去抓取原文页面。" * 30 + "</p>"
SHORT_BODY = "<p>摘要</p>"  # short: a source with full_text = "auto" fetches the page

# Pages without a <body>: extraction must say "no body" and the feed's text stands in.
NO_BODY_PAGES = {
    "refresh": '<html><head><meta http-equiv="refresh" content="0; url=/elsewhere"></head></html>',
    "cut-off": "<!DOCTYPE html><html><head><meta charset=utf-8><title>被截断的页面",
}


@dataclass
class Case:
    title: str
    link: str
    """The item's link; for an item without one, how the run names it."""
    hostile: bool


# JSON Feed items that are no JSON object: named by their place, and why they fail.
NOT_OBJECT_ITEMS = {"item 2 of the JSON Feed": "not a JSON object (null)",
                    "item 4 of the JSON Feed": "not a JSON object (a string)"}


def _rss(items: list[str]) -> bytes:
    return ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            "<title>敌意测试</title><link>https://news.test/</link>"
            + "".join(items) + "</channel></rss>\n").encode("utf-8")


def _item(title: str, link: str, body: str, date: str = "Mon, 01 Dec 2025 08:00:00 GMT",
          raw_title: str | None = None) -> str:
    return (f"<item><title>{raw_title if raw_title is not None else escape(title)}</title>"
            f"<link>{escape(link)}</link><guid>{escape(link)}</guid><pubDate>{date}</pubDate>"
            f"<description>{escape(body)}</description></item>")


def serve_hostile_feeds(server: HostileServer) -> tuple[dict[str, str], list[Case]]:
    """Four sources full of hostile items; returns (slug -> feed URL, every item)."""
    cases: list[Case] = []

    def case(title: str, path: str, hostile: bool) -> str:
        link = server.url(path)
        cases.append(Case(title, link, hostile))
        return link

    # 1. Well-formed RSS (the fast parser): a date past year 9999 in China time, pages
    #    without a body.
    rss_items = [
        _item("好新闻一", case("好新闻一", "/rss/good-1", False), GOOD_BODY),
        _item("万年之后", case("万年之后", "/rss/year-9999", True), GOOD_BODY,
              date="Fri, 31 Dec 9999 23:59:59 GMT"),
    ]
    for name, page in NO_BODY_PAGES.items():
        title = f"无正文页面{name}"
        link = case(title, f"/page/{name}", False)  # the feed's own text stands in
        server.serve(f"/page/{name}", page)
        rss_items.append(_item(title, link, SHORT_BODY))
    rss_items.append(_item("好新闻二", case("好新闻二", "/rss/good-2", False), GOOD_BODY))
    feeds = {"rss": server.serve("/rss.xml", _rss(rss_items), "application/rss+xml")}

    # 2. JSON Feed: JSON can carry lone surrogates, which no UTF-8 file can hold.
    json_items = [
        {"id": case("好新闻三", "/json/good-3", False), "title": "好新闻三", "content_html": GOOD_BODY},
        {"id": case("孤立代理项正文", "/json/surrogate-body", True), "title": "孤立代理项正文",
         "content_html": "<p>坏\ud800字</p>" + GOOD_BODY},
        {"id": case("好新闻四", "/json/good-4", False), "title": "好新闻四", "content_html": GOOD_BODY},
    ]
    for item in json_items:
        item["url"] = item["id"]
        item["date_published"] = "2025-12-01T08:00:00Z"
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "JSON 敌意测试",
                "items": json_items}
    feeds["json"] = server.serve("/feed.json", json.dumps(document).encode("ascii"),
                                 "application/feed+json")

    # 3. A JSON Feed with items fastfeedparser cannot read: no object at all (null, a
    #    string), a date that is a number. The feed as a whole cannot be read.
    numeric_date = {"id": case("数字日期", "/json-items/numeric-date", True), "title": "数字日期",
                    "content_html": GOOD_BODY, "date_published": 1764576000}
    bad_items: list[object] = [
        {"id": case("好新闻七", "/json-items/good-7", False), "title": "好新闻七", "content_html": GOOD_BODY},
        None, numeric_date, "不是对象",
        {"id": case("好新闻八", "/json-items/good-8", False), "title": "好新闻八", "content_html": GOOD_BODY},
    ]
    cases.extend(Case(name, name, True) for name in NOT_OBJECT_ITEMS)
    for item in bad_items:
        if isinstance(item, dict):
            item["url"] = item["id"]
            item.setdefault("date_published", "2025-12-01T08:00:00Z")
    document = {"version": "https://jsonfeed.org/version/1.1", "title": "JSON 坏条目",
                "items": bad_items}
    feeds["jsonitems"] = server.serve("/items.json", json.dumps(document).encode("ascii"),
                                      "application/feed+json")

    # 4. Malformed RSS (the thorough parser): a character reference to a surrogate, on
    #    which feedparser itself raises.
    broken_items = [
        _item("好新闻五", case("好新闻五", "/broken/good-5", False), GOOD_BODY),
        _item("代理项标题", case("代理项标题\ufffd", "/broken/surrogate-title", True), GOOD_BODY,
              raw_title="代理项标题&#xD800;"),
        _item("好新闻六", case("好新闻六", "/broken/good-6", False), GOOD_BODY + "<br>"),
    ]
    feeds["broken"] = server.serve("/broken.xml", _rss(broken_items) + b"<unclosed>",
                                   "application/rss+xml")
    return feeds, cases
