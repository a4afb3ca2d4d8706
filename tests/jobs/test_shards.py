"""Yearly shards ([archive] rotate = "yearly", archive/shards.py) end to end: real loopback
feeds, real git with bare remotes for the main repository and for each shard, runs across
year boundaries by the clock the pipeline is given (China time decides the year)."""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_httpserver import HTTPServer

from newsmirror.archive.article import parse_article
from newsmirror.archive.paths import CACHE_DIR
from newsmirror.cli.run import print_summary
from newsmirror.jobs.rebuild import rebuild_archive
from newsmirror.jobs.requests import archive_requests
from newsmirror.jobs.watch import watch_archive
from newsmirror.publish import sitesearch as ix
from newsmirror.publish.feeds import FEED_SIZE
from tests.helpers import Mirror, bare_remote, git, site_tree
from tests.jobs.feeds import Item, rss

DEC_31 = 1_798_689_600_000  # 2026-12-31 12:00 China time
JAN_1 = 1_798_765_200_000  # 2027-01-01 09:00 China time (01:00 UTC)
NEXT_JAN_1 = 1_830_301_200_000  # 2028-01-01 09:00 China time
SHARDS = ".newsmirror/cache/shards"


def news(start: int, n: int, at_ms: int) -> list[Item]:
    """Items `start` … `start + n - 1`, one a minute from `at_ms`."""
    return [Item(f"新闻{i}", f"https://news.test/{i}", f"<p>第{i}篇。</p>", guid=f"g{i}",
                 date_ms=at_ms + (i - start) * 60_000) for i in range(start, start + n)]


def edited(items: list[Item], i: int) -> list[Item]:
    return [replace(item, body=item.body + "<p>（更新）</p>") if n == i else item for n, item in enumerate(items)]


class Sharded(Mirror):
    """A Mirror whose archive rotates yearly, with a bare remote ready for each shard."""

    def __init__(self, tmp: Path, server: HTTPServer):
        super().__init__(tmp)
        self.server = server
        self.items: list[Item] = []
        for year in (2027, 2028):
            bare_remote(tmp / f"remote-{year}.git")

    def serve(self, items: list[Item]) -> list[dict]:
        self.items = items
        self.server.clear()
        self.server.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml")
        return [{"slug": "voa", "name": "美国之音", "url": self.server.url_for("/feed.xml")}]

    def go(self, items: list[Item], now_ms: int, **archive):
        return self.run(self.serve(items), now_ms=now_ms, **self.top(**archive))

    def top(self, **archive) -> dict:
        return {"archive": {"path": str(self.archive), "remote": str(self.remote), "rotate": "yearly",
                            **archive}}

    def shard(self, year: int) -> Path:
        return self.archive / SHARDS / str(year)

    def files(self, root: Path) -> list[str]:
        return sorted(p.relative_to(root).as_posix() for p in (root / "articles").rglob("*.md"))

    def index(self) -> dict:
        return json.loads((self.archive / "shards.json").read_text("utf-8"))


def clean(root: Path) -> None:
    """Everything committed, and HEAD what its remote has."""
    assert git("status", "--porcelain", "--untracked-files=all", "--", "articles", cwd=root) == ""
    assert git("rev-parse", "HEAD", cwd=root) == git("rev-parse", "origin/main", cwd=root)


def test_a_new_years_articles_go_to_their_shard_and_the_main_repository_lists_them(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    first = lab.go(news(0, 3, DEC_31), DEC_31)
    assert first.new == 3 and first.shard_commit is None
    assert any("from 2027 on" in note and "remote-2027" in note for note in first.notes)
    assert len(lab.files(lab.archive)) == 3
    assert lab.index() == {"version": 1, "first_year": 2027, "main": {"name": "remote", "articles": 3},
                           "shards": []}
    assert "shards.json" in lab.changed_in(first.commit)

    second = lab.go(lab.items + news(3, 2, JAN_1), JAN_1)
    assert (second.new, second.updated) == (2, 0), second.outcomes
    assert second.push is not None and second.push.ok, second.push
    # The main repository keeps what it has and takes no new article file.
    assert len(lab.files(lab.archive)) == 3
    shard = lab.shard(2027)
    assert len(lab.files(shard)) == 2
    assert all(parse_article((shard / p).read_bytes()).title in ("新闻3", "新闻4") for p in lab.files(shard))
    # Committed and pushed, the shard before the main repository, each to its own remote.
    assert git("rev-parse", "main", cwd=tmp_path / "remote-2027.git") == second.shard_commit
    assert git("rev-parse", "main", cwd=lab.remote) == lab.commits()[0]
    clean(shard)
    clean(lab.archive)
    assert not any(f.startswith("articles/") for f in lab.changed_in(second.commit))
    # Lists, README and feeds span both; without a web address for the shard (a local
    # remote) its lines name it rather than link where no relative link can reach.
    listing = (lab.archive / "lists/voa.md").read_text("utf-8")
    assert listing.count("\n1-1 新闻") == 2 and "新闻4（分卷 2027）" in listing
    assert listing.count("](/articles/voa/") == 3
    readme = (lab.archive / "README.md").read_text("utf-8")
    assert "| remote-2027 | 2027 | 2 |" in readme and "| 5 |" in readme
    assert lab.index()["shards"] == [{"name": "remote-2027", "year": 2027, "articles": 2, "web": None}]
    assert lab.index()["main"]["articles"] == 3
    assert (lab.archive / "feeds/all.xml").read_text("utf-8").count("<entry>") == 5

    # A fresh clone of the main repository (a new runner) finds the shard again.
    again = tmp_path / "again"
    git("clone", "-q", str(lab.remote), str(again), cwd=tmp_path)
    lab.archive = again
    third = lab.go(lab.items, JAN_1 + 3_600_000)
    assert (third.new, third.updated, third.commit) == (0, 0, None), third.outcomes
    assert any("cloned remote-2027" in note for note in third.notes)
    assert len(lab.files(lab.shard(2027))) == 2


def test_a_closed_shard_is_never_written_again(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 2, DEC_31), DEC_31)
    lab.go(lab.items + news(2, 2, JAN_1), JAN_1)
    closed = lab.shard(2027)
    head = git("rev-parse", "HEAD", cwd=closed)
    before = {p: (closed / p).read_bytes() for p in lab.files(closed)}

    # A year on: an article of the closed shard is edited at the source, and one is new.
    report = lab.go(edited(lab.items, 3) + news(4, 1, NEXT_JAN_1), NEXT_JAN_1)
    assert (report.new, report.updated) == (1, 0), report.outcomes
    assert any("left 1 update of articles in closed shards" in note and "(shard 2027)" in note
               for note in report.notes), report.notes
    assert git("rev-parse", "HEAD", cwd=closed) == head
    assert git("rev-parse", "main", cwd=tmp_path / "remote-2027.git") == head
    assert {p: (closed / p).read_bytes() for p in lab.files(closed)} == before
    assert len(lab.files(lab.shard(2028))) == 1
    clean(lab.shard(2028))
    assert [s["year"] for s in lab.index()["shards"]] == [2027, 2028]
    # The edit is remembered: the next hour neither notes it again nor commits anything.
    quiet = lab.go(lab.items, NEXT_JAN_1 + 3_600_000)
    assert quiet.commit is None and not any("closed shards" in note for note in quiet.notes)

    # A run needs no clone of a closed shard the catalog knows: it neither clones it again
    # nor loses its articles from the lists.
    shutil.rmtree(closed)
    later = lab.go(lab.items, NEXT_JAN_1 + 5_400_000)
    assert later.commit is None and not any("cloned" in note for note in later.notes), later.notes
    assert not closed.exists()

    # Without rotation again every shard is closed and new articles go to the main repository.
    back = lab.go(lab.items + news(5, 1, NEXT_JAN_1 + 7_200_000), NEXT_JAN_1 + 7_200_000, rotate="none")
    assert back.new == 1 and back.shard_commit is None
    assert len(lab.files(lab.archive)) == 3 and len(lab.files(lab.shard(2028))) == 1


