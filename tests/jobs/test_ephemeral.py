"""State that survives an ephemeral runner, and alerts over several runs.

Each run happens in a FRESH clone of a bare remote, which gets only the committed files
plus a copy of the cache folder the previous run left (as actions/cache restores it on
GitHub Actions): nothing else carries over from one run to the next.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newsmirror.archive.catalog import Catalog
from newsmirror.archive.store import open_store
from newsmirror.config import parse_config
from newsmirror.jobs.mirror import run_mirror
from newsmirror.sources.health import HOUR_MS, read_health, state_files
from tests.helpers import bare_remote, git
from tests.jobs.feeds import Item, rss

T0 = 1_764_000_000_000  # 2025-11-24 16:00 UTC
DAY = 24 * HOUR_MS


def items(n: int, start: int = 0) -> list[Item]:
    return [Item(f"新闻{i}", f"https://news.test/{i}", f"<p>第{i}篇。</p>", guid=f"g{i}",
                 date_ms=T0 - (n - i) * HOUR_MS) for i in range(start, start + n)]


class Ephemeral:
    """Runs of the real pipeline, each on a fresh clone with the previous run's cache."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.remote = bare_remote(tmp / "remote.git")
        self.count = 0
        self.saved: Path | None = None
        self.archive: Path | None = None

    def run(self, sources: list[dict], now_ms: int, **top):
        self.count += 1
        clone = self.tmp / f"runner{self.count}"
        git("clone", "-q", str(self.remote), str(clone), cwd=self.tmp)
        if self.saved is not None:  # actions/cache restoring the folder
            shutil.copytree(self.saved, clone / ".newsmirror" / "cache")
        data = {"archive": {"path": str(clone), "remote": str(self.remote)},
                "fetch": {"timeout": 5, "connect_timeout": 2}, "sources": sources, **top}
        report = asyncio.run(run_mirror(parse_config(data, file="t.toml", base=self.tmp),
                                        now_ms=now_ms))
        self.saved = self.tmp / f"cache{self.count}"  # actions/cache saving it
        shutil.copytree(clone / ".newsmirror" / "cache", self.saved)
        self.archive = clone
        return report

    def remote_head(self) -> str:
        return git("rev-parse", "main", cwd=self.remote)


def test_validators_failures_and_backoff_survive_fresh_clones(httpserver: HTTPServer, tmp_path: Path):
    seen: dict[str, list[str | None]] = {"voa": [], "bbc": []}
    current = {"etag": '"v1"'}
    body = rss(items(3))

    def voa(request: Request) -> Response:
        seen["voa"].append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == current["etag"]:
            return Response(status=304, headers={"ETag": current["etag"]})
        return Response(body, content_type="application/rss+xml", headers={"ETag": current["etag"]})

    def bbc(request: Request) -> Response:
        seen["bbc"].append(request.headers.get("If-None-Match"))
        return Response("down", status=500)

    httpserver.expect_request("/voa.xml").respond_with_handler(voa)
    httpserver.expect_request("/bbc.xml").respond_with_handler(bbc)
    sources = [{"slug": "voa", "name": "美国之音", "url": httpserver.url_for("/voa.xml")},
               {"slug": "bbc", "name": "BBC 中文", "url": httpserver.url_for("/bbc.xml")}]
    runs = Ephemeral(tmp_path)

    # Run 1: three new articles, bbc's first failure; one commit.
    first = runs.run(sources, T0)
    assert first.new == 3 and first.commit and first.push.ok
    assert seen["voa"] == [None]
    head = runs.remote_head()

    # Run 2, an hour later: the ETag of run 1 goes out; the feed answers 200 again (same
    # items) with a new ETag. bbc fails a second time. Nothing durable changed: no commit.
    current["etag"] = '"v2"'
    second = runs.run(sources, T0 + HOUR_MS)
    assert seen["voa"] == [None, '"v1"']
    assert second.new == second.updated == 0 and second.commit is None
    assert runs.remote_head() == head
    assert git("status", "--porcelain", cwd=runs.archive) == ""
    assert second.health["bbc"].failures == 2
    assert second.health["bbc"].next_attempt_ms == T0 + HOUR_MS + 2 * HOUR_MS

    # Run 3, in yet another fresh clone: the ETag only run 2 saw (kept in the cached
    # folder, never committed) goes out and is answered 304; bbc waits out its backoff.
    third = runs.run(sources, T0 + 2 * HOUR_MS)
    assert seen["voa"] == [None, '"v1"', '"v2"']
    assert third.outcomes[0].not_modified
    [bbc] = [o for o in third.outcomes if o.slug == "bbc"]
    assert bbc.skipped and "backing off" in bbc.skipped and "2 failures" in bbc.skipped
    assert third.backing_off == 1
    assert len(seen["bbc"]) == 2
    assert third.commit is None and runs.remote_head() == head
    assert git("status", "--porcelain", cwd=runs.archive) == ""

    # Run 4: the backoff ends; the count goes on from 2 to 3, which makes bbc failing:
    # a durable change, committed with the snapshot of the state.
    fourth = runs.run(sources, T0 + 3 * HOUR_MS)
    assert len(seen["bbc"]) == 3 and seen["voa"][-1] == '"v2"'
    assert fourth.health["bbc"].failures == 3 and fourth.health["bbc"].state == "failing"
    assert fourth.commit and runs.remote_head() != head
    committed = json.loads(git("show", "main:.newsmirror/health.json", cwd=runs.remote))
    assert committed["sources"]["bbc"]["failures"] == 3
    assert committed["sources"]["bbc"]["state"] == "failing"
    assert committed["sources"]["voa"]["etag"] == '"v2"'


