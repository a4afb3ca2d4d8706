"""`newsmirror sources issues`: one issue per unhealthy source, closed on recovery.

The real pipeline runs over a loopback feed server at chosen times (so backoffs can pass),
and the real command talks to a stand-in `gh` (tests/fakegh.py) that keeps the
repository's issues in a JSON file, checks labels and tokens as gh does, and records
every call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.actions import FakeGitHub
from tests.cli.test_sources_health import write_config
from tests.jobs.feeds import Item, rss

HOUR = 3_600_000
REPO = "operator/news-archive"


def issues_cli(config: Path, github: FakeGitHub, *extra: str, token: str | None = "t0ken",
               cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("GH_TOKEN", "GITHUB_REPOSITORY")}
    env["PATH"] = os.pathsep.join([str(github.bin), env.get("PATH", "")])
    if token:
        env["GH_TOKEN"] = token
    return subprocess.run([sys.executable, "-m", "newsmirror", "sources", "issues",
                           "--config", str(config), *extra], cwd=cwd, env=env,
                          check=False, capture_output=True, text=True, timeout=120)


def test_one_issue_per_unhealthy_source_never_two_closed_on_recovery(mirror, httpserver: HTTPServer,
                                                                     tmp_path: Path):
    now = int(time.time() * 1000)
    status = {"rfi": 500, "dw": 200}
    news = rss([Item("新闻", "https://news.test/1", "<p>x</p>", guid="1", date_ms=now - 30 * HOUR)])

    def feed(slug: str):
        def answer(request: Request) -> Response:
            if status[slug] != 200:
                return Response("down", status=status[slug])
            return Response(news, content_type="application/rss+xml")
        return answer

    for slug in status:
        httpserver.expect_request(f"/{slug}.xml").respond_with_handler(feed(slug))
    sources = [{"slug": "rfi", "name": "法广 RFI", "url": httpserver.url_for("/rfi.xml")},
               {"slug": "dw", "name": "德国之声", "url": httpserver.url_for("/dw.xml")}]
    alerts = {"alerts": {"after_failures": 2}}  # what the file says, for the pipeline
    config = write_config(tmp_path / "n.toml", mirror.archive, sources,
                          "[alerts]\nafter_failures = 2\n")
    github = FakeGitHub(tmp_path / "github", labels={REPO: []})

    def sync() -> subprocess.CompletedProcess:
        done = issues_cli(config, github, "--repo", REPO, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done

    def open_issues() -> dict[str, dict]:
        return {i["title"]: i for i in github.issues(REPO) if i["state"] == "open"}

    mirror.run(sources, now_ms=now - 10 * HOUR, push=False, **alerts)  # rfi: one failure, still ok
    assert sync().stdout.endswith("0 opened, 0 updated, 0 closed, 0 unchanged\n")
    assert github.issues(REPO) == [] and github.calls() == [
        ["issue", "list", "--label", "source-health", "--state", "open", "--json", "number,title,body",
         "--limit", "1000", "--repo", REPO]]

    mirror.run(sources, now_ms=now - 8 * HOUR, push=False, **alerts)  # the second: failing
    first = sync()
    assert "opened https://github.com/operator/news-archive/issues/1 (rfi): 法广 RFI (rfi) is failing" \
        in first.stdout
    [issue] = github.issues(REPO, label="source-health")
    assert issue["title"] == "法广 RFI (rfi) is failing" and issue["state"] == "open"
    assert "2 consecutive failures" in issue["body"] and "HTTP 500" in issue["body"]
    assert "<!-- newsmirror-source-health: rfi -->" in issue["body"]
    assert ["label", "create", "source-health"] == github.calls()[-2][:3]  # the label exists first

    # Failing still (backing off, then failing again): the same one issue, no comment.
    sync()
    mirror.run(sources, now_ms=now - 4 * HOUR, push=False, **alerts)
    assert sync().stdout.endswith("0 opened, 0 updated, 0 closed, 1 unchanged\n")
    assert len(github.issues(REPO)) == 1 and github.issues(REPO)[0]["comments"] == []

    # dw goes 410: dead at once, an issue of its own.
    status["dw"] = 410
    mirror.run(sources, now_ms=now - HOUR, push=False, **alerts)
    sync()
    assert set(open_issues()) == {"法广 RFI (rfi) is failing", "德国之声 (dw) is dead"}

    # rfi answers again: its issue is closed with a comment; dw's stays open, alone.
    status["rfi"] = 200
    mirror.run(sources, now_ms=now, push=False, **alerts)
    closing = sync()
    assert "closed #1 (rfi): 法广 RFI (rfi) is failing" in closing.stdout
    rfi = next(i for i in github.issues(REPO) if i["number"] == 1)
    assert rfi["state"] == "closed" and rfi["comments"] == ["法广 RFI (rfi) has recovered (it was failing)"]
    assert list(open_issues()) == ["德国之声 (dw) is dead"]
    calls = len(github.calls())
    assert sync().stdout.endswith("0 opened, 0 updated, 0 closed, 1 unchanged\n")
    assert len(github.calls()) == calls + 1  # only the list

    # Taken out of the configuration: its issue is closed too. Issues without the
    # marker (someone else's, with the same label) are never touched.
    subprocess.run([str(github.bin / "gh"), "issue", "create", "--repo", REPO, "--title", "mine",
                    "--body", "not newsmirror's", "--label", "source-health"], check=True,
                   env={**os.environ, "GH_TOKEN": "t"}, capture_output=True)
    config = write_config(tmp_path / "n.toml", mirror.archive, sources[:1], "")
    assert "closed #2 (dw)" in sync().stdout
    assert list(open_issues()) == ["mine"]


def test_a_state_that_changes_is_a_comment_and_a_new_title(mirror, httpserver: HTTPServer,
                                                            tmp_path: Path):
    status = {"code": 500}
    httpserver.expect_request("/f.xml").respond_with_handler(
        lambda request: Response("x", status=status["code"]))
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    config = write_config(tmp_path / "n.toml", mirror.archive, sources, "[alerts]\nafter_failures = 1\n")
    github = FakeGitHub(tmp_path / "github", labels={REPO: ["source-health"]})
    now = int(time.time() * 1000)
    mirror.run(sources, now_ms=now - 3 * HOUR, push=False, alerts={"after_failures": 1})
    assert issues_cli(config, github, "--repo", REPO, cwd=tmp_path).returncode == 0
    status["code"] = 410
    mirror.run(sources, now_ms=now, push=False, alerts={"after_failures": 1})
    done = issues_cli(config, github, "--repo", REPO, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "updated #1 (s): S (s) is dead" in done.stdout
    [issue] = github.issues(REPO)
    assert issue["title"] == "S (s) is dead" and issue["state"] == "open"
    [comment] = issue["comments"]
    assert comment.startswith("Now dead: S (s) is dead: 2 consecutive failures") and "410" in comment
    # The label existed already: creating it with --force (which updates it) did not fail.
    assert [c for c in github.calls() if c[:2] == ["label", "create"]] == [
        ["label", "create", "source-health", "--color", "B60205", "--description",
         "A mirrored source is failing, stale or dead (opened and closed by newsmirror)",
         "--force", "--repo", REPO]]
    assert github.data()["repos"][REPO]["labels"] == ["source-health"]


def test_gh_failures_and_a_missing_repository_are_loud(mirror, httpserver: HTTPServer, tmp_path: Path):
    httpserver.expect_request("/f.xml").respond_with_data("x", status=500)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    config = write_config(tmp_path / "n.toml", mirror.archive, sources, "[alerts]\nafter_failures = 1\n")
    mirror.run(sources, push=False, alerts={"after_failures": 1})
    github = FakeGitHub(tmp_path / "github")

    no_token = issues_cli(config, github, "--repo", REPO, token=None, cwd=tmp_path)
    assert no_token.returncode == 3 and no_token.stdout == ""
    assert "error: gh issue list failed (exit 4): To get started with GitHub CLI" in no_token.stderr

    no_repo = issues_cli(config, github, cwd=tmp_path)
    assert no_repo.returncode == 2
    assert "no repository: give --repo OWNER/NAME" in no_repo.stderr
    bad = issues_cli(config, github, "--repo", "not a repo", cwd=tmp_path)
    assert bad.returncode == 2 and "'not a repo' is not OWNER/NAME" in bad.stderr

    # No gh on PATH at all (the repository from $GITHUB_REPOSITORY, as on a runner).
    (tmp_path / "empty").mkdir()
    env = {**os.environ, "PATH": str(tmp_path / "empty"), "GH_TOKEN": "t", "GITHUB_REPOSITORY": REPO}
    missing = subprocess.run([sys.executable, "-m", "newsmirror", "sources", "issues",
                              "--config", str(config)], cwd=tmp_path, env=env,
                             check=False, capture_output=True, text=True, timeout=120)
    assert missing.returncode == 3
    assert "gh: command not found (GitHub's CLI" in missing.stderr


def test_a_repository_with_issues_turned_off_is_a_warning(mirror, httpserver: HTTPServer,
                                                          tmp_path: Path):
    """A fork has Issues off by default: the hourly job stays green, and says so."""
    httpserver.expect_request("/f.xml").respond_with_data("x", status=500)
    sources = [{"slug": "s", "name": "S", "url": httpserver.url_for("/f.xml")}]
    config = write_config(tmp_path / "n.toml", mirror.archive, sources, "[alerts]\nafter_failures = 1\n")
    mirror.run(sources, push=False, alerts={"after_failures": 1})
    github = FakeGitHub(tmp_path / "github")
    data = github.data()
    data["repos"][REPO] = {"issues": [], "labels": [], "issues_disabled": True}
    github.state.write_text(json.dumps(data), encoding="utf-8")
    done = issues_cli(config, github, "--repo", REPO, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"warning: sources issues: {REPO} has Issues turned off" in done.stderr
    assert [c[:2] for c in github.calls()] == [["issue", "list"]]  # nothing else tried