def test_a_failed_shard_push_holds_the_main_repository_back_until_a_push_repairs_both(tmp_path, httpserver):
    """The open shard's remote refuses the push (read-only): the main repository is not
    pushed either, so no list on any copy links to a file the shard's host lacks; the
    run fails as a failed primary push does, and the next push sends both, in order."""
    from tests.publish.test_mirrors import make_writable, read_only

    lab = Sharded(tmp_path, httpserver)
    for name in ("backup.git", "backup-2027.git"):
        bare_remote(tmp_path / name)
    top = {"mirrors": [{"name": "backup", "url": str(tmp_path / "backup.git"), "retry_delay": 0}]}
    lab.go(news(0, 1, DEC_31), DEC_31, **top)
    shard_remote = tmp_path / "remote-2027.git"
    shutil.rmtree(shard_remote)
    read_only(shard_remote)
    pushed = git("rev-parse", "main", cwd=lab.remote)
    report = lab.go(lab.items + news(1, 1, JAN_1), JAN_1, **top)
    assert report.new == 1 and report.push is not None and not report.push.ok
    assert "shard remote-2027" in report.push.message and "not pushed" in report.push.message
    # Neither the primary nor the mirror got lists naming the article the shard's host lacks.
    assert git("rev-parse", "main", cwd=lab.remote) == pushed
    assert git("rev-parse", "main", cwd=tmp_path / "backup.git") == pushed
    assert "新闻1" not in git("show", "main:lists/voa.md", cwd=lab.remote)
    assert "新闻1（分卷 2027）" in (lab.archive / "lists/voa.md").read_text("utf-8")

    make_writable(shard_remote)
    retry = lab.go(lab.items, JAN_1 + 3_600_000, **top)
    assert retry.push is not None and retry.push.ok, retry.push
    clean(lab.shard(2027))
    clean(lab.archive)
    assert "新闻1（分卷 2027）" in git("show", "main:lists/voa.md", cwd=lab.remote)
    assert git("rev-parse", "main", cwd=tmp_path / "backup.git") == git("rev-parse", "main", cwd=lab.remote)


@pytest.mark.parametrize("kept", [True, False], ids=["cache-kept-the-clone", "cache-without-the-clone"])
def test_a_fresh_runner_after_a_failed_shard_push_repairs_it(tmp_path, httpserver, kept):
    """The workflow's runner is gone with the commits of the run whose shard push failed.
    When its cache kept the open shard's clone (as the generated workflow's does), the next
    run, on a fresh checkout with that cache, pushes the clone's commits and lists them
    again; when the cache has the catalog but no clone, the run clones the shard without
    those articles, asks for the feed in full (its ETag belongs to the lost articles) and
    archives and pushes them again."""
    from tests.publish.test_mirrors import read_only

    lab = Sharded(tmp_path, httpserver)

    def serve_tagged(items: list[Item]) -> list[dict]:
        sources = lab.serve(items)
        tag = f'"v{len(items)}"'
        lab.server.clear()
        lab.server.expect_request("/feed.xml", headers={"If-None-Match": tag}).respond_with_data("", status=304)
        lab.server.expect_request("/feed.xml").respond_with_data(rss(items), content_type="application/rss+xml",
                                                                 headers={"ETag": tag})
        return sources

    lab.run(serve_tagged(news(0, 1, DEC_31)), now_ms=DEC_31, **lab.top())
    shard_remote = tmp_path / "remote-2027.git"
    shutil.rmtree(shard_remote)
    read_only(shard_remote)
    failed = lab.run(serve_tagged(lab.items + news(1, 1, JAN_1)), now_ms=JAN_1, **lab.top())
    assert failed.new == 1 and failed.push is not None and not failed.push.ok

    # A new runner: a fresh clone of the main repository, the cache without the shards.
    runner = tmp_path / "runner"
    git("clone", "-q", "--depth", "1", f"file://{lab.remote}", str(runner), cwd=tmp_path)
    shutil.copytree(lab.archive / ".newsmirror/cache", runner / ".newsmirror/cache",
                    ignore=lambda folder, names: ["shards"] if Path(folder).name == "cache" and not kept else [])
    shutil.rmtree(shard_remote)
    bare_remote(shard_remote)  # the operator created the repository meanwhile
    lab.archive = runner
    again = lab.run(serve_tagged(lab.items), now_ms=JAN_1 + 3_600_000, **lab.top())
    assert any("fetching these sources in full again: voa" in note for note in again.notes) != kept, again.notes
    assert again.new == (0 if kept else 1) and again.push is not None and again.push.ok, (again.outcomes, again.push)
    clean(lab.shard(2027))
    clean(runner)
    assert len(git("ls-tree", "-r", "--name-only", "main", "articles", cwd=shard_remote).split()) == 1
    assert "新闻1（分卷 2027）" in git("show", "main:lists/voa.md", cwd=lab.remote)


RUNNER = """
import asyncio, json, sys
from newsmirror.config import parse_config
from newsmirror.jobs.mirror import run_mirror
data, base, now = json.loads(sys.argv[1]), sys.argv[2], int(sys.argv[3])
from pathlib import Path
asyncio.run(run_mirror(parse_config(data, file="t.toml", base=Path(base)), now_ms=now))
"""


def test_a_run_killed_in_the_new_year_is_repaired_by_the_next(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 2, DEC_31), DEC_31)
    for point in ("article-written#2", "shard-committed", "shard-pushed"):
        lab.items = lab.items + news(len(lab.items), 3, JAN_1)
        sources = lab.serve(lab.items)
        data = {**lab.top(), "sources": sources, "fetch": {"timeout": 5, "connect_timeout": 2}}
        stop = tmp_path / "stopped"
        stop.unlink(missing_ok=True)
        proc = subprocess.Popen([sys.executable, "-c", RUNNER, json.dumps(data), str(tmp_path), str(JAN_1)],
                                env={**os.environ, "NEWSMIRROR_STOP_AT": point, "NEWSMIRROR_STOP_FILE": str(stop)},
                                start_new_session=True, stderr=subprocess.PIPE)
        while not stop.exists():  # the run stops itself at the point; no timing involved
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        report = lab.go(lab.items, JAN_1 + 60_000)
        assert report.push is None or report.push.ok, report.push
        shard = lab.shard(2027)
        clean(shard)
        clean(lab.archive)
        assert len(lab.files(shard)) == len(lab.items) - 2, point
        assert len(lab.files(lab.archive)) == 2
        assert git("fsck", "--strict", "--no-dangling", cwd=shard) == ""
        listing = (lab.archive / "lists/voa.md").read_text("utf-8")
        assert listing.count("（分卷 2027）") == len(lab.items) - 2, point
        # Nothing left to do.
        assert lab.go(lab.items, JAN_1 + 120_000).commit is None, point


