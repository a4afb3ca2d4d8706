"""Re-checking archived articles at their source: edits and deletions recorded in a real
git archive (with a bare remote), pages served by a loopback server."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.helpers import archive_urls, bare_remote, git
from newsmirror.archive.article import parse_article
from newsmirror.jobs.watch import (
    WATCH_FILE, Watched, WatchState, choose, dump_states, judge,
    load_states, redirected_away, watch_archive,
)
from newsmirror.archive.paths import CHANGED_LIST, REMOVED_LIST
from newsmirror.config import Config, parse_config

NOW = 1_717_200_000_000  # 2024-06-01 00:00 UTC (08:00 in China)
DAY = 24 * 3600 * 1000
PAGES = Path(__file__).resolve().parents[1] / "content" / "pages"


def make_config(base: Path, remote: Path) -> Config:
    return parse_config({
        "archive": {"path": "archive", "remote": str(remote)},
        "sources": [
            {"slug": "voa", "name": "美国之音", "url": "http://127.0.0.1:9/voa.xml",
             "full_text": "page", "selector": "div.story"},
            {"slug": "bbc", "name": "BBC", "url": "http://127.0.0.1:9/bbc.xml"},
        ],
    }, file="test.toml", base=base)


@pytest.fixture
def env(tmp_path: Path):
    remote = tmp_path / "remote.git"
    bare_remote(remote)
    config = make_config(tmp_path, remote)
    config.archive.mkdir()
    git("init", "-q", "-b", "main", cwd=config.archive)
    return config, remote


def story(paragraphs: list[str]) -> str:
    inner = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (f"<html><head><title>t</title></head><body><nav>首页</nav>"
            f'<div class="story">{inner}</div></body></html>')


def add_article(config: Config, path: str, link: str, published_ms: int, body: str,
                title: str = "标题") -> None:
    target = config.archive / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(f"<!--{published_ms}-->\n[{title}]({link})\n------\n\n{body}\n".encode())
    git("add", path, cwd=config.archive)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "add", cwd=config.archive)


def run(config: Config, **options):
    options.setdefault("now_ms", NOW)
    options.setdefault("allow_private", True)
    return asyncio.run(watch_archive(config, **options))


def serve(httpserver: HTTPServer, path: str, html: str, status: int = 200) -> None:
    httpserver.expect_request(path).respond_with_data(html, status=status,
                                                      content_type="text/html; charset=utf-8")


# -- pure parts -------------------------------------------------------------------------------
def test_state_file_round_trip_and_order() -> None:
    states = [WatchState("b.md", NOW, "changed", "abc", None, (NOW - DAY, NOW)),
              WatchState("a.md", None, "", "", None, ()),
              WatchState("c.md", NOW, "removed", "", NOW - 2 * DAY, ())]
    data = dump_states(states)
    lines = data.decode().splitlines()
    assert lines[0].startswith("# ")
    assert [line.split("\t")[0] for line in lines[1:]] == ["a.md", "b.md", "c.md"]
    assert lines[2] == "b.md\t2024-06-01T00:00:00Z\tchanged\tabc\t-\t2024-05-31T00:00:00Z,2024-06-01T00:00:00Z"
    assert load_states(data) == {s.path: s for s in states}
    assert dump_states(load_states(data).values()) == data


def test_choose_never_checked_then_oldest_checked() -> None:
    items = [Watched(p, "https://x/" + p, NOW, "t", "voa") for p in ("d", "c", "b", "a")]
    states = {"a": WatchState("a", NOW - DAY), "b": WatchState("b", NOW - 3 * DAY),
              "c": WatchState("c", None)}
    assert [w.path for w in choose(items, states, 3)] == ["c", "d", "b"]
    assert choose(items, states, 0) == []


@pytest.mark.parametrize("original, final, gone", [
    ("https://s.com/2024/05/a.html", "https://s.com/", True),
    ("https://s.com/2024/05/a.html", "https://s.com/404.html", True),
    ("https://s.com/news/a.html", "https://www.s.com/", True),
    ("https://s.com/2024/05/a.html", "https://s.com/2024/05/a.html", False),
    ("http://s.com/2024/05/a.html", "https://s.com/2024/05/a.html/", False),
    ("https://s.com/2024/05/a.html", "https://s.com/2024/05/b.html", False),
    ("https://s.com/a.html", "https://s.com/a.html", False),
])
def test_redirected_away(original: str, final: str, gone: bool) -> None:
    assert redirected_away(original, final) is gone


def test_judge() -> None:
    assert judge("甲乙", "甲乙", None, from_page=True) == "same"
    assert judge("甲乙", "甲丙", None, from_page=True) == "changed"
    assert judge("摘要", "全文", None, from_page=False) == "same"  # feed text vs page text
    from newsmirror.jobs.watch import text_hash

    seen = WatchState("p", NOW, "same", text_hash("全文"))
    assert judge("摘要", "全文", seen, from_page=False) == "same"
    assert judge("摘要", "改过的全文", seen, from_page=False) == "changed"


# -- whole runs -------------------------------------------------------------------------------
def test_an_edited_page_is_written_in_place(env, httpserver: HTTPServer) -> None:
    config, remote = env
    link = httpserver.url_for("/2024/05/story.html")
    path = "articles/voa/2024/05/标题-0123456789ab.md"
    add_article(config, path, link, NOW - 3 * DAY, "<p>第一段。</p><p>第二段。</p>")
    old = (config.archive / path).read_bytes()
    serve(httpserver, "/2024/05/story.html", story(["第一段。", "第二段（已删改）。"]))
    report = run(config)
    assert report.changed == [path] and report.removed == [] and report.checked == 1
    new = parse_article((config.archive / path).read_bytes())
    assert "第二段（已删改）。" in new.body
    assert new.link == link and new.published_ms == NOW - 3 * DAY and new.title == "标题"
    # git history keeps the archived version
    assert git("show", f"HEAD~1:{path}", cwd=config.archive).encode() + b"\n" == old
    assert git("log", "-1", "--format=%s", cwd=config.archive) == \
        "Watch 1 articles: 1 changed, 0 removed at the source"
    changed = (config.archive / CHANGED_LIST).read_text()
    assert f"\n2024-06-01 [标题](/{path})\n" in changed
    assert (config.archive / REMOVED_LIST).read_text().count("[") == 0
    assert git("--git-dir", str(remote), "log", "-1", "--format=%s", "main", cwd=config.archive) \
        .startswith("Watch 1 articles")
    # The next check finds it the same: nothing more changes.
    report = run(config, now_ms=NOW + DAY)
    assert report.changed == [] and report.checked == 1
    assert (config.archive / CHANGED_LIST).read_text() == changed


def test_a_page_is_read_again_as_its_site_rule_archived_it(tmp_path: Path, httpserver: HTTPServer):
    """A source without a selector of its own: the site rule's selector, its remove and
    remove_text, and its page_query, exactly as the mirror run applies them."""
    rules = tmp_path / "rules.toml"
    host = httpserver.url_for("/").split("/")[2].split(":")[0]
    rules.write_text(f'[loopback]\nhosts = ["{host}"]\nselector = "div.story"\n'
                     'remove = [".share"]\nremove_text = ["分享到：.*"]\npage_query = "full=y"\n',
                     encoding="utf-8")
    remote = bare_remote(tmp_path / "remote.git")
    config = parse_config({
        "archive": {"path": "archive", "remote": str(remote)}, "site_rules": "rules.toml",
        "sources": [{"slug": "rfi", "name": "RFI", "url": "http://127.0.0.1:9/rfi.xml",
                     "full_text": "page"}]}, file="test.toml", base=tmp_path)
    config.archive.mkdir()
    git("init", "-q", "-b", "main", cwd=config.archive)
    link = httpserver.url_for("/2024/05/long.html")
    path = "articles/rfi/2024/05/标题-0123456789ab.md"
    add_article(config, path, link, NOW - DAY, "<p>第一段。</p><p>第二段。</p>")
    before = (config.archive / path).read_bytes()
    page = ('<html><body><nav>首页</nav><div class="story"><p>第一段。</p><p>第二段。</p>'
            '<div class="share">微博</div><p>分享到：微信</p></div></body></html>')
    httpserver.expect_request("/2024/05/long.html", query_string="full=y").respond_with_data(
        page, content_type="text/html; charset=utf-8")
    report = run(config)
    # The whole story (full=y), without what the rule removes: the same as archived.
    assert (report.changed, report.removed, report.errors) == ([], [], {}), report
    assert (config.archive / path).read_bytes() == before


def test_unchanged_page(env, httpserver: HTTPServer) -> None:
    config, _ = env
    link = httpserver.url_for("/a/b.html")
    path = "articles/voa/2024/05/标题-0123456789ab.md"
    add_article(config, path, link, NOW - DAY, "<p>第一段。</p>\n<p>第二段。</p>")
    serve(httpserver, "/a/b.html", story(["第一段。", "第二段。"]))
    before = (config.archive / path).read_bytes()
    report = run(config)
    assert (report.changed, report.removed, report.errors) == ([], [], {})
    assert (config.archive / path).read_bytes() == before
    state = load_states((config.archive / WATCH_FILE).read_bytes())[path]
    assert (state.result, state.checked_ms) == ("same", NOW)


def test_removed_pages_are_listed_and_kept(env, httpserver: HTTPServer) -> None:
    config, _ = env
    gone = "articles/voa/2024/05/没了-00000000000a.md"
    moved = "articles/voa/2024/05/跳转-00000000000b.md"
    add_article(config, gone, httpserver.url_for("/2024/05/gone.html"), NOW - DAY, "<p>x</p>", "没了")
    add_article(config, moved, httpserver.url_for("/2024/05/moved.html"), NOW - DAY, "<p>y</p>", "跳转")
    httpserver.expect_request("/2024/05/gone.html").respond_with_data("not found", status=404)
    httpserver.expect_request("/2024/05/moved.html").respond_with_data(
        "", status=302, headers={"Location": "/"})
    serve(httpserver, "/", "<html><body><h1>首页</h1></body></html>")
    report = run(config)
    assert sorted(report.removed) == sorted([gone, moved])
    assert (config.archive / gone).exists() and (config.archive / moved).exists()
    removed = (config.archive / REMOVED_LIST).read_text()
    assert f"2024-06-01 [没了](/{gone})" in removed and f"2024-06-01 [跳转](/{moved})" in removed
    assert "0 changed, 2 removed" in git("log", "-1", "--format=%s", cwd=config.archive)
    # Seen again later: still listed with the day it was first seen, not counted again.
    report = run(config, now_ms=NOW + 3 * DAY)
    assert report.removed == []
    assert (config.archive / REMOVED_LIST).read_text() == removed


def test_server_errors_are_not_evidence(env, httpserver: HTTPServer) -> None:
    config, _ = env
    path = "articles/voa/2024/05/标题-0123456789ab.md"
    add_article(config, path, httpserver.url_for("/a/b.html"), NOW - DAY, "<p>x</p>")
    httpserver.expect_request("/a/b.html").respond_with_data("oops", status=500)
    report = run(config)
    assert (report.changed, report.removed) == ([], [])
    assert "HTTP 500" in report.errors[path]
    assert load_states((config.archive / WATCH_FILE).read_bytes())[path].result == "error"


def test_feed_bodies_compare_with_the_page_from_the_second_check(env, httpserver: HTTPServer) -> None:
    config, _ = env
    path = "articles/bbc/2024/05/标题-0123456789ab.md"
    add_article(config, path, httpserver.url_for("/news/x.html"), NOW - DAY, "<p>摘要</p>")
    page = (PAGES / "generic.html").read_text()
    serve(httpserver, "/news/x.html", page)
    assert run(config).changed == []  # the feed's summary is not the page: a baseline only
    httpserver.clear()
    serve(httpserver, "/news/x.html", page.replace("只发下来一半", "已经全部发放"))
    report = run(config, now_ms=NOW + DAY)
    assert report.changed == [path]
    assert "已经全部发放" in (config.archive / path).read_text()
    assert "2024-06-02 [标题]" in (config.archive / CHANGED_LIST).read_text()


def test_budget_rotation_and_since(env, httpserver: HTTPServer) -> None:
    config, _ = env
    for name in "abc":
        add_article(config, f"articles/voa/2024/05/{name}-00000000000{ord(name) - 87:x}.md",
                    httpserver.url_for(f"/p/{name}.html"), NOW - DAY, f"<p>{name}</p>")
        serve(httpserver, f"/p/{name}.html", story([name]))
    add_article(config, "articles/voa/2024/04/old-00000000000f.md",
                httpserver.url_for("/p/old.html"), NOW - 40 * DAY, "<p>old</p>")
    first = run(config, budget=2)
    assert first.checked == 2 and first.candidates == 3
    assert sorted(r.path for r, _ in httpserver.log) == ["/p/a.html", "/p/b.html"]
    second = run(config, budget=2, now_ms=NOW + 1000)
    # The never-checked page first, then the longest unchecked; fetched concurrently.
    assert sorted(r.path for r, _ in httpserver.log[2:]) == ["/p/a.html", "/p/c.html"]
    assert second.checked == 2
    states = load_states((config.archive / WATCH_FILE).read_bytes())
    assert "articles/voa/2024/04/old-00000000000f.md" not in states
    assert {p.split("/")[-1][0] for p, s in states.items() if s.checked_ms == NOW + 1000} == {"a", "c"}


def test_requested_pages_are_watched_and_state_survives_a_clone(env, httpserver: HTTPServer,
                                                               tmp_path: Path) -> None:
    config, remote = env
    page = (PAGES / "generic.html").read_text().replace("2024-02-01T08:00:00", "2024-05-30T08:00:00")
    serve(httpserver, "/2024/05/river.html", page)
    [done] = archive_urls(config, [httpserver.url_for("/2024/05/river.html")], allow_private=True)
    assert run(config).changed == []
    httpserver.clear()
    serve(httpserver, "/2024/05/river.html", page.replace("三百亩地", "两百亩地"))
    elsewhere = tmp_path / "clone"
    elsewhere.mkdir()
    subprocess.run(["git", "clone", "-q", str(remote), str(elsewhere / "archive")], check=True)
    cloned = make_config(elsewhere, remote)
    states = load_states((cloned.archive / WATCH_FILE).read_bytes())
    assert states[done.path].checked_ms == NOW
    report = run(cloned, now_ms=NOW + DAY)
    assert report.changed == [done.path]
    assert "两百亩地" in (cloned.archive / done.path).read_text()


def test_watch_command_refuses_loopback(env, httpserver: HTTPServer, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from newsmirror.cli import app

    config, remote = env
    path = "articles/voa/2024/05/标题-0123456789ab.md"
    add_article(config, path, httpserver.url_for("/a/b.html"), NOW - DAY, "<p>x</p>")
    toml = tmp_path / "newsmirror.toml"
    toml.write_text(f"""
[archive]
path = "archive"
remote = "{remote}"

[[sources]]
slug = "voa"
name = "美国之音"
url = "http://127.0.0.1:9/voa.xml"
""", encoding="utf-8")
    result = CliRunner().invoke(app, ["watch", "-c", str(toml), "--since", "36500", "--budget", "5",
                                      "--no-push"])
    assert result.exit_code == 0, result.output
    assert "checked 1 of 1 recent articles: 0 changed, 0 removed, 1 could not be checked" in result.output
    assert httpserver.log == []
