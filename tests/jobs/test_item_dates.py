"""Item dates end to end: a date the feed or page did not give, or one out of the sane
range, never fails the source or the request; such items take the time they were first
seen. Real loopback servers, real git, a bare remote."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytest_httpserver import HTTPServer

from newsmirror.archive.article import parse_article
from newsmirror.jobs.requests import archive_requests
from newsmirror.dates import china_time
from tests.helpers import git

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC, the time of the run
GOOD = "Wed, 01 Mar 2023 18:39:03 GMT"
GOOD_MS = 1677695943000

# (title, date element or None, guid): each on its own, beside a good item.
HOSTILE = [
    ("远未来", "<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>", "a-1"),
    ("零年", "<pubDate>Sat, 01 Jan 0000 00:00:00 GMT</pubDate>", "a-2"),
    ("负年份", "<dc:date>-0044-03-15T12:00:00Z</dc:date>", "a-3"),
    ("千年后", "<dc:date>3026-01-01T00:00:00Z</dc:date>", "a-4"),
    ("数字编号", None, "130376"),
    ("只有时间", "<pubDate>10:30</pubDate>", "a-6"),
]


def feed(*, malformed: bool = False) -> bytes:
    items = [(f"<item><title>正常</title><link>https://news.test/good</link><guid>good</guid>"
              f"<pubDate>{GOOD}</pubDate><description>&lt;p&gt;好&lt;/p&gt;</description></item>")]
    for n, (title, date, guid) in enumerate(HOSTILE):
        items.append(f"<item><title>{title}</title><link>https://news.test/{n}</link>"
                     f"<guid isPermaLink='false'>{guid}</guid>{date or ''}"
                     f"<description>&lt;p&gt;{title}&lt;/p&gt;</description></item>")
    junk = "&nbsp;" if malformed else ""  # an undefined entity: feedparser's path
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><title>测试</title>"
            f"<link>https://news.test/</link>{junk}{''.join(items)}</channel></rss>").encode()


def stamps(mirror) -> dict[tuple[str, str], tuple[int, str]]:
    """(source, title) -> (line 1's time, month folder) of every article file."""
    found = {}
    for path in mirror.articles():
        article = parse_article(path.read_bytes())
        slug, year, month = path.parts[-4:-1]
        found[slug, article.title] = (article.published_ms, f"{year}/{month}")
    return found


def test_bad_or_missing_dates_cost_nothing_and_take_the_first_seen_time(mirror, httpserver: HTTPServer):
    for path, malformed in (("/fast.xml", False), ("/thorough.xml", True)):
        httpserver.expect_request(path).respond_with_data(feed(malformed=malformed),
                                                          content_type="application/rss+xml")
    sources = [{"slug": "fast", "name": "F", "url": httpserver.url_for("/fast.xml"), "full_text": "feed"},
               {"slug": "thorough", "name": "T", "url": httpserver.url_for("/thorough.xml"), "full_text": "feed"}]
    report = mirror.run(sources, now_ms=T0)
    assert [(o.failed, o.new) for o in report.outcomes] == [(None, 7), (None, 7)], report.outcomes
    found = stamps(mirror)
    first_seen = (T0, f"{china_time(T0):%Y/%m}")
    assert found == {
        **{(slug, "正常"): (GOOD_MS, "2023/03") for slug in ("fast", "thorough")},
        **{(slug, title): first_seen for slug in ("fast", "thorough") for title, _, _ in HOSTILE},
    }
    # The next run, an hour later, finds them unchanged: the first-seen time stays.
    again = mirror.run(sources, now_ms=T0 + 3_600_000)
    assert again.commit is None and [o.unchanged for o in again.outcomes] == [7, 7]
    assert stamps(mirror) == found
    assert git("status", "--porcelain", cwd=mirror.archive) == ""


def test_a_requested_page_dated_9999_is_archived_with_its_fetch_time(mirror, httpserver: HTTPServer):
    paragraphs = "".join(f"<p>第{i}段：这是一篇关于河流改道之后村庄生活变化的长篇报道，记者走访了许多村民。</p>"
                         for i in range(12))
    page = ("<html><head><title>遥远的未来</title>"
            "<meta property='article:published_time' content='9999-12-31T23:59:59Z'>"
            "<script type='application/ld+json'>{\"@type\": \"NewsArticle\", \"headline\": \"遥远的未来\","
            " \"datePublished\": \"9999-12-31\"}</script></head>"
            f"<body><article><h1>遥远的未来</h1><time datetime='9999-12-31'>9999</time>{paragraphs}"
            "</article></body></html>")
    httpserver.expect_request("/future.html").respond_with_data(page, content_type="text/html; charset=utf-8")
    config = mirror.config([{"slug": "x", "name": "X", "url": httpserver.url_for("/x.xml")}])
    report = asyncio.run(archive_requests(config, [httpserver.url_for("/future.html")], push=False,
                                          allow_private=True, now_ms=T0))
    [outcome] = report.outcomes
    assert outcome.ok, outcome
    assert outcome.path.startswith(f"requests/{china_time(T0):%Y/%m}/")
    assert parse_article((Path(config.archive) / outcome.path).read_bytes()).published_ms == T0


# Chinese feeds write China time as "GMT+8" (and JavaScript's Date as "GMT+0800 (…)"):
# UTC+8, as meant, not the POSIX TZ reading UTC-8 that would put line 1 16 hours late.
GMT_PLUS_8 = [
    ("北京时间", "<pubDate>Wed, 01 Mar 2023 18:39:03 GMT+8</pubDate>", "g-1"),
    ("协调世界时", "<pubDate>Wed, 01 Mar 2023 18:39:03 UTC+08:00</pubDate>", "g-2"),
    ("脚本日期", "<pubDate>Wed Mar 01 2023 18:39:03 GMT+0800 (China Standard Time)</pubDate>", "g-3"),
    ("页面格式", "<dc:date>2023-03-01 18:39:03 GMT+8</dc:date>", "g-4"),
    ("西五区", "<pubDate>Wed, 01 Mar 2023 05:39:03 UTC-5</pubDate>", "g-5"),
]
GMT_PLUS_8_MS = 1677667143000  # 2023-03-01T10:39:03Z


def gmt_feed(*, malformed: bool) -> bytes:
    items = "".join(f"<item><title>{title}</title><link>https://news.test/{guid}</link>"
                    f"<guid isPermaLink='false'>{guid}</guid>{date}"
                    f"<description>&lt;p&gt;{title}&lt;/p&gt;</description></item>"
                    for title, date, guid in GMT_PLUS_8)
    junk = "&nbsp;" if malformed else ""
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0' "
            "xmlns:dc='http://purl.org/dc/elements/1.1/'><channel><title>测试</title>"
            f"<link>https://news.test/</link>{junk}{items}</channel></rss>").encode()


def test_gmt_plus_8_is_china_time_on_line_1(mirror, httpserver: HTTPServer):
    for path, malformed in (("/fast.xml", False), ("/thorough.xml", True)):
        httpserver.expect_request(path).respond_with_data(gmt_feed(malformed=malformed),
                                                          content_type="application/rss+xml")
    sources = [{"slug": "fast", "name": "F", "url": httpserver.url_for("/fast.xml"), "full_text": "feed"},
               {"slug": "thorough", "name": "T", "url": httpserver.url_for("/thorough.xml"), "full_text": "feed"}]
    report = mirror.run(sources, now_ms=T0)
    assert [(o.failed, o.new) for o in report.outcomes] == [(None, 5), (None, 5)], report.outcomes
    assert stamps(mirror) == {(slug, title): (GMT_PLUS_8_MS, "2023/03")
                              for slug in ("fast", "thorough") for title, _, _ in GMT_PLUS_8}