def test_a_shard_is_a_mirror_set_of_its_own_and_the_site_spans_every_shard(tmp_path, httpserver):
    from newsmirror.archive.shards import open_shards
    from newsmirror.archive.store import open_store
    from newsmirror.publish.site import build_site

    lab = Sharded(tmp_path, httpserver)
    for name in ("backup.git", "backup-2027.git"):
        bare_remote(tmp_path / name)
    mirrors = [{"name": "backup", "url": str(tmp_path / "backup.git"), "retry_delay": 0}]
    lab.go(news(0, 2, DEC_31), DEC_31, mirrors=mirrors)
    report = lab.go(lab.items + news(2, 2, JAN_1), JAN_1, mirrors=mirrors)
    assert report.push is not None and report.push.ok
    shard_head = git("rev-parse", "HEAD", cwd=lab.shard(2027))
    assert git("rev-parse", "main", cwd=tmp_path / "backup-2027.git") == shard_head
    assert git("rev-parse", "main", cwd=tmp_path / "backup.git") == lab.commits()[0]
    assert {m.name for m in report.mirrors if m.ok} == {"backup", "backup-2027"}, report.mirrors

    # The reading site built from the main repository holds every shard's articles, read
    # from the shard clones; on a fresh clone they are cloned first.
    fresh = tmp_path / "fresh"
    git("clone", "-q", str(lab.remote), str(fresh), cwd=tmp_path)
    config = lab.config(lab.serve(lab.items), **lab.top(path=str(fresh)))
    with open_store(fresh, writes=False) as store:
        shards = open_shards(config, store, JAN_1, start=False, files=True)
        assert shards is not None and list(shards.repos) == ["2027"]
        # Each repository's files read once, which `rebuild` then counts on.
        assert store.catalog.rebuilt == {"": 2, "2027": 2}
        site = build_site(config, store, tmp_path / "site")
    assert site.articles == 4 and not site.failed, site.failed
    pages = sorted(p.name for p in (tmp_path / "site/articles").rglob("*.html"))
    assert len(pages) == 4


def test_the_site_built_hour_by_hour_across_a_new_shard_is_the_full_build(tmp_path, httpserver):
    """A site built before the new year, then again into the same folder once the new
    year's articles went to their shard and an old one was edited: each page is read
    from the repository holding it, and the site is the one a full build makes (search
    ids aside, which new articles never move)."""
    from newsmirror.archive.shards import open_shards
    from newsmirror.archive.store import open_store
    from newsmirror.publish.site import build_site

    lab = Sharded(tmp_path, httpserver)

    def build(out: Path, now_ms: int):
        config = lab.config(lab.serve(lab.items), **lab.top())
        with open_store(lab.archive, writes=False) as store:
            open_shards(config, store, now_ms, start=False, files=True)
            return build_site(config, store, out)

    lab.go(news(0, 3, DEC_31), DEC_31)
    assert build(tmp_path / "site", DEC_31).articles == 3
    lab.go(edited(lab.items, 1) + news(3, 2, JAN_1), JAN_1)
    assert len(lab.files(lab.shard(2027))) == 2
    hour = build(tmp_path / "site", JAN_1)
    assert not hour.failed and not hour.full_index, hour.failed
    assert sum(p.startswith("articles/") for p in hour.written) == 3  # two new, one edited
    build(tmp_path / "fresh", JAN_1)
    assert site_tree(tmp_path / "site") == site_tree(tmp_path / "fresh")


def test_rotate_none_leaves_the_archive_as_it_was(tmp_path, httpserver):
    trees = []
    for name, rotate in (("plain", {}), ("none", {"rotate": "none"})):
        (tmp_path / name).mkdir()
        lab = Sharded(tmp_path / name, httpserver)
        top = {"archive": {"path": str(lab.archive), "remote": str(lab.remote), **rotate}}
        lab.run(lab.serve(news(0, 3, DEC_31)), now_ms=DEC_31, **top)
        lab.run(lab.serve(lab.items + news(3, 2, JAN_1)), now_ms=JAN_1, **top)
        trees.append(git("rev-parse", "HEAD^{tree}", cwd=lab.archive))
        assert not (lab.archive / "shards.json").exists() and not (lab.archive / SHARDS).exists()
        assert len(lab.files(lab.archive)) == 5
        assert "分卷" not in (lab.archive / "README.md").read_text("utf-8")
    assert trees[0] == trees[1]


def test_a_checkouts_origin_names_the_shards_when_the_configuration_names_no_remote(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    git("clone", "-q", str(lab.remote), str(lab.archive), cwd=tmp_path)  # as the workflow's checkout
    top = {"archive": {"path": str(lab.archive), "rotate": "yearly"}}
    lab.run(lab.serve(news(0, 1, DEC_31)), now_ms=DEC_31, **top)
    report = lab.run(lab.serve(lab.items + news(1, 1, JAN_1)), now_ms=JAN_1, **top)
    assert report.push is not None and report.push.ok, report.push
    assert git("rev-parse", "main", cwd=tmp_path / "remote-2027.git") == report.shard_commit
    assert lab.index()["shards"][0]["name"] == "remote-2027"


def test_the_run_summary_names_the_shard_commit(tmp_path, httpserver, capsys):
    """A reader of the run's log learns where the hour's articles went."""
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 1, DEC_31), DEC_31)
    report = lab.go(lab.items + news(1, 1, JAN_1), JAN_1)
    print_summary(report)
    total = capsys.readouterr().out
    assert f"; committed {report.commit[:10]} (the articles: {report.shard_commit[:10]} in remote-2027)" \
        in total, total


def test_articles_another_run_pushed_to_the_shard_are_taken_in_and_listed(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 1, DEC_31), DEC_31)
    lab.go(lab.items + news(1, 1, JAN_1), JAN_1)
    # Another runner's article reached the shard's remote (its lists never did).
    other = tmp_path / "other"
    git("clone", "-q", str(tmp_path / "remote-2027.git"), str(other), cwd=tmp_path)
    [mine] = lab.files(lab.shard(2027))
    theirs = mine.replace("新闻1-", "别人的新闻-").rsplit("-", 1)[0] + "-aaaaaaaaaaaa.md"
    data = (lab.shard(2027) / mine).read_bytes().replace("新闻1".encode(), "别人的新闻".encode())
    (other / theirs).write_bytes(data)
    git("add", "-A", cwd=other)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "theirs", cwd=other)
    git("push", "-q", "origin", "HEAD:main", cwd=other)

    report = lab.go(lab.items + news(2, 1, JAN_1 + 3_600_000), JAN_1 + 3_600_000)
    assert report.new == 1 and report.push is not None and report.push.ok, report.push
    assert len(lab.files(lab.shard(2027))) == 3
    clean(lab.shard(2027))
    clean(lab.archive)
    assert "别人的新闻（分卷 2027）" in (lab.archive / "lists/voa.md").read_text("utf-8")
    assert lab.index()["shards"][0]["articles"] == 3