def test_a_cache_miss_falls_back_to_the_committed_snapshot(httpserver: HTTPServer, tmp_path: Path):
    seen: list[str | None] = []

    def voa(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        return Response(rss(items(2)), content_type="application/rss+xml", headers={"ETag": '"a"'})

    httpserver.expect_request("/voa.xml").respond_with_handler(voa)
    httpserver.expect_request("/bad.xml").respond_with_data("no", status=503)
    sources = [{"slug": "voa", "name": "V", "url": httpserver.url_for("/voa.xml")},
               {"slug": "bad", "name": "B", "url": httpserver.url_for("/bad.xml")}]
    runs = Ephemeral(tmp_path)
    runs.run(sources, T0)
    runs.saved = None  # the cache entry expired
    report = runs.run(sources, T0 + HOUR_MS)
    assert seen == [None, '"a"']
    assert report.health["bad"].failures == 2


def test_a_health_file_broken_by_a_merge_warns_and_starts_fresh(mirror, httpserver: HTTPServer):
    httpserver.expect_request("/f.xml").respond_with_data(rss(items(2)), content_type="application/rss+xml")
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    mirror.run(sources, now_ms=T0)
    committed, cached = state_files(mirror.archive)
    text = committed.read_text()
    committed.write_text("<<<<<<< HEAD\n" + text + "=======\n" + text + ">>>>>>> theirs\n")
    cached.unlink()
    report = mirror.run(sources, now_ms=T0 + HOUR_MS)
    assert report.ok and report.outcomes[0].failed is None
    [warning] = report.warnings
    assert warning.startswith(f"{committed}: not valid JSON") and "starts fresh" in warning
    # The run repaired the committed file.
    assert read_health(committed).problems == []
    assert report.commit and ".newsmirror/health.json" in mirror.changed_in(report.commit)


def test_a_field_that_does_not_fit_is_dropped_and_the_rest_kept(mirror, httpserver: HTTPServer):
    httpserver.expect_request("/f.xml").respond_with_data("no", status=500)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    mirror.run(sources, now_ms=T0)
    _, cached = state_files(mirror.archive)
    document = json.loads(cached.read_text())
    document["sources"]["s"]["etag"] = 12
    cached.write_text(json.dumps(document))
    report = mirror.run(sources, now_ms=T0 + HOUR_MS)
    [warning] = report.warnings
    assert "field 'etag' must be text or null" in warning and "\n" not in warning
    assert report.health["s"].failures == 2  # the readable part was kept


def webhook(httpserver: HTTPServer, answers: list[int]) -> list[dict]:
    """A loopback webhook: records each POSTed JSON body, answers the given statuses
    in turn (then 204)."""
    received: list[dict] = []

    def hook(request: Request) -> Response:
        assert request.method == "POST"
        assert request.headers["Content-Type"] == "application/json"
        received.append(json.loads(request.get_data()))
        return Response(status=answers.pop(0) if answers else 204)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    return received


def test_alerts_one_post_per_change_of_state(httpserver: HTTPServer, tmp_path: Path):
    feed = {"status": 200, "items": items(3)}

    def serve(request: Request) -> Response:
        if feed["status"] != 200:
            return Response("x", status=feed["status"])
        return Response(rss(feed["items"]), content_type="application/rss+xml")

    httpserver.expect_request("/rfi.xml").respond_with_handler(serve)
    received = webhook(httpserver, [])
    sources = [{"slug": "rfi", "name": "法广 RFI", "url": httpserver.url_for("/rfi.xml")}]
    top = {"alerts": {"webhook": httpserver.url_for("/hook")}}
    runs = Ephemeral(tmp_path)

    def run(now: int):
        report = runs.run(sources, now, **top)
        assert not report.warnings, report.warnings
        return report

    run(T0)
    assert received == []
    feed["status"] = 500
    run(T0 + 1 * HOUR_MS)           # failure 1 (next attempt +1 h)
    run(T0 + 2 * HOUR_MS)           # failure 2 (+2 h)
    assert received == []
    failing = run(T0 + 4 * HOUR_MS)  # failure 3: failing
    [alert] = received
    assert alert["event"] == "failing" and alert["state"] == "failing" and alert["previous"] == "ok"
    assert alert["source"] == "rfi" and alert["consecutive_failures"] == 3
    assert "HTTP 500" in alert["last_error"] and alert["time_ms"] == T0 + 4 * HOUR_MS
    assert "法广 RFI (rfi) is failing: 3 consecutive failures" in alert["text"]
    assert failing.commit  # the alert is remembered in the committed state too
    run(T0 + 8 * HOUR_MS)           # failure 4: still failing, no second POST
    run(T0 + 9 * HOUR_MS)           # backing off: not even attempted
    assert len(received) == 1

    feed["status"] = 200
    run(T0 + 16 * HOUR_MS)          # answers again
    assert [a["event"] for a in received] == ["failing", "recovered"]
    assert received[1]["state"] == "ok" and received[1]["previous"] == "failing"
    assert "has recovered (it was failing)" in received[1]["text"]
    run(T0 + 17 * HOUR_MS)
    assert len(received) == 2

    # It answers every hour, but nothing new comes: stale after 3 days (its usual
    # interval, an hour, times ten is less).
    last_new = T0  # the first run found its articles
    run(last_new + 3 * DAY - HOUR_MS)
    assert len(received) == 2
    stale = run(last_new + 3 * DAY + HOUR_MS)
    assert [a["event"] for a in received] == ["failing", "recovered", "stale"]
    assert received[2]["last_new_ms"] == last_new
    assert stale.commit and "（停止更新）" in (runs.archive / "README.md").read_text()
    run(last_new + 4 * DAY)
    assert len(received) == 3

    feed["items"] = items(4)        # a new article
    fresh = run(last_new + 4 * DAY + HOUR_MS)
    assert fresh.new == 1
    assert [a["event"] for a in received] == ["failing", "recovered", "stale", "recovered"]
    assert "停止更新" not in (runs.archive / "README.md").read_text()

    feed["status"] = 410
    run(last_new + 5 * DAY)
    assert received[-1]["event"] == "dead" and received[-1]["previous"] == "ok"
    assert "已失效" in (runs.archive / "README.md").read_text()
    assert len(received) == 5


def test_a_failing_webhook_never_fails_the_run_and_is_retried(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/f.xml").respond_with_data("x", status=500)
    received = webhook(httpserver, [500])
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")},
               {"slug": "ok", "name": "O", "url": "http://127.0.0.1:9/unreachable.xml"}]
    top = {"alerts": {"webhook": httpserver.url_for("/hook"), "after_failures": 1}}
    runs = Ephemeral(tmp_path)
    report = runs.run(sources, T0, **top)
    assert len(received) == 1  # the first POST got a 500: nothing more tried this run
    [warning] = report.warnings
    assert warning.startswith("alert webhook failed (HTTP 500 INTERNAL SERVER ERROR)")
    assert "2 alert(s) not sent" in warning
    assert report.health["s"].alerted == "ok"
    again = runs.run(sources, T0 + HOUR_MS, **top)
    assert again.warnings == []
    assert sorted(a["source"] for a in received[1:]) == ["ok", "s"]
    runs.run(sources, T0 + 3 * HOUR_MS, **top)
    assert len(received) == 3


def test_an_unreachable_webhook_is_one_line(httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/f.xml").respond_with_data("x", status=500)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    runs = Ephemeral(tmp_path)
    report = runs.run(sources, T0, alerts={"webhook": "http://127.0.0.1:9/hook", "after_failures": 1})
    [warning] = report.warnings
    assert warning.startswith("alert webhook failed (ConnectError") and "\n" not in warning
    assert report.health["s"].state == "failing" and report.health["s"].alerted == "ok"


def test_the_webhook_can_come_from_an_environment_variable(httpserver: HTTPServer, tmp_path: Path,
                                                           monkeypatch):
    httpserver.expect_request("/f.xml").respond_with_data("x", status=500)
    received = webhook(httpserver, [])
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    top = {"alerts": {"webhook_env": "NEWSMIRROR_TEST_HOOK", "after_failures": 1}}
    runs = Ephemeral(tmp_path)
    monkeypatch.delenv("NEWSMIRROR_TEST_HOOK", raising=False)
    report = runs.run(sources, T0, **top)
    assert report.warnings == ["alerts: $NEWSMIRROR_TEST_HOOK is not set; no alerts sent"]
    monkeypatch.setenv("NEWSMIRROR_TEST_HOOK", httpserver.url_for("/hook"))
    report = runs.run(sources, T0 + HOUR_MS, **top)
    assert report.warnings == [] and [a["event"] for a in received] == ["failing"]


def test_a_version_1_health_file_is_migrated(mirror, httpserver: HTTPServer):
    seen: list[str | None] = []

    def feed(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"old"':
            return Response(status=304)
        return Response(rss(items(2)), content_type="application/rss+xml", headers={"ETag": '"old"'})

    httpserver.expect_request("/f.xml").respond_with_handler(feed)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    mirror.run(sources, now_ms=T0)
    committed, cached = state_files(mirror.archive)
    # What an earlier newsmirror wrote (and committed) after the same run.
    committed.write_text(json.dumps({"version": 1, "sources": {"s": {
        "etag": '"old"', "last_success_ms": T0, "last_attempt_ms": T0, "failures": 0,
        "articles": 2, "dead": False, "last_error": None, "last_modified": None,
        "next_attempt_ms": None}}}, indent=1) + "\n")
    git("commit", "-qam", "health file of version 1", cwd=mirror.archive)
    cached.unlink()
    report = mirror.run(sources, now_ms=T0 + HOUR_MS)
    assert report.warnings == [] and seen == [None, '"old"']
    h = report.health["s"]
    assert h.first_ok_ms == T0 and h.last_new_ms == T0 - HOUR_MS  # its newest article
    assert json.loads(cached.read_text())["version"] == 2
    # The migrated file is committed once; the next idle hour commits nothing.
    assert report.commit and json.loads(committed.read_text())["version"] == 2
    assert mirror.run(sources, now_ms=T0 + 2 * HOUR_MS).commit is None
    assert git("status", "--porcelain", cwd=mirror.archive) == ""


def test_a_run_where_every_source_failed_commits_its_state(httpserver: HTTPServer, tmp_path: Path):
    """actions/cache saves only when the job succeeds, and such a run exits 1: its count
    must reach the next run through the commit."""
    httpserver.expect_request("/f.xml").respond_with_data("x", status=500)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    runs = Ephemeral(tmp_path)
    for hour, failures in ((0, 1), (1, 2), (3, 3)):
        report = runs.run(sources, T0 + hour * HOUR_MS)
        runs.saved = None  # the red job saved no cache
        assert not report.ok and report.commit
        assert report.health["s"].failures == failures
    assert report.health["s"].state == "failing"
    # A green run that only waits out a backoff commits nothing.
    waiting = runs.run(sources, T0 + 4 * HOUR_MS)
    assert waiting.ok and waiting.commit is None and waiting.backing_off == 1


def test_articles_of_a_lost_push_come_back_though_the_feed_would_answer_304(
        httpserver: HTTPServer, tmp_path: Path):
    """A run commits new articles, its push fails and its runner is gone; the cache it
    saved holds the ETag of the feed that had them. The next run, on a fresh clone without
    that commit, must not send that ETag (a 304 would keep the articles out for good);
    sources whose commits were not lost keep theirs."""
    seen: dict[str, list[str | None]] = {"voa": [], "rfi": []}
    feeds = {"voa": (rss(items(2)), '"v1"'), "rfi": (rss(items(1, start=10)), '"r1"')}

    def handler(slug: str):
        def answer(request: Request) -> Response:
            body, etag = feeds[slug]
            seen[slug].append(request.headers.get("If-None-Match"))
            if request.headers.get("If-None-Match") == etag:
                return Response(status=304, headers={"ETag": etag})
            return Response(body, content_type="application/rss+xml", headers={"ETag": etag})
        return answer

    for slug in feeds:
        httpserver.expect_request(f"/{slug}.xml").respond_with_handler(handler(slug))
    sources = [{"slug": s, "name": s.upper(), "url": httpserver.url_for(f"/{s}.xml")} for s in feeds]
    runs = Ephemeral(tmp_path)
    first = runs.run(sources, T0)
    assert first.push.ok and first.notes == []

    hook = runs.remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen' >&2\nexit 1\n")
    hook.chmod(0o755)
    feeds["voa"] = (rss(items(3)), '"v2"')  # a new article
    lost = runs.run(sources, T0 + HOUR_MS)
    assert lost.new == 1 and lost.commit and not lost.push.ok
    assert "pushes are frozen" in lost.push.message
    assert seen == {"voa": [None, '"v1"'], "rfi": [None, '"r1"']}
    hook.unlink()

    again = runs.run(sources, T0 + 2 * HOUR_MS)
    assert seen["voa"][-1] is None  # the whole feed, not a 304
    assert seen["rfi"][-1] == '"r1"'  # nothing of rfi's was lost: still conditional
    assert again.new == 1 and again.push.ok
    assert again.notes[-1] == ("commits of an earlier run never reached the remote (its push "
                               "failed); fetching these sources in full again: voa")
    assert len(list((runs.archive / "articles" / "voa").rglob("*.md"))) == 3
    remote_files = git("ls-tree", "-r", "--name-only", "main", "articles/voa", cwd=runs.remote).split()
    assert len(remote_files) == 3

    # Once it is pushed, nothing is lost any more: conditional again, no note.
    settled = runs.run(sources, T0 + 3 * HOUR_MS)
    assert settled.notes == [] and seen["voa"][-1] == '"v2"' and settled.commit is None


def test_a_push_that_rebased_is_not_a_lost_push(mirror, httpserver: HTTPServer, tmp_path: Path):
    """The catalog records the commit before the push; a push that had to rebase replaces
    that commit. It still exists, nothing was lost: no full rebuild, validators kept."""
    seen: list[str | None] = []

    def feed(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == '"e1"':
            return Response(status=304, headers={"ETag": '"e1"'})
        return Response(rss(items(2)), content_type="application/rss+xml", headers={"ETag": '"e1"'})

    httpserver.expect_request("/f.xml").respond_with_handler(feed)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    mirror.run(sources, now_ms=T0)
    other = tmp_path / "other"
    git("clone", "-q", str(mirror.remote), str(other), cwd=tmp_path)
    (other / "notes.txt").write_text("the operator's note\n")
    git("add", "notes.txt", cwd=other)
    git("-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "A note", cwd=other)
    git("push", "-q", "origin", "main", cwd=other)
    httpserver.expect_request("/g.xml").respond_with_data(rss(items(1, start=5)),
                                                          content_type="application/rss+xml")
    sources.append({"slug": "g", "name": "G", "url": httpserver.url_for("/g.xml")})
    rebased = mirror.run(sources, now_ms=T0 + HOUR_MS)  # a commit, rebased onto the note
    assert rebased.push.ok and rebased.new == 1
    assert "A note" in git("log", "--format=%s", cwd=mirror.archive)
    after = mirror.run(sources, now_ms=T0 + 2 * HOUR_MS)
    assert after.notes == [] and seen[-1] == '"e1"' and after.commit is None

    # What the rebase leaves the catalog with: a commit that exists but is not in the
    # history any more (here one with the same tree and no parent).
    side = git("commit-tree", "HEAD^{tree}", "-m", "rebased away", cwd=mirror.archive)
    catalog = Catalog(mirror.archive / ".newsmirror" / "cache" / "catalog.sqlite")
    catalog.set_meta("head", side)
    catalog.commit()
    catalog.close()
    with open_store(mirror.archive) as store:
        assert store.repaired == [] and store.lost == set() and store.stale == set()
