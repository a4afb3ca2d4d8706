"""One bad page costs at most that page in `newsmirror archive` (requests) and `watch`:
hostile pages from a loopback server, a real archive and bare remote."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from newsmirror.archive.article import parse_article
from newsmirror.jobs.requests import archive_requests
from newsmirror.jobs.watch import watch_archive
from newsmirror.config import parse_config
from tests.helpers import bare_remote, git
from tests.hostile.cases import NO_BODY_PAGES
from tests.hostile.server import HostileServer

NOW = 1_764_000_000_000
DAY = 24 * 3600 * 1000
STORY = "<p>" + "这是一篇足够长的文章，读者请求把它存档下来以免被删除。" * 12 + "</p>"


def page(body: str, head: str = "<title>请求的文章</title>") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body><article>{body}</article></body></html>"


@pytest.fixture
def hostile():
    with HostileServer() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path):
    remote = bare_remote(tmp_path / "remote.git")
    return parse_config({"archive": {"path": "archive", "remote": str(remote)},
                         "fetch": {"timeout": 20, "connect_timeout": 5},
                         "sources": [{"slug": "voa", "name": "美国之音",
                                      "url": "http://127.0.0.1:9/voa.xml"}]},
                        file="t.toml", base=tmp_path)


def test_one_bad_requested_page_costs_that_page(config, hostile: HostileServer):
    good = hostile.serve("/good", page(STORY))
    far = hostile.serve("/year-9999", page(STORY, head=(
        '<title>万年</title><script type="application/ld+json">'
        '{"@type": "NewsArticle", "datePublished": "9999-12-31T23:59:59Z"}</script>')))
    stubs = [hostile.serve(f"/stub/{name}", html) for name, html in NO_BODY_PAGES.items()]
    urls = [good, far, *stubs]
    report = asyncio.run(archive_requests(config, urls, push=True, allow_private=True,
                                          now_ms=NOW))
    by_url = {o.url: o for o in report.outcomes}
    assert [o.url for o in report.outcomes] == urls
    assert by_url[good].status == "archived"
    assert parse_article((config.archive / by_url[good].path).read_bytes()).link == good
    for stub in stubs:
        assert by_url[stub].status == "failed" and "no body" in by_url[stub].reason
    # The far date: archived, or failed with its reason; never the others' loss.
    outcome = by_url[far]
    assert outcome.status == "archived" or (outcome.status == "failed" and outcome.reason), outcome
    if outcome.status == "failed" and outcome.reason.startswith("internal error"):
        assert outcome.traceback and "Traceback" in outcome.traceback
    assert report.commit and report.push is not None and report.push.ok


def test_one_bad_watched_page_costs_that_check(config, hostile: HostileServer):
    archive = config.archive
    archive.mkdir()
    git("init", "-q", "-b", "main", cwd=archive)
    links = {"edited": hostile.url("/edited"), "stub": hostile.url("/stub")}
    paths = {}
    for (name, link), key in zip(links.items(), ("aaaaaaaaaaaa", "bbbbbbbbbbbb")):
        path = f"requests/2025/11/{name}-{key}.md"
        target = archive / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f"<!--{NOW - DAY}-->\n[{name}]({link})\n------\n\n<p>旧的正文</p>\n"
                           .encode())
        paths[name] = path
    git("add", "-A", cwd=archive)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "add", cwd=archive)
    hostile.serve("/edited", page(STORY))
    hostile.serve("/stub", NO_BODY_PAGES["refresh"])
    report = asyncio.run(watch_archive(config, now_ms=NOW, allow_private=True, push=False))
    assert report.checked == 2
    assert report.changed == [paths["edited"]]
    assert "no body" in report.errors[paths["stub"]]
    assert paths["stub"] not in report.tracebacks  # a page's fault, not a bug