def pages(lab: Sharded, start: int, n: int, at_ms: int) -> list[Item]:
    """Like `news`, but each item's page is on the loopback server (`serve_pages`)."""
    return [replace(item, link=lab.server.url_for(f"/page/{i}"))
            for i, item in zip(range(start, start + n), news(start, n, at_ms))]


def watch(lab: Sharded, now_ms: int, version: str):
    """A watch run over every article, each item's page now saying `version`."""
    sources = [{**source, "selector": "div.story"} for source in lab.serve(lab.items)]
    for item in lab.items:
        page = f'<html><body><div class="story"><p>{item.title}：{version}</p></div></body></html>'
        lab.server.expect_request(urlsplit(item.link).path).respond_with_data(
            page, content_type="text/html; charset=utf-8")
    return asyncio.run(watch_archive(lab.config(sources, **lab.top()), since_days=800, allow_private=True,
                                     now_ms=now_ms))


def test_watch_checks_the_articles_a_shard_holds(tmp_path, httpserver):
    """watch reads each candidate's archived text from the repository holding it: a
    sharded archive's recent articles are nearly all in the open shard."""
    lab = Sharded(tmp_path, httpserver)
    lab.go(pages(lab, 0, 1, DEC_31), DEC_31)
    lab.go(lab.items + pages(lab, 1, 1, JAN_1), JAN_1)
    assert len(lab.files(lab.shard(2027))) == 1
    report = watch(lab, JAN_1 + 3_600_000, "第一版")
    assert report.candidates == 2
    assert report.checked == 2 and not report.errors, report.errors


def test_watch_rewrites_an_open_shards_article_in_its_shard_and_leaves_a_closed_one(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    lab.go(pages(lab, 0, 1, DEC_31), DEC_31)
    lab.go(lab.items + pages(lab, 1, 1, JAN_1), JAN_1)
    lab.go(lab.items + pages(lab, 2, 1, NEXT_JAN_1), NEXT_JAN_1)
    [main], [closed], [open_] = (lab.files(root) for root in (lab.archive, lab.shard(2027), lab.shard(2028)))
    closed_head = git("rev-parse", "HEAD", cwd=lab.shard(2027))
    first = watch(lab, NEXT_JAN_1 + 3_600_000, "第一版")  # feed bodies: the pages' text is recorded
    assert (first.checked, first.changed, first.errors) == (3, [], {}), first

    report = watch(lab, NEXT_JAN_1 + 7_200_000, "第二版")
    assert sorted(report.changed) == sorted([main, closed, open_]) and not report.errors, report
    assert report.push is not None and report.push.ok, report.push
    # The open shard's article is rewritten in the shard, committed and pushed to its remote.
    assert "第二版" in git("show", f"main:{open_}", cwd=tmp_path / "remote-2028.git")
    assert not (lab.archive / open_).exists()
    clean(lab.shard(2028))
    assert "第二版" in git("show", f"main:{main}", cwd=lab.remote)
    # The closed one is never written again: named in the notes, listed as changed.
    assert git("rev-parse", "HEAD", cwd=lab.shard(2027)) == closed_head
    assert git("rev-parse", "main", cwd=tmp_path / "remote-2027.git") == closed_head
    assert "第二版" not in (lab.shard(2027) / closed).read_text("utf-8")
    assert any("closed shards" in note and f"{closed} (shard 2027)" in note for note in report.notes), report.notes
    changed = git("show", "main:lists/changed.md", cwd=lab.remote)
    assert "新闻1（分卷 2027）" in changed and "新闻2（分卷 2028）" in changed and "](/articles/voa/" in changed
    # The catalog follows the rewrite: the next mirror hour writes no article again.
    after = lab.go(lab.items, NEXT_JAN_1 + 10_800_000)
    assert (after.new, after.updated, after.shard_commit) == (0, 0, None), after.outcomes
    assert not any(f.startswith("articles/") for f in lab.changed_in(after.commit or "HEAD"))


def test_rebuild_on_a_fresh_clone_keeps_the_shards_articles_in_the_lists(tmp_path, httpserver):
    """`rebuild` makes the lists, README and feeds again from the article files: those of
    every shard too, else a clone without the local cache lists only the main repository's."""
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 2, DEC_31), DEC_31)
    lab.go(lab.items + news(2, 3, JAN_1), JAN_1)
    again = tmp_path / "again"
    git("clone", "-q", str(lab.remote), str(again), cwd=tmp_path)
    lab.archive = again
    report = rebuild_archive(lab.config(lab.serve(lab.items), **lab.top()))
    assert report.articles == 5
    assert report.rewritten == []
    assert (again / "lists/voa.md").read_text("utf-8").count("（分卷 2027）") == 3
    assert git("status", "--porcelain", cwd=again) == ""


def test_a_request_run_rebased_onto_an_update_keeps_the_shards_articles_listed(tmp_path, httpserver):
    """A request run (its workflow keeps no local cache: the catalog is rebuilt from the
    main repository's files) whose push rebased onto a mirror run's update of a main
    article regenerates that source's list: with the shards' entries too."""
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 2, DEC_31), DEC_31)
    lab.go(lab.items + news(2, 2, JAN_1), JAN_1)
    runner = tmp_path / "runner"
    git("clone", "-q", str(lab.remote), str(runner), cwd=tmp_path)
    update = lab.go(edited(lab.items, 0), JAN_1 + 3_600_000)  # the article is in the main repository
    assert update.updated == 1 and update.push is not None and update.push.ok
    page = (Path(__file__).resolve().parents[1] / "content" / "pages" / "generic.html").read_bytes()
    lab.archive = runner
    config = lab.config(lab.serve(lab.items), **lab.top())
    httpserver.expect_request("/page.html").respond_with_data(page, content_type="text/html; charset=utf-8")
    report = asyncio.run(archive_requests(config, [httpserver.url_for("/page.html")], allow_private=True,
                                          now_ms=JAN_1 + 7_200_000))
    assert report.push is not None and report.push.ok, report.push
    listing = git("show", "main:lists/voa.md", cwd=lab.remote)
    assert listing.count("（分卷 2027）") == 2, listing
    index = json.loads(git("show", "main:shards.json", cwd=lab.remote))
    assert index["shards"][0]["articles"] == 2


