"""The mirror pipeline end to end: real loopback HTTP servers, real git, a bare remote."""

from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from newsmirror.archive.article import parse_article
from tests.helpers import git
from tests.jobs.feeds import Item, rss

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC


@pytest.mark.parametrize("top", [
    {},
    # The starter configuration's proxy: the example's images already go through it.
    {"images": {"proxy": ["https://images.weserv.nl?url=${host}${pathname}${search}"]}},
], ids=["defaults", "weserv-proxy"])
def test_the_format_example_comes_out_byte_for_byte(mirror, httpserver: HTTPServer, format_dir: Path, top):
    expected = (format_dir / "example-article.md").read_bytes()
    article = parse_article(expected)
    # The feed's content is multi-line, indented HTML: its stripped lines make line 5.
    body = "\n".join("    " + part + "  " for part in article.body.replace("</p><p>", "</p>\n<p>").split("\n"))
    feed = rss([Item("  " + article.title + " \n", article.link, "\n" + body + "\n",
                     guid=article.link, date_ms=1677695943000)])
    assert b"<pubDate>Wed, 01 Mar 2023 18:39:03 GMT</pubDate>" in feed
    httpserver.expect_request("/voa.xml").respond_with_data(feed, content_type="application/rss+xml")
    report = mirror.run([{"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml")}], **top)
    assert report.new == 1, report.outcomes
    [path] = mirror.articles()
    assert path.read_bytes() == expected
    assert path.parent.relative_to(mirror.archive).as_posix() == "articles/voa/2023/03"


def serve(httpserver: HTTPServer, path: str, items: list[Item]) -> str:
    httpserver.expect_request(path).respond_with_data(rss(items), content_type="application/rss+xml")
    return httpserver.url_for(path)


def items(n: int, prefix: str = "a", edited: int | None = None) -> list[Item]:
    out = []
    for i in range(n):
        body = f"<p>第{i}篇正文。</p>" + ("<p>（更新）</p>" if i == edited else "")
        out.append(Item(f"{prefix}新闻{i}", f"https://news.test/{prefix}/{i}", body,
                        guid=f"{prefix}-{i}", date_ms=T0 + i * 60_000))
    return out


def test_twice_on_unchanged_feeds_makes_no_new_commit(mirror, httpserver: HTTPServer):
    sources = [{"slug": "voa", "name": "美国之音", "url": serve(httpserver, "/voa.xml", items(5))}]
    first = mirror.run(sources, now_ms=T0 + 10**7)
    assert (first.new, first.updated) == (5, 0) and first.commit
    assert first.push and first.push.ok
    second = mirror.run(sources, now_ms=T0 + 2 * 10**7)
    assert (second.new, second.updated) == (0, 0) and second.commit is None
    assert second.outcomes[0].unchanged == 5
    assert len(mirror.commits()) == 1
    assert git("status", "--porcelain", cwd=mirror.archive).strip() in ("", "M .newsmirror/health.json")
    assert git("rev-parse", "main", cwd=mirror.remote).strip() == mirror.commits()[0]


def test_an_edited_item_is_updated_in_place_in_one_commit(mirror, httpserver: HTTPServer):
    url = serve(httpserver, "/voa.xml", items(5))
    sources = [{"slug": "voa", "name": "美国之音", "url": url}]
    mirror.run(sources)
    before = {p: p.read_bytes() for p in mirror.articles()}
    httpserver.clear()
    serve(httpserver, "/voa.xml", items(5, edited=2))
    report = mirror.run(sources)
    assert (report.new, report.updated) == (0, 1)
    after = {p: p.read_bytes() for p in mirror.articles()}
    assert after.keys() == before.keys()
    changed = [p for p in after if after[p] != before[p]]
    assert len(changed) == 1 and "（更新）" in changed[0].read_text()
    commit_files = mirror.changed_in(report.commit)
    assert [f for f in commit_files if f.startswith("articles/")] == \
        [changed[0].relative_to(mirror.archive).as_posix()]
    assert not any(f.startswith("lists/") or f == "README.md" for f in commit_files)
    assert len(mirror.commits()) == 2


def test_a_retitled_item_keeps_its_path(mirror, httpserver: HTTPServer):
    url = serve(httpserver, "/voa.xml", [Item("旧标题", "https://news.test/1", "<p>x</p>", guid="g1", date_ms=T0)])
    sources = [{"slug": "voa", "name": "美国之音", "url": url}]
    mirror.run(sources)
    [path] = mirror.articles()
    httpserver.clear()
    serve(httpserver, "/voa.xml", [Item("新标题", "https://news.test/1", "<p>x</p>", guid="g1", date_ms=T0)])
    assert mirror.run(sources).updated == 1
    assert mirror.articles() == [path]
    assert "[新标题](" in path.read_text()
    assert "新标题" in (mirror.archive / "lists/voa.md").read_text()


