"""Atom feeds built from a real archive made by the real pipeline (loopback feeds only)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, UTC
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest

from newsmirror.archive.store import open_store
from newsmirror.config import Config, SourceConfig, parse_config
from newsmirror.demo.server import DemoServer
from newsmirror.jobs.mirror import run_mirror
from newsmirror.publish.feeds import (
    FEED_SIZE, FeedEntry, FeedInfo, entry_id, render_atom, write_feeds,
)

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
ITEMS = 60


def big_rss(count: int = ITEMS) -> bytes:
    """An RSS feed of `count` items, one an hour, the newest first; item 3 has relative
    markup and a script the sanitiser must deal with."""
    items = []
    for i in range(count):
        when = format_datetime(START - timedelta(hours=i))
        body = f"<p>正文 {i}</p>"
        if i == 3:
            body += '<p><a href="/more.html">更多</a><script>alert(1)</script></p>'
        items.append(
            f"<item><title>新闻标题 {i}</title><link>https://news.example/a/{i}.html</link>"
            f"<guid>https://news.example/a/{i}.html</guid><pubDate>{when}</pubDate>"
            f"<description><![CDATA[{body}]]></description></item>")
    return ("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            "<title>Big</title><link>https://news.example/</link>"
            + "".join(items) + "</channel></rss>").encode("utf-8")


def mirror(tmp_path: Path, sources: list[dict]) -> Path:
    config = parse_config({"archive": {"path": "archive", "push": False}, "sources": sources},
                          file="t.toml", base=tmp_path)
    report = asyncio.run(run_mirror(config, push=False))
    assert report.ok, [(o.slug, o.failed) for o in report.outcomes]
    return config.archive


@pytest.fixture
def archive(tmp_path: Path, httpserver) -> Path:
    httpserver.expect_request("/big.xml").respond_with_data(big_rss(), content_type="application/rss+xml")
    with DemoServer() as demo:
        sources = [
            {"slug": "big", "name": "大新闻", "url": httpserver.url_for("/big.xml")},
            {"slug": "voa", "name": "美国之音", "url": f"{demo.base}/voa.xml"},
            {"slug": "bbc", "name": "BBC 中文", "url": f"{demo.base}/bbc.xml"},
        ]
        root = mirror(tmp_path, sources)
        snapshot = {p.name: p.read_bytes() for p in (root / "feeds").iterdir()}
        head = _head(root)
        mirror(tmp_path, sources)  # a second run over the same feeds
    assert {p.name: p.read_bytes() for p in (root / "feeds").iterdir()} == snapshot
    assert _head(root) == head, "an idle run must not commit"
    return root


def _head(root: Path) -> str:
    from newsmirror.archive.git import Repo

    return Repo(root).head()


def parse(path: Path):
    parsed = feedparser.parse(path.read_bytes())
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_every_source_and_the_combined_feed_are_valid_atom(archive: Path):
    names = sorted(p.name for p in (archive / "feeds").iterdir())
    assert names == ["all.xml", "bbc.xml", "big.xml", "voa.xml"]
    for name in names:
        parsed = parse(archive / "feeds" / name)
        assert parsed.feed.id.startswith("urn:uuid:")
        assert parsed.entries
        for entry in parsed.entries:
            assert entry.id.startswith("urn:uuid:") and entry.title and entry.updated
            rels = {link.rel: link.href for link in entry.links}
            assert rels["alternate"].startswith("../articles/")
            assert rels["related"].startswith("http")
        # The feed's own time is its newest entry's, never the clock.
        assert parsed.feed.updated == parsed.entries[0].updated


def test_feeds_hold_the_latest_fifty_newest_first(archive: Path):
    big = parse(archive / "feeds" / "big.xml")
    assert len(big.entries) == FEED_SIZE
    assert [e.title for e in big.entries] == [f"新闻标题 {i}" for i in range(FEED_SIZE)]
    combined = parse(archive / "feeds" / "all.xml")
    assert len(combined.entries) == FEED_SIZE
    times = [e.updated for e in combined.entries]
    assert times == sorted(times, reverse=True)
    assert {e.tags[0].term for e in combined.entries} >= {"big"}


def test_entries_link_the_archived_copy_and_the_original(archive: Path):
    big = parse(archive / "feeds" / "big.xml")
    first = big.entries[0]
    rels = {link.rel: link.href for link in first.links}
    assert rels["related"] == "https://news.example/a/0.html"
    copy = (archive / "feeds" / unquote(rels["alternate"])).resolve()
    assert copy.is_file() and copy.is_relative_to(archive.resolve() / "articles" / "big"), copy
    # ids are stable: they come from the slug and the file key alone.
    key = copy.name.rsplit("-", 1)[1].removesuffix(".md")
    assert first.id == entry_id("big", key)


def test_committed_feeds_carry_no_bodies_by_default(archive: Path):
    """The feeds are committed every hour: a body in them would be stored again in each
    commit that shifts it (more history than the article itself, bench/growth.py)."""
    from newsmirror.archive.git import Repo

    for name in ("big.xml", "all.xml", "voa.xml"):
        parsed = parse(archive / "feeds" / name)
        assert parsed.entries and all("content" not in e for e in parsed.entries), name
    committed = Repo(archive).out("show", "HEAD:feeds/big.xml")
    assert "正文" not in committed and "<content" not in committed
    assert "新闻标题 3" in committed


def test_content_is_the_sanitised_body(archive: Path):
    """With `[archive] feed_content = true` the committed feeds carry the bodies."""
    with open_store(archive) as store:
        config = Config(file="t.toml", archive=archive, title="镜像", feed_content=True,
                        sources=(SourceConfig(slug="big", name="大新闻", url="https://big.example/feed"),))
        assert "feeds/big.xml" in write_feeds(config, store)
    big = parse(archive / "feeds" / "big.xml")
    third = next(e for e in big.entries if e.title == "新闻标题 3")
    html = third.content[0].value
    assert "正文 3" in html
    assert "<script" not in html and "alert(1)" not in html
    assert 'href="https://news.example/more.html"' in html


def test_a_body_whose_file_is_not_here_is_read_again_later(archive: Path):
    """An article file that cannot be read now (a closed shard's, its clone not made) leaves
    its entry without a body this time, and is not remembered as having none."""
    config = Config(file="t.toml", archive=archive, title="镜像", feed_content=True,
                    sources=(SourceConfig(slug="big", name="大新闻", url="https://big.example/feed"),))
    with open_store(archive) as store:
        entry = next(e for e in store.catalog.latest("big", 50) if e.title == "新闻标题 3")
        file = store.file(entry)
        away = file.with_name("away")
        file.rename(away)
        write_feeds(config, store)
        third = next(e for e in parse(archive / "feeds" / "big.xml").entries if e.title == "新闻标题 3")
        assert "content" not in third
        away.rename(file)
        write_feeds(config, store)
    third = next(e for e in parse(archive / "feeds" / "big.xml").entries if e.title == "新闻标题 3")
    assert "正文 3" in third.content[0].value


def test_write_feeds_uses_the_web_url_and_reports_only_changes(archive: Path):
    with open_store(archive) as store:
        sources = (SourceConfig(slug="big", name="大新闻", url="https://big.example/feed"),
                   SourceConfig(slug="voa", name="美国之音", url="https://voa.example/feed"))
        config = Config(file="t.toml", archive=archive, sources=sources, title="镜像",
                        web_url="https://mirror.example/news/")
        changed = write_feeds(config, store)
        assert sorted(changed) == ["feeds/all.xml", "feeds/big.xml", "feeds/voa.xml"]
        assert write_feeds(config, store) == []
    big = parse(archive / "feeds" / "big.xml")
    assert big.entries[0].link.startswith("https://mirror.example/news/articles/big/")
    assert {link.rel: link.href for link in big.feed.links}["self"] == "https://mirror.example/news/feeds/big.xml"


def test_render_atom_is_pure_and_survives_hostile_text():
    entry = FeedEntry(slug="voa", key="0123456789ab", path="articles/voa/2024/05/a (b)-0123456789ab.md",
                      title="<b>标题</b> & \x01控制", link="https://x.example/a?b=1&c=2",
                      published_ms=1714550400123, source_name="美国之音",
                      content_html="<p>a</p>\x0b")
    once = render_atom(FeedInfo("voa", "美国之音"), [entry], None)
    assert once == render_atom(FeedInfo("voa", "美国之音"), [entry], None)
    parsed = feedparser.parse(once)
    assert parsed.bozo == 0
    assert parsed.entries[0].title == "<b>标题</b> & 控制"
    assert parsed.entries[0].updated == "2024-05-01T08:00:00Z"
    assert parsed.entries[0].link == "../articles/voa/2024/05/a%20%28b%29-0123456789ab.md"
    empty = feedparser.parse(render_atom(FeedInfo("all", "镜像"), [], None))
    assert empty.bozo == 0 and empty.entries == [] and empty.feed.updated == "1970-01-01T00:00:00Z"



def test_the_body_cache_forgets_articles_no_feed_shows(tmp_path: Path):
    """Over years the cache of sanitised bodies must not grow into a copy of the archive."""
    from newsmirror.archive.article import render_article
    from newsmirror.archive.paths import article_path
    from newsmirror.archive.store import open_store
    from newsmirror.config import parse_config
    from newsmirror.models import Article

    config = parse_config({"archive": {"path": "a", "feed_content": True}, "sources": [
        {"slug": "s", "name": "S", "url": "https://example.com/f.xml"}]}, file="t.toml", base=tmp_path)
    most = 0
    for hour in range(30):  # ten new articles an hour; the feed shows the newest ten
        for i in range(hour * 10, hour * 10 + 10):
            path = config.archive / article_path("s", 10**12 + i * 1000, f"t{i}", f"{i:012x}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render_article(Article(10**12 + i * 1000, f"t{i}", f"https://e.test/{i}", "<p>x</p>")))
        with open_store(config.archive, writes=False) as store:
            write_feeds(config, store, size=10)
            most = max(most, store.catalog.feed_bodies())
    assert most <= 2 * 10 + 100 + 10