def test_a_page_requested_into_a_sharded_archive_goes_to_the_open_shard(tmp_path, httpserver):
    """A page archived on request is a new article: in a sharded archive it goes to the open
    shard, and the reply links each file in the repository that holds it."""
    from newsmirror.cli.archive import blob_url, render_comment

    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 1, DEC_31), DEC_31)
    lab.go(lab.items + news(1, 1, JAN_1), JAN_1)
    page = (Path(__file__).resolve().parents[1] / "content" / "pages" / "generic.html").read_bytes()
    config = lab.config(lab.serve(lab.items), **lab.top())
    httpserver.expect_request("/page.html").respond_with_data(page, content_type="text/html; charset=utf-8")
    asked = [httpserver.url_for("/page.html"), "https://news.test/0", "https://news.test/1"]
    report = asyncio.run(archive_requests(config, asked, allow_private=True, now_ms=JAN_1 + 3_600_000))
    assert report.push is not None and report.push.ok, report.push
    archived, main_article, shard_article = report.outcomes
    assert (archived.status, archived.shard) == ("archived", "2027"), archived
    assert (main_article.status, main_article.shard) == ("existing", ""), main_article
    assert (shard_article.status, shard_article.shard) == ("existing", "2027"), shard_article
    assert archived.path and archived.path.startswith("requests/")
    assert not (lab.archive / archived.path).exists()
    assert "<!--" in git("show", f"main:{archived.path}", cwd=tmp_path / "remote-2027.git")
    clean(lab.shard(2027))
    assert "（分卷 2027）" in git("show", "main:lists/requests.md", cwd=lab.remote)

    reply = render_comment(report.outcomes, full_name="owner/remote", branch="main")
    assert f"({blob_url('owner/remote-2027', 'main', archived.path)})" in reply
    assert f"({blob_url('owner/remote', 'main', main_article.path or '')})" in reply
    assert f"({blob_url('owner/remote-2027', 'main', shard_article.path or '')})" in reply

    # A request run on a fresh checkout (its workflow keeps no cache) finds the page in the shard.
    runner = tmp_path / "runner"
    git("clone", "-q", "--depth", "1", f"file://{lab.remote}", str(runner), cwd=tmp_path)
    lab.archive = runner
    again = asyncio.run(archive_requests(lab.config(lab.serve(lab.items), **lab.top()), asked[:1],
                                         allow_private=True, now_ms=JAN_1 + 7_200_000))
    assert [(o.status, o.shard, o.path) for o in again.outcomes] == [("existing", "2027", archived.path)]
    assert again.commit is None


def test_the_images_of_a_shards_article_are_stored_in_that_shard(tmp_path, httpserver):
    """download_images links an article to its images relatively, which reaches only files
    of its own repository: a shard's article has its images in the shard, not in the main
    repository's assets/ (an image the main repository has already is stored again)."""
    from tests.archive.test_assets import PNG

    lab = Sharded(tmp_path, httpserver)

    def go(items: list[Item], now_ms: int):
        sources = [{**source, "download_images": True} for source in lab.serve(items)]
        for name in ("a", "b"):
            httpserver.expect_request(f"/{name}.png").respond_with_data(PNG + name.encode(), content_type="image/png")
        return lab.run(sources, now_ms=now_ms, **lab.top())

    def image(name: str) -> str:
        return f'<p>图</p><img src="{httpserver.url_for(f"/{name}.png")}">'

    go([replace(news(0, 1, DEC_31)[0], body=image("a"))], DEC_31)
    main_assets = sorted(p.relative_to(lab.archive).as_posix() for p in (lab.archive / "assets").rglob("*.png"))
    assert len(main_assets) == 1
    report = go(lab.items + [replace(news(1, 1, JAN_1)[0], body=image("a") + image("b"))], JAN_1)
    assert report.push is not None and report.push.ok, report.push
    shard = lab.shard(2027)
    assert sorted(p.relative_to(lab.archive).as_posix() for p in (lab.archive / "assets").rglob("*.png")) == main_assets
    [article] = lab.files(shard)
    links = re.findall(r'src="([^"]+)"', (shard / article).read_text("utf-8"))
    assert len(links) == 2 and all(link.startswith("../") for link in links), links
    for link in links:  # each relative link reaches a file of the shard, committed and pushed
        held = posixpath.normpath(posixpath.join(posixpath.dirname(article), link))
        assert held.startswith("assets/voa/") and (shard / held).is_file(), held
        git("cat-file", "-e", f"main:{held}", cwd=tmp_path / "remote-2027.git")
    clean(shard)
    assert not any(f.startswith("assets/") for f in lab.changed_in(report.commit or "HEAD"))

    # Each site shows the images of the repository it publishes, beside its pages.
    newsmirror_site(write_toml(lab, []), tmp_path / "site")
    for folder, images in (("site", 1), ("site-2027", 2)):
        tree = site_tree(tmp_path / folder)
        assert len([p for p in tree if p.startswith("assets/")]) == images, folder
        [page] = [p for p in tree if p.startswith("articles/") and b"<img" in tree[p]]
        shown = re.findall(r'<img[^>]* src="([^"]+)"', tree[page].decode("utf-8"))
        assert len(shown) == images, (folder, shown)
        for link in shown:
            assert posixpath.normpath(posixpath.join(posixpath.dirname(page), link)) in tree, (folder, link)


def test_the_shard_token_goes_to_the_shards_https_remote_only(tmp_path, httpserver, monkeypatch):
    """NEWSMIRROR_SHARD_TOKEN is sent (basic authentication, as x-access-token) to the
    open shard's https primary remote, which refuses a push without it as GitHub refuses
    the workflow's own token there; never to the main repository's remote, never written
    into the clone's configuration. Without it the shard's push fails, and says so."""
    from newsmirror.archive.shards import SHARD_TOKEN_ENV
    from tests.githttp import GitHost

    token = "github_pat_test-0123456789"
    hosted = tmp_path / "host"
    hosted.mkdir()
    for name in ("news.git", "news-2027.git"):
        bare_remote(hosted / name)
    with GitHost(hosted, locked=r"-\d{4}\.git$", credentials=("x-access-token", token)) as host:
        monkeypatch.setenv("GIT_SSL_CAINFO", str(host.ca))
        monkeypatch.setenv(SHARD_TOKEN_ENV, token)
        lab = Sharded(tmp_path, httpserver)
        top = {"archive": {"path": str(lab.archive), "remote": host.url("news.git"), "rotate": "yearly"}}
        lab.run(lab.serve(news(0, 1, DEC_31)), now_ms=DEC_31, **top)
        report = lab.run(lab.serve(lab.items + news(1, 1, JAN_1)), now_ms=JAN_1, **top)
        assert report.push is not None and report.push.ok, report.push
        assert git("rev-parse", "main", cwd=hosted / "news-2027.git") == report.shard_commit
        assert {auth for repo, auth in host.seen if repo == "news.git"} == {None}
        assert any(auth for repo, auth in host.seen if repo == "news-2027.git")
        assert token not in (lab.shard(2027) / ".git" / "config").read_text("utf-8")

        monkeypatch.delenv(SHARD_TOKEN_ENV)
        refused = lab.run(lab.serve(lab.items + news(2, 1, JAN_1 + 3_600_000)), now_ms=JAN_1 + 3_600_000, **top)
        assert refused.push is not None and not refused.push.ok
        assert "shard news-2027" in refused.push.message and token not in refused.push.message