def test_items_without_a_date_keep_their_first_seen_time(mirror, httpserver: HTTPServer):
    url = serve(httpserver, "/x.xml", [Item("无日期", "https://news.test/n", "<p>x</p>", guid="n")])
    sources = [{"slug": "x", "name": "X", "url": url}]
    mirror.run(sources, now_ms=T0)
    [path] = mirror.articles()
    assert path.read_text().startswith(f"<!--{T0}-->\n")
    report = mirror.run(sources, now_ms=T0 + 3_600_000)
    assert report.commit is None and report.outcomes[0].unchanged == 1
    assert path.read_text().startswith(f"<!--{T0}-->\n")


def test_a_broken_source_never_stops_the_others(mirror, httpserver: HTTPServer):
    good = serve(httpserver, "/good.xml", items(3))
    httpserver.expect_request("/500.xml").respond_with_data("oops", status=500)
    httpserver.expect_request("/html.xml").respond_with_data(
        "<html><head><title>Just a moment...</title></head><body>cf</body></html>", content_type="text/html")
    httpserver.expect_request("/garbage.xml").respond_with_data(b"\x00\x01\x02 not xml", content_type="application/xml")
    sources = [
        {"slug": "bad500", "name": "A", "url": httpserver.url_for("/500.xml")},
        {"slug": "good", "name": "B", "url": good},
        {"slug": "html", "name": "C", "url": httpserver.url_for("/html.xml")},
        {"slug": "garbage", "name": "D", "url": httpserver.url_for("/garbage.xml")},
        {"slug": "refused", "name": "E", "url": "http://127.0.0.1:9/feed.xml"},
    ]
    report = mirror.run(sources)
    by = {o.slug: o for o in report.outcomes}
    assert by["good"].new == 3 and by["good"].failed is None
    assert "500" in by["bad500"].failed
    assert by["html"].failed and "not a feed" in by["html"].failed.lower()
    assert by["garbage"].failed
    assert by["refused"].failed
    assert report.ok and report.commit
    health = (mirror.archive / ".newsmirror/health.json").read_text()
    assert '"bad500"' in health and '"failures": 1' in health


def test_nothing_could_be_done_is_a_failure(mirror):
    report = mirror.run([{"slug": "gone", "name": "G", "url": "http://127.0.0.1:9/feed.xml"}])
    assert not report.ok


def test_a_fresh_clone_continues_without_duplicates(mirror, httpserver: HTTPServer, tmp_path: Path):
    url = serve(httpserver, "/voa.xml", items(4))
    sources = [{"slug": "voa", "name": "美国之音", "url": url}]
    mirror.run(sources)
    clone = tmp_path / "clone"
    git("clone", "-q", str(mirror.remote), str(clone), cwd=tmp_path)
    mirror.archive = clone
    report = mirror.run(sources)
    assert report.commit is None and report.outcomes[0].unchanged == 4
    httpserver.clear()
    serve(httpserver, "/voa.xml", items(5, edited=1))
    report = mirror.run(sources)
    assert (report.new, report.updated) == (1, 1)
    assert len(mirror.articles()) == 5


def test_many_feeds_never_produce_duplicate_files(mirror, httpserver: HTTPServer):
    """10,000 items across 50 feeds, with duplicate GUIDs and repeated items mixed in."""
    sources = []
    for f in range(50):
        feed = items(200, prefix=f"s{f}-")
        feed.append(Item("重复条目", feed[0].link, feed[0].body, guid=feed[0].guid, date_ms=feed[0].date_ms))
        feed.append(Item("同一GUID", "https://news.test/other", "<p>另一篇</p>", guid=feed[1].guid, date_ms=T0))
        sources.append({"slug": f"s{f}", "name": f"源{f}", "url": serve(httpserver, f"/s{f}.xml", feed)})
    report = mirror.run(sources, push=False)
    files = mirror.articles()
    assert report.new == len(files) == 50 * 201
    names = [p.name for p in files]
    assert len(set(names)) == len(names)
    again = mirror.run(sources, push=False)
    assert again.new == 0 and again.updated == 0 and again.commit is None
    assert len(mirror.articles()) == len(files)
