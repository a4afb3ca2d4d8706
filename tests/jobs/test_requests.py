"""Archiving pages on request into a real git archive with a bare remote, pages served
by a loopback server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.helpers import archive_urls, bare_remote, git
from newsmirror.archive.article import parse_article
from newsmirror.archive.paths import REQUESTS_LIST
from newsmirror.jobs.requests import (
    archive_requests, request_link, request_path, scan_requests,
)
from newsmirror.config import Config, parse_config

PAGES = Path(__file__).resolve().parents[1] / "content" / "pages"
PROXY = "https://images.weserv.nl?url=${host}${pathname}${search}"


def make_config(folder: Path, remote: Path | None) -> Config:
    data = {
        "archive": {"path": "archive", **({"remote": str(remote)} if remote else {})},
        "images": {"proxy": [PROXY]},
        "sources": [{"slug": "voa", "name": "美国之音", "url": "http://127.0.0.1:9/feed.xml"}],
    }
    return parse_config(data, file="test.toml", base=folder)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return bare_remote(tmp_path / "remote.git")


@pytest.fixture
def config(tmp_path: Path, remote: Path) -> Config:
    return make_config(tmp_path, remote)


def serve(httpserver: HTTPServer, path: str, name: str) -> str:
    httpserver.expect_request(path).respond_with_data(
        (PAGES / name).read_bytes(), content_type="text/html; charset=utf-8")
    return httpserver.url_for(path)


def test_request_identity_and_path() -> None:
    assert request_link("HTTPS://Example.COM:443/a b?x=1#frag") == "https://example.com/a%20b?x=1"
    assert request_link("ftp://example.com/") is None
    assert request_link("see here") is None
    assert request_path(1_706_745_600_000, "河流/改道", "0123456789ab") == \
        "requests/2024/02/河流-改道-0123456789ab.md"


def test_archive_a_page(httpserver: HTTPServer, config: Config, remote: Path) -> None:
    url = serve(httpserver, "/2024/02/river.html", "generic.html")
    [outcome] = archive_urls(config, [url], allow_private=True)
    assert outcome.ok and outcome.status == "archived"
    assert outcome.title == "河流改道之后的村庄"
    assert outcome.path.startswith("requests/2024/02/河流改道之后的村庄-")
    archive = config.archive
    data = (archive / outcome.path).read_bytes()
    article = parse_article(data)
    assert article.published_ms == 1_706_745_600_000
    assert article.link == url
    assert data.startswith(f"<!--1706745600000-->\n[河流改道之后的村庄]({url})\n------\n\n".encode())
    assert data.endswith(b"\n") and data.count(b"\n") == 5
    assert "补偿款" in article.body
    host = f"{httpserver.host}:{httpserver.port}"
    assert f"https://images.weserv.nl?url={host}/images/river.jpg" in article.body
    assert (archive / REQUESTS_LIST).read_text() == (
        f"按请求存档的网页 Pages archived on request\n------\n\n2-1 [河流改道之后的村庄](/{outcome.path})\n")
    assert git("log", "-1", "--format=%s", cwd=archive) == "Archive 1 requested page"
    assert git("--git-dir", str(remote), "log", "-1", "--format=%s", "main", cwd=archive) == \
        "Archive 1 requested page"
    assert git("status", "--porcelain", cwd=archive) == ""


def test_a_second_request_returns_the_file_without_fetching(httpserver: HTTPServer, config: Config) -> None:
    url = serve(httpserver, "/river.html", "generic.html")
    [first] = archive_urls(config, [url], push=False, allow_private=True)
    head = git("rev-parse", "HEAD", cwd=config.archive)
    [again, with_fragment] = archive_urls(config, [url, url + "#comments"], push=False,
                                          allow_private=True)
    assert (again.status, again.path) == ("existing", first.path)
    assert (with_fragment.status, with_fragment.path) == ("existing", first.path)
    assert len(httpserver.log) == 1
    assert git("rev-parse", "HEAD", cwd=config.archive) == head


def test_same_page_twice_in_one_request(httpserver: HTTPServer, config: Config) -> None:
    url = serve(httpserver, "/river.html", "generic.html")
    first, second = archive_urls(config, [url, url], push=False, allow_private=True)
    assert (first.status, second.status) == ("archived", "existing")
    assert first.path == second.path
    assert len(httpserver.log) == 1


def test_failures_are_reported_and_others_archived(httpserver: HTTPServer, config: Config) -> None:
    good = serve(httpserver, "/river.html", "generic.html")
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    httpserver.expect_request("/file.pdf").respond_with_data(b"%PDF-1.4", content_type="application/pdf")
    outcomes = archive_urls(config, ["ftp://example.com/x", httpserver.url_for("/gone"), good,
                                     httpserver.url_for("/file.pdf")], push=False,
                            allow_private=True)
    assert [o.status for o in outcomes] == ["failed", "failed", "archived", "failed"]
    assert "http(s)" in outcomes[0].reason
    assert "HTTP 404" in outcomes[1].reason
    assert "not a web page" in outcomes[3].reason
    assert len(scan_requests(config.archive)) == 1


def test_loopback_is_refused_without_the_test_switch(httpserver: HTTPServer, config: Config) -> None:
    url = serve(httpserver, "/river.html", "generic.html")
    [outcome] = archive_urls(config, [url], push=False)
    assert outcome.status == "failed"
    assert "loopback" in outcome.reason
    assert httpserver.log == []
    assert not (config.archive / REQUESTS_LIST).exists()


def test_list_is_newest_first(httpserver: HTTPServer, config: Config) -> None:
    old = serve(httpserver, "/zhihu-like", "generic.html")  # published 2024-02-01
    httpserver.expect_request("/newer").respond_with_data(
        (PAGES / "generic.html").read_text().replace("2024-02-01T08:00:00", "2024-03-05T08:00:00")
        .replace("河流改道之后的村庄", "新的一篇"), content_type="text/html")
    archive_urls(config, [old], push=False, allow_private=True)
    archive_urls(config, [httpserver.url_for("/newer")], push=False, allow_private=True)
    lines = (config.archive / REQUESTS_LIST).read_text().splitlines()
    assert lines[3].startswith("3-5 [新的一篇](/requests/2024/03/")
    assert lines[5].startswith("2-1 [河流改道之后的村庄](/requests/2024/02/")


def test_known_after_a_fresh_clone(httpserver: HTTPServer, config: Config, remote: Path,
                                   tmp_path: Path) -> None:
    url = serve(httpserver, "/river.html", "generic.html")
    [first] = archive_urls(config, [url], allow_private=True)
    clone_base = tmp_path / "elsewhere"
    clone_base.mkdir()
    subprocess.run(["git", "clone", "-q", str(remote), str(clone_base / "archive")], check=True)
    [again] = archive_urls(make_config(clone_base, remote), [url], allow_private=True)
    assert (again.status, again.path) == ("existing", first.path)
    assert len(httpserver.log) == 1


def test_a_feed_article_with_that_address_is_returned(httpserver: HTTPServer, config: Config) -> None:
    url = httpserver.url_for("/voa/story.html")
    path = "articles/voa/2024/01/报道-0123456789ab.md"
    target = config.archive / path
    target.parent.mkdir(parents=True)
    target.write_bytes(f"<!--1704164645000-->\n[报道]({url})\n------\n\n<p>正文</p>\n".encode())
    git("init", "-q", "-b", "main", cwd=config.archive)
    [outcome] = archive_urls(config, [url], push=False, allow_private=True)
    assert (outcome.status, outcome.path, outcome.title) == ("existing", path, "报道")
    assert httpserver.log == []


def test_report_names_commit_and_push(httpserver: HTTPServer, config: Config) -> None:
    import asyncio

    url = serve(httpserver, "/river.html", "generic.html")
    report = asyncio.run(archive_requests(config, [url], allow_private=True))
    assert report.commit and report.push is not None and report.push.ok