def test_the_shard_token_is_never_sent_to_the_host_a_shard_was_moved_to(tmp_path, httpserver, monkeypatch):
    """A shard remote that answers with a redirect to another host (a repository moved or
    renamed away, or a hostile answer): git follows it, but the token header given for the
    shard's own address never reaches the other host. The push fails there, and says so."""
    from newsmirror.archive.shards import SHARD_TOKEN_ENV
    from tests.githttp import GitHost

    token = "github_pat_test-0123456789"
    hosted, away = tmp_path / "host", tmp_path / "away"
    for folder, name in ((hosted, "news.git"), (away, "news-2027.git")):
        folder.mkdir()
        bare_remote(folder / name)
    with GitHost(away, locked=r"-\d{4}\.git$", credentials=("x-access-token", token)) as other:
        with GitHost(hosted, locked=r"(?!)", credentials=("x-access-token", token),
                     moved=r"-\d{4}\.git$", moved_to=other.url("").rstrip("/")) as host:
            bundle = tmp_path / "ca.pem"
            bundle.write_bytes(host.ca.read_bytes() + other.ca.read_bytes())
            monkeypatch.setenv("GIT_SSL_CAINFO", str(bundle))
            monkeypatch.setenv("GIT_TERMINAL_PROMPT", "0")
            monkeypatch.setenv(SHARD_TOKEN_ENV, token)
            lab = Sharded(tmp_path, httpserver)
            top = {"archive": {"path": str(lab.archive), "remote": host.url("news.git"), "rotate": "yearly"}}
            lab.run(lab.serve(news(0, 1, DEC_31)), now_ms=DEC_31, **top)
            report = lab.run(lab.serve(lab.items + news(1, 1, JAN_1)), now_ms=JAN_1, **top)
    assert any(repo == "news-2027.git" and auth for repo, auth in host.seen)  # it went to the shard's address
    assert other.seen and {auth for _, auth in other.seen} == {None}  # and was never sent on
    assert report.push is not None and not report.push.ok
    assert "shard news-2027" in report.push.message and token not in report.push.message
    assert git("for-each-ref", cwd=away / "news-2027.git") == ""  # nothing was pushed there

# -- each shard's site ---------------------------------------------------------------------
SITE = "https://news.test/mirror/"
SHARD_SITE = "https://news.test/mirror-2027/"
BACKUP_WEB = "https://codeberg.org/me/news"


def write_toml(lab: Sharded, mirrors: list[dict]) -> Path:
    """The configuration file `newsmirror site` reads: the lab's archive, its remote, yearly
    shards, the site's address and `mirrors`."""
    lines = ["[archive]", f"path = {json.dumps(str(lab.archive))}", f"remote = {json.dumps(str(lab.remote))}",
             'rotate = "yearly"']
    for mirror in mirrors:
        lines += ["[[archive.mirrors]]", *(f"{key} = {json.dumps(value)}" for key, value in mirror.items())]
    lines += ["[site]", f"url = {json.dumps(SITE)}", "[fetch]", "timeout = 5", "connect_timeout = 2",
              "[[sources]]", 'slug = "voa"', 'name = "美国之音"',
              f"url = {json.dumps(lab.server.url_for('/feed.xml'))}"]
    file = lab.tmp / "newsmirror.toml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return file


def newsmirror_site(file: Path, out: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "newsmirror", "site", "-c", str(file), "-o", str(out), *flags],
                          cwd=file.parent, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def links(text: str, base: str) -> set[str]:
    """The site paths of every address under `base` in `text` (pages, feeds, search records)."""
    from urllib.parse import unquote

    return {unquote(m.group(1)) for m in re.finditer(re.escape(base) + r"([^\"'<>\s\\]+)", text)}


def relative_links(tree: dict[str, bytes]) -> set[str]:
    """The site path of every relative href of the site's pages, resolved from each page."""
    found = set()
    for path, data in tree.items():
        if path.endswith(".html"):
            for href in re.findall(r'href="([^"#?]+)"', data.decode("utf-8")):
                if "://" not in href:
                    found.add(posixpath.normpath(posixpath.join(posixpath.dirname(path), href)))
    return found


