"""Regression tests for what a review of the core found: crash windows, shared GUIDs,
validators that move every hour, pages pending across a rebuild, and pushes that rebase."""

import shutil
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newsmirror.archive.paths import CACHE_DIR
from newsmirror.archive.store import RUNNING, open_store
from tests.helpers import git
from tests.jobs.feeds import Item, rss

T0 = 1_764_000_000_000


def serve(httpserver: HTTPServer, items: list[Item], path: str = "/f.xml") -> str:
    httpserver.clear()
    httpserver.expect_request(path).respond_with_data(rss(items), content_type="application/rss+xml")
    return httpserver.url_for(path)


def item(n: int, guid: str | None = None, link: str | None = None) -> Item:
    return Item(f"新闻{n}", link or f"https://news.test/{n}", f"<p>正文{n}</p>", guid=guid or str(n),
                date_ms=T0 + n * 60_000)


def test_files_left_by_a_killed_run_are_committed_with_their_lists(mirror, httpserver: HTTPServer):
    sources = [{"slug": "s", "name": "源", "url": serve(httpserver, [item(1)])}]
    mirror.run(sources)
    # What a run killed after writing an article, before lists and commit, leaves behind.
    url = serve(httpserver, [item(1), item(2)])
    report = mirror.run(sources, push=False)
    git("reset", "-q", "--soft", "HEAD~1", cwd=mirror.archive)
    git("reset", "-q", cwd=mirror.archive)
    (mirror.archive / "lists" / "s.md").write_text("stale\n")
    (mirror.archive / CACHE_DIR / RUNNING).touch()
    # A command in between (rebuild, site, watch) must not make the repair forgotten.
    with open_store(mirror.archive):
        pass
    again = mirror.run([{"slug": "s", "name": "源", "url": url}])
    assert again.new == 0 and again.commit
    assert git("status", "--porcelain", "--", "articles", "lists", "feeds", cwd=mirror.archive) == ""
    listed = (mirror.archive / "lists" / "s.md").read_text()
    assert "新闻2" in listed and "新闻1" in listed
    assert "新闻2" in (mirror.archive / "feeds" / "s.xml").read_text()
    assert report.new == 1


def test_a_guid_shared_for_a_while_never_overwrites_or_duplicates(mirror, httpserver: HTTPServer):
    a = item(1, guid="X", link="https://news.test/a")
    b = Item("另一篇", "https://news.test/b", "<p>B</p>", guid="X", date_ms=T0)
    for feed in ([a], [a, b], [b], [a, b], [a]):
        mirror.run([{"slug": "s", "name": "源", "url": serve(httpserver, feed)}], push=False)
    texts = sorted(p.read_text().split("\n")[1] for p in mirror.articles())
    assert texts == ["[另一篇](https://news.test/b)", "[新闻1](https://news.test/a)"]
    # And the other way round: first seen together, then one at a time.
    mirror.archive = mirror.tmp / "second"
    for feed in ([a, b], [b], [a]):
        report = mirror.run([{"slug": "s", "name": "源", "url": serve(httpserver, feed)}], push=False)
        assert report.updated == 0
    assert len(mirror.articles()) == 2


def test_a_feed_whose_etag_moves_every_hour_makes_no_commit(mirror, httpserver: HTTPServer):
    state = {"n": 0}

    def handler(request: Request) -> Response:
        state["n"] += 1
        n = state["n"]
        return Response(rss([item(1)]), content_type="application/rss+xml",
                        headers={"ETag": f'"v{n}"', "Last-Modified": f"Mon, 0{n} Jan 2024 00:00:00 GMT"})

    httpserver.expect_request("/f.xml").respond_with_handler(handler)
    sources = [{"slug": "s", "name": "源", "url": httpserver.url_for("/f.xml")}]
    mirror.run(sources)
    assert mirror.run(sources).commit is None
    assert mirror.run(sources).commit is None
    assert len(mirror.commits()) == 1


def test_a_pending_page_is_still_fetched_after_the_catalog_is_rebuilt(mirror, httpserver: HTTPServer):
    link = httpserver.url_for("/a/1.html")
    feed = rss([Item("标题", link, "<p>摘要</p>", guid="1", date_ms=T0)])
    httpserver.expect_request("/f.xml").respond_with_data(feed, content_type="application/rss+xml")
    httpserver.expect_request("/a/1.html").respond_with_data("gone for now", status=404)
    sources = [{"slug": "s", "name": "源", "url": httpserver.url_for("/f.xml"), "full_text": "page"}]
    mirror.run(sources)
    shutil.rmtree(mirror.archive / CACHE_DIR)
    httpserver.clear()
    httpserver.expect_request("/f.xml").respond_with_data(feed, content_type="application/rss+xml")
    page = ("<html><body><article><p>" + "完整的正文内容。" * 40 + "</p></article></body></html>")
    httpserver.expect_request("/a/1.html").respond_with_data(page, content_type="text/html; charset=utf-8")
    report = mirror.run(sources)
    assert report.updated == 1
    assert "完整的正文内容" in mirror.articles()[0].read_text()


def test_articles_merged_from_the_remote_get_their_lists_and_feeds(mirror, httpserver: HTTPServer, tmp_path: Path):
    sources = [{"slug": "s", "name": "源", "url": serve(httpserver, [item(1)])}]
    mirror.run(sources)
    # Another mirror of the same archive pushes an article of its own meanwhile.
    other = tmp_path / "other"
    git("clone", "-q", str(mirror.remote), str(other), cwd=tmp_path)
    mine = mirror.archive
    mirror.archive = other
    mirror.run([{"slug": "s", "name": "源", "url": serve(httpserver, [item(1), item(3)])}])
    mirror.archive = mine
    report = mirror.run([{"slug": "s", "name": "源", "url": serve(httpserver, [item(1), item(2)])}])
    assert report.push and report.push.ok
    for folder in (mine, ):
        listed = (folder / "lists" / "s.md").read_text()
        assert "新闻3" in listed and "新闻2" in listed
        assert "新闻3" in (folder / "feeds" / "all.xml").read_text()
    assert git("rev-parse", "HEAD", cwd=mine) == git("rev-parse", "main", cwd=mirror.remote)
    assert "新闻3" in git("show", "main:lists/s.md", cwd=mirror.remote)


def test_an_idle_run_still_pushes_when_the_remote_moved(mirror, httpserver: HTTPServer, tmp_path: Path):
    sources = [{"slug": "s", "name": "源", "url": serve(httpserver, [item(1)])}]
    mirror.run(sources, push=False)           # a commit not pushed yet
    mirror.run(sources, push=False)           # an idle run: health.json left modified
    other = tmp_path / "other"
    git("clone", "-q", str(mirror.remote), str(other), cwd=tmp_path)
    (other / "NOTE.md").write_text("remote moved\n")
    git("add", "NOTE.md", cwd=other)
    git("-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "note", cwd=other)
    git("push", "-q", "origin", "HEAD:main", cwd=other)
    report = mirror.run(sources)
    assert report.push and report.push.ok, report.push
    assert "NOTE.md" in git("ls-tree", "--name-only", "main", cwd=mirror.remote)