def test_a_shards_articles_are_published_on_the_shards_own_site(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    for name in ("backup.git", "backup-2027.git"):
        bare_remote(tmp_path / name)
    mirrors = [{"name": "backup", "url": str(tmp_path / "backup.git"), "web": BACKUP_WEB, "retry_delay": 0}]
    lab.go(news(0, 3, DEC_31), DEC_31, mirrors=mirrors)
    lab.go(lab.items + news(3, 2, JAN_1), JAN_1, mirrors=mirrors)
    file = write_toml(lab, mirrors)
    done = newsmirror_site(file, tmp_path / "site", "--publish")
    assert "published the site of shard 2027" in done.stdout, done.stdout

    main, shard = site_tree(tmp_path / "site"), site_tree(tmp_path / "site-2027")
    main_pages = {p for p in main if p.startswith("articles/")}
    shard_pages = {p for p in shard if p.startswith("articles/")}
    assert len(main_pages) == 3 and len(shard_pages) == 2, (main_pages, shard_pages)
    assert all("/2027/01/" in p for p in shard_pages)
    assert not any(p.startswith(("sources/", "feeds/")) for p in shard)
    # The branch `site` of each repository, on its remotes: the shard's on the shard's.
    for remote in (lab.remote, tmp_path / "backup.git"):
        assert git("ls-tree", "-r", "--name-only", "site", cwd=remote).split() == sorted(main)
    for remote in (tmp_path / "remote-2027.git", tmp_path / "backup-2027.git"):
        assert git("ls-tree", "-r", "--name-only", "site", cwd=remote).split() == sorted(shard)

    # Every link of the main site's lists, home page, feeds and search records to a
    # shard's article leads to a page of the shard's site; the relative ones stay inside.
    text = "\n".join(data.decode("utf-8") for data in main.values())
    away = links(text, SHARD_SITE)
    assert away == shard_pages, away
    for page in ("index.html", "sources/voa/index.html", "sources/voa/1.html", "feeds/all.xml", "feeds/voa.xml"):
        assert links(main[page].decode("utf-8"), SHARD_SITE) == shard_pages, page
    # Search: each site indexes the articles it shows, and the main site's index names the
    # shard's site, whose files search.js loads beside its own.
    def records(tree: dict[str, bytes]) -> dict:
        found: dict = {}
        for path in tree:
            if path.startswith("search/docs/"):
                found.update(ix.read_script_file(tree[path]))
        return found

    assert {doc[1] for doc in records(main).values()} == main_pages
    assert {doc[1] for doc in records(shard).values()} == shard_pages
    assert ix.read_script_file(main["search/meta.js"])["parts"] == [{"year": "2027", "url": SHARD_SITE}]
    assert shard["search/meta.js"].startswith(b'newsmirrorSearch("2027:meta",')
    assert {p for p in relative_links(main) if p.startswith("articles/")} == main_pages
    assert relative_links(main) - {"."} <= set(main), relative_links(main) - set(main)
    # The shard's pages lead back to the main site and list the other copies.
    back = {p.partition("#")[0] for p in links("\n".join(data.decode("utf-8") for data in shard.values()), SITE)}
    assert {"index.html", "search.html", "sources/voa/index.html"} <= back and back <= set(main), back
    assert relative_links(shard) - {"."} <= set(shard)
    for path in shard_pages | {"index.html"}:
        assert BACKUP_WEB in shard[path].decode("utf-8"), path
    assert all(BACKUP_WEB in main[p].decode("utf-8") for p in main if p.endswith(".html"))

    # Published and unchanged, the shard's site is left as it is; the next year's
    # articles go to a site of their own, and the closed shard's is not built again.
    again = newsmirror_site(file, tmp_path / "site", "--publish")
    assert "the site of shard 2027" in again.stdout + again.stderr and "left as it is" in again.stdout + again.stderr
    assert "nothing to do" in newsmirror_site(file, tmp_path / "site", "--publish", "--if-changed").stdout
    bare_remote(tmp_path / "backup-2028.git")
    lab.go(lab.items + news(5, 1, NEXT_JAN_1), NEXT_JAN_1, mirrors=mirrors)
    third = newsmirror_site(file, tmp_path / "site", "--publish")
    assert "published the site of shard 2028" in third.stdout and "published the site of shard 2027" not in third.stdout
    assert site_tree(tmp_path / "site-2027") == shard
    assert len([p for p in site_tree(tmp_path / "site-2028") if p.startswith("articles/")]) == 1

    # As on the workflow, whose cache keeps the open shard's clone only: once the closed
    # shard's articles left the feeds, the hour's build reads nothing of it, so its clone
    # is not made again; nor is it for a full build of the main site (the site's state
    # lost), which reads none of their files: the shard's own site indexes them.
    shutil.rmtree(lab.shard(2027))
    lab.go(lab.items + news(6, FEED_SIZE, NEXT_JAN_1 + 3_600_000), NEXT_JAN_1 + 3_600_000, mirrors=mirrors)
    hour = newsmirror_site(file, tmp_path / "site", "--publish", "-v")
    assert not lab.shard(2027).exists(), hour.stdout + hour.stderr
    assert "published the site of shard 2028" in hour.stdout and site_tree(tmp_path / "site-2027") == shard
    # The next hour with nothing new: every site is published from the archive as it is,
    # the closed shard's as remembered, without its clone (which is not made for it).
    idle = newsmirror_site(file, tmp_path / "site", "--publish", "--if-changed")
    assert "nothing to do" in idle.stdout and not lab.shard(2027).exists(), idle.stdout + idle.stderr
    full = tmp_path / "full"
    newsmirror_site(file, full)
    assert not lab.shard(2027).exists() and site_tree(full) == site_tree(tmp_path / "site")
    # A runner that lost its cache, the catalog with it, and the closed shard's clone
    # cannot know that shard's site is published as it is: --if-changed builds instead
    # of saying "nothing to do", clones that shard to publish its site again, and every
    # site stays what it was.
    shutil.rmtree(lab.archive / CACHE_DIR)
    lost = newsmirror_site(file, tmp_path / "site", "--publish", "--if-changed")
    assert "nothing to do" not in lost.stdout and lab.shard(2027).exists(), lost.stdout + lost.stderr
    assert "published the site of shard 2027" in lost.stdout
    assert site_tree(tmp_path / "site") == site_tree(full) and site_tree(tmp_path / "site-2027") == shard


def test_the_site_of_an_archive_whose_articles_are_all_in_shards(tmp_path, httpserver):
    """Rotation switched on before the first article: the main repository holds none."""
    lab = Sharded(tmp_path, httpserver)
    lab.go([], DEC_31)
    lab.go(news(0, 2, JAN_1), JAN_1)
    assert not (lab.archive / "articles").exists() and len(lab.files(lab.shard(2027))) == 2
    done = newsmirror_site(write_toml(lab, []), tmp_path / "site")
    assert "shard 2027's site: 2 articles" in done.stdout, done.stdout
    assert len([p for p in site_tree(tmp_path / "site-2027") if p.startswith("articles/")]) == 2


def test_each_site_built_hour_by_hour_is_its_full_build(tmp_path, httpserver):
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 3, DEC_31), DEC_31)
    file = write_toml(lab, [])
    newsmirror_site(file, tmp_path / "site")
    assert not (tmp_path / "site-2027").exists()
    lab.go(edited(lab.items, 1) + news(3, 2, JAN_1), JAN_1)
    newsmirror_site(file, tmp_path / "site")
    lab.go(edited(lab.items, 4) + news(5, 2, JAN_1 + 3_600_000), JAN_1 + 3_600_000)
    hour = newsmirror_site(file, tmp_path / "site", "-v")
    # The hour wrote the shard's new and edited pages on its own site, none on the main one.
    assert "shard 2027's site: 4 articles" in hour.stdout and "\n3 articles" not in hour.stdout, hour.stdout
    newsmirror_site(file, tmp_path / "fresh")
    for name in ("", "-2027"):
        assert site_tree(tmp_path / f"site{name}") == site_tree(tmp_path / f"fresh{name}"), name
    assert len([p for p in site_tree(tmp_path / "site") if p.startswith("articles/")]) == 3



def test_a_site_past_its_hosts_limit_is_not_published_and_says_so(tmp_path, httpserver):
    """`[site] max_mb`: a built site larger than one published site may hold is not pushed
    (its host would refuse it, and the last publication stays); the others are; the
    command names the site, its size and what to do, and exits non-zero."""
    from newsmirror.publish.site import published_bytes

    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 3, DEC_31), DEC_31)
    lab.go(lab.items + news(3, 2, JAN_1), JAN_1)
    file = write_toml(lab, [])
    newsmirror_site(file, tmp_path / "built")
    main, shard = published_bytes(tmp_path / "built"), published_bytes(tmp_path / "built-2027")
    assert shard < main
    limit = (main + shard) / 2 / 1e6
    file.write_text(file.read_text("utf-8").replace("[site]\n", f"[site]\nmax_mb = {limit}\n"), encoding="utf-8")
    command = [sys.executable, "-m", "newsmirror", "site", "-c", str(file), "-o", str(tmp_path / "site"), "--publish"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout + done.stderr
    words = " ".join(done.stderr.split())
    assert "the site is" in words and "so it was not published" in words and "[site] max_mb" in words, words
    assert "the articles from before the shards began" in words
    assert "published the site of shard 2027" in done.stdout
    assert git("ls-tree", "-r", "--name-only", "site", cwd=tmp_path / "remote-2027.git")
    assert git("for-each-ref", "refs/heads/site", cwd=lab.remote) == ""  # the main site not pushed

    file.write_text(file.read_text("utf-8").replace(f"max_mb = {limit}", f"max_mb = {main * 1.05 / 1e6}"),
                    encoding="utf-8")
    again = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "of the" in again.stderr and "one published site may hold" in again.stderr  # past 90%: a warning
    assert git("for-each-ref", "refs/heads/site", cwd=lab.remote) != ""


def closed_shard_published_by_version_1(tmp_path: Path, httpserver: HTTPServer) -> tuple[Sharded, Path]:
    """An archive whose closed shard 2027's site is recorded as published by an older
    newsmirror (record version 1), with that shard's clone gone; and its configuration."""
    from newsmirror.archive.paths import SHARD_SITES_PUBLISHED

    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 2, DEC_31), DEC_31)
    lab.go(lab.items + news(2, 2, JAN_1), JAN_1)
    file = write_toml(lab, [])
    newsmirror_site(file, tmp_path / "site", "--publish")
    lab.go(lab.items + news(4, 1, NEXT_JAN_1), NEXT_JAN_1)
    newsmirror_site(file, tmp_path / "site", "--publish")
    record = lab.archive / SHARD_SITES_PUBLISHED
    published = json.loads(record.read_text("utf-8"))
    published["2027"]["version"] = 1
    record.write_text(json.dumps(published), encoding="utf-8")
    shutil.rmtree(lab.shard(2027))
    return lab, file


def test_a_closed_shards_site_published_by_an_older_newsmirror_is_published_again(tmp_path, httpserver):
    """A closed shard's site published before its site carried its own search index (the
    record of version 1): the main site's search asks it for its articles, so it is built
    (its clone made) and published once more."""
    lab, file = closed_shard_published_by_version_1(tmp_path, httpserver)
    shutil.rmtree(tmp_path / "site-2027")
    done = newsmirror_site(file, tmp_path / "site", "--publish")
    assert "published the site of shard 2027" in done.stdout, done.stdout + done.stderr
    tree = git("ls-tree", "-r", "--name-only", "site", cwd=tmp_path / "remote-2027.git").split()
    assert "search/meta.js" in tree


def test_a_closed_shards_site_to_publish_again_whose_clone_cannot_be_made_fails_the_command(tmp_path, httpserver):
    """As above, but the shard's repository cannot be cloned: its site cannot be built, so
    the main site's search would ask a site that does not index its articles. The command
    says so and fails (the main site is still published: its own articles are new)."""
    lab, file = closed_shard_published_by_version_1(tmp_path, httpserver)
    (tmp_path / "remote-2027.git").rename(tmp_path / "moved-2027.git")
    done = subprocess.run([sys.executable, "-m", "newsmirror", "site", "-c", str(file), "-o",
                           str(tmp_path / "site"), "--publish"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "shard 2027:" in done.stderr and "could not be cloned" in done.stderr, done.stderr
    assert "the site of shard 2027 is not published from the shard as it is" in done.stderr, done.stderr
    assert "published the site" in done.stdout, done.stdout  # the main site's own articles


def test_a_closed_shards_site_that_failed_to_publish_is_published_once_its_clone_is_gone(tmp_path, httpserver):
    """The shard's site push failed in its last open hour (the main site's went through);
    in the new year the workflow's cache no longer holds the closed shard's clone, and
    the hour's main build reads none of its articles. The shard's site must still be
    published: the main site links its articles there."""
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 1, DEC_31), DEC_31)
    lab.go(lab.items + news(1, 2, JAN_1), JAN_1)
    file = write_toml(lab, [])
    shard_remote = tmp_path / "remote-2027.git"
    hook = shard_remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'the shard host is down' >&2\nexit 1\n")
    hook.chmod(0o755)
    down = subprocess.run([sys.executable, "-m", "newsmirror", "site", "-c", str(file), "-o",
                           str(tmp_path / "site"), "--publish"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert down.returncode == 3 and "the shard host is down" in down.stdout + down.stderr
    hook.unlink()
    lab.go(lab.items + news(3, 1, NEXT_JAN_1), NEXT_JAN_1)
    shutil.rmtree(lab.shard(2027))
    newsmirror_site(file, tmp_path / "site", "--publish")
    published = git("ls-tree", "-r", "--name-only", "site", cwd=shard_remote).split()
    assert len([p for p in published if p.startswith("articles/")]) == 2, published


def test_a_closed_shards_images_stay_on_the_main_site_without_its_clone(tmp_path, httpserver):
    """A site at the root of its host gives the shards no site of their own: the main site
    shows their articles and images. In the new year the workflow's cache no longer holds
    the closed shard's clone, and once its articles left the feeds the hour's build reads
    none of them: their images must stay beside their pages."""
    from tests.archive.test_assets import PNG

    lab = Sharded(tmp_path, httpserver)

    def go(items: list[Item], now_ms: int):
        sources = [{**source, "download_images": True} for source in lab.serve(items)]
        httpserver.expect_request("/a.png").respond_with_data(PNG + b"a", content_type="image/png")
        return lab.run(sources, now_ms=now_ms, **lab.top())

    image = f'<p>图</p><img src="{httpserver.url_for("/a.png")}">'
    go([replace(news(0, 1, DEC_31)[0], body="<p>无图</p>")], DEC_31)
    go(lab.items + [replace(news(1, 1, JAN_1)[0], body=image)], JAN_1)
    file = write_toml(lab, [])
    file.write_text(file.read_text("utf-8").replace(SITE, "https://news.test/"), "utf-8")
    newsmirror_site(file, tmp_path / "site")
    assert not (tmp_path / "site-2027").exists()
    before = [p for p in site_tree(tmp_path / "site") if p.startswith("assets/")]
    assert len(before) == 1, before
    go(lab.items + news(2, FEED_SIZE, NEXT_JAN_1), NEXT_JAN_1)
    shutil.rmtree(lab.shard(2027))
    newsmirror_site(file, tmp_path / "site")
    assert not lab.shard(2027).exists()
    assert [p for p in site_tree(tmp_path / "site") if p.startswith("assets/")] == before
    # A full build reads every article, so makes the clone before it copies the images.
    newsmirror_site(file, tmp_path / "full")
    assert site_tree(tmp_path / "full") == site_tree(tmp_path / "site")


def test_the_main_sites_feeds_show_a_closed_shards_articles_in_full_without_its_clone(tmp_path, httpserver):
    """The new year's first hour on the workflow: the closed shard's clone is not in the
    cache, its articles are still in the feeds, whose bodies are read from their files."""
    lab = Sharded(tmp_path, httpserver)
    lab.go(news(0, 1, DEC_31), DEC_31)
    lab.go(lab.items + news(1, 1, JAN_1), JAN_1)
    file = write_toml(lab, [])
    newsmirror_site(file, tmp_path / "site")
    lab.go(lab.items + news(2, 1, NEXT_JAN_1), NEXT_JAN_1)
    shutil.rmtree(lab.shard(2027))
    newsmirror_site(file, tmp_path / "site")
    feed = (tmp_path / "site" / "feeds" / "all.xml").read_text("utf-8")
    assert all(f"第{i}篇" in feed for i in range(3)), feed
