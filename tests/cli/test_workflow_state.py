"""The generated workflows over several runs, each on a fresh clone (tests/actions.py),
with the GitHub API stood in by tests/fakegh.py and the feeds served on loopback:

- state (ETags, failure counts, backoff) reaches the next run through the cache alone, from
  a run that commits nothing and from a red run whose push failed; the articles of the
  lost push come back although their feed would answer 304;
- one issue per unhealthy source, never two, closed when the source recovers;
- a request whose page cannot be archived turns the job red and is still answered.

See tests/cli/test_workflow_run.py for how the runs stand in for GitHub's, and what they
leave out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.actions import FakeGitHub, LocalRunner
from tests.cli.test_archive_cli import issue_payload
from tests.cli.test_workflow_run import (
    OPERATOR,
    newsmirror_cli,
    run_mirror_job,
    wheelhouse_for,
)
from tests.helpers import bare_remote, git
from tests.jobs.feeds import Item, rss

pytestmark = pytest.mark.slow
REPO = "operator/news-archive"


def operator_archive(tmp: Path, sources: list[tuple[str, str, str]], extra: str = "") -> tuple[Path, Path]:
    """`newsmirror init` with these (slug, name, url) sources, pushed to a bare remote:
    the remote and the operator's archive."""
    remote = bare_remote(tmp / "remote.git")
    archive = tmp / "operator" / "news-archive"
    made = newsmirror_cli("init", str(archive), "--remote", str(remote), cwd=tmp)
    assert made.returncode == 0, made.stderr
    config = archive / "newsmirror.toml"
    text = config.read_text(encoding="utf-8").replace("bundled_sources = true", "bundled_sources = false")
    text += extra + "".join(f'\n[[sources]]\nslug = "{slug}"\nname = "{name}"\nurl = "{url}"\n'
                            for slug, name, url in sources)
    config.write_text(text, encoding="utf-8")
    git(*OPERATOR, "commit", "-qam", "My sources", cwd=archive)
    git("push", "-q", "origin", "main", cwd=archive)
    return remote, archive


def outcomes(runner: LocalRunner) -> dict[str, str]:
    return {r.name: r.outcome for r in runner.results}


def output_of(runner: LocalRunner, step: str) -> str:
    return next(r.output for r in runner.results if r.name == step)


def items(n: int, prefix: str) -> list[Item]:
    return [Item(f"{prefix}新闻{i}", f"https://news.test/{prefix}/{i}", f"<p>{prefix} 第{i}篇。</p>",
                 guid=f"{prefix}{i}", date_ms=1_764_000_000_000 + i * 3_600_000) for i in range(n)]


def test_state_survives_runs_that_commit_nothing_and_runs_whose_push_failed(
        tmp_path: Path, httpserver: HTTPServer):
    feeds = {"voa": {"items": 2, "etag": '"v1"', "status": 200},
             "rfi": {"items": 1, "etag": '"r1"', "status": 200},
             "bbc": {"items": 1, "etag": None, "status": 200}}
    asked: dict[str, list[str | None]] = {slug: [] for slug in feeds}

    def handler(slug: str):
        def answer(request: Request) -> Response:
            feed = feeds[slug]
            asked[slug].append(request.headers.get("If-None-Match"))
            if feed["status"] != 200:
                return Response("down", status=feed["status"])
            headers = {"ETag": feed["etag"]} if feed["etag"] else {}
            if feed["etag"] and request.headers.get("If-None-Match") == feed["etag"]:
                return Response(status=304, headers=headers)
            return Response(rss(items(feed["items"], slug)), content_type="application/rss+xml",
                            headers=headers)
        return answer

    for slug in feeds:
        httpserver.expect_request(f"/{slug}.xml").respond_with_handler(handler(slug))
    remote, archive = operator_archive(
        tmp_path, [(slug, slug.upper(), httpserver.url_for(f"/{slug}.xml")) for slug in feeds])
    wheels = wheelhouse_for(archive / ".newsmirror" / "constraints.txt", tmp_path / "wheels")
    github = FakeGitHub(tmp_path / "github", cache_store=tmp_path / "actions-cache")

    def articles(slug: str) -> list[str]:
        return git("ls-tree", "-r", "--name-only", "main", f"articles/{slug}", cwd=remote).split()

    # Run 1: everything new, committed and pushed.
    run_mirror_job(tmp_path, remote, 1001, wheels, github)
    assert [len(articles(s)) for s in feeds] == [2, 1, 1]
    head = git("rev-parse", "main", cwd=remote)

    # Run 2 commits nothing: voa answers 304, rfi the same items under a new ETag.
    feeds["rfi"]["etag"] = '"r2"'
    second = run_mirror_job(tmp_path, remote, 1002, wheels, github)
    assert "nothing to commit" in output_of(second, "Mirror")
    assert git("rev-parse", "main", cwd=remote) == head
    assert asked["voa"] == [None, '"v1"'] and asked["rfi"] == [None, '"r1"']

    # Run 3: voa has a new article, bbc fails, and the remote declines the push: the job
    # goes red, and the cache is saved all the same.
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'pushes are frozen for maintenance' >&2\nexit 1\n")
    hook.chmod(0o755)
    feeds["voa"].update(items=3, etag='"v3"')
    feeds["bbc"]["status"] = 500
    third = run_mirror_job(tmp_path, remote, 1003, wheels, github, green=False)
    assert asked["rfi"][-1] == '"r2"'  # the ETag only the commit-less run 2 saw
    assert outcomes(third)["Mirror"] == "failure"
    mirror_said = output_of(third, "Mirror")
    assert "remote: pushes are frozen for maintenance" in mirror_said
    assert outcomes(third)["Save the local cache"] == "success"
    assert outcomes(third)["Report source health in issues"] == "success"  # a red run too
    assert (tmp_path / "actions-cache" / "newsmirror-cache-1003-1").is_dir()
    assert git("rev-parse", "main", cwd=remote) == head
    hook.unlink()

    # Run 4, on another fresh clone: the commit of run 3 is gone with its runner.
    bbc_asked = len(asked["bbc"])
    fourth = run_mirror_job(tmp_path, remote, 1004, wheels, github)
    restored = next(r for r in fourth.results if r.name == "Restore the local cache")
    assert restored.output == "restored newsmirror-cache-1003-1"
    mirror_said = output_of(fourth, "Mirror")
    # bbc's failure of the red run carried over: it waits out its backoff.
    assert len(asked["bbc"]) == bbc_asked
    assert "bbc: skipped, backing off until" in mirror_said and "(1 failure: HTTP 500" in mirror_said
    # voa asked for its whole feed (its ETag belonged to the lost commit); rfi did not.
    assert asked["voa"][-1] is None and asked["rfi"][-1] == '"r2"'
    assert "fetching these sources in full again: voa" in mirror_said
    assert len(articles("voa")) == 3
    saved = json.loads((tmp_path / "actions-cache" / "newsmirror-cache-1004-1" / "health.json").read_text())
    assert saved["sources"]["bbc"]["failures"] == 1 and saved["sources"]["voa"]["etag"] == '"v3"'


def test_one_issue_per_unhealthy_source_across_runs(tmp_path: Path, httpserver: HTTPServer):
    status = {"voa": 200, "rfi": 500}

    def handler(slug: str):
        def answer(request: Request) -> Response:
            if status[slug] != 200:
                return Response("down", status=status[slug])
            return Response(rss(items(2, slug)), content_type="application/rss+xml")
        return answer

    for slug in status:
        httpserver.expect_request(f"/{slug}.xml").respond_with_handler(handler(slug))
    remote, archive = operator_archive(
        tmp_path, [("voa", "美国之音", httpserver.url_for("/voa.xml")),
                   ("rfi", "法广 RFI", httpserver.url_for("/rfi.xml"))],
        extra="\n[alerts]\nafter_failures = 1\n")
    wheels = wheelhouse_for(archive / ".newsmirror" / "constraints.txt", tmp_path / "wheels")
    github = FakeGitHub(tmp_path / "github", cache_store=tmp_path / "actions-cache")

    # Run 1: rfi fails; the step opens its issue (creating the label first).
    first = run_mirror_job(tmp_path, remote, 1001, wheels, github)
    assert outcomes(first)["Report source health in issues"] == "success"
    [issue] = github.issues(REPO)
    assert issue["title"] == "法广 RFI (rfi) is failing" and issue["labels"] == ["source-health"]
    assert issue["state"] == "open" and "HTTP 500" in issue["body"]
    assert github.data()["repos"][REPO]["labels"] == ["source-health"]

    # Run 2: still failing (backing off): the same issue, nothing added to it.
    second = run_mirror_job(tmp_path, remote, 1002, wheels, github)
    assert "rfi: skipped, backing off" in output_of(second, "Mirror")
    assert "0 opened, 0 updated, 0 closed, 1 unchanged" in output_of(second, "Report source health in issues")
    [issue] = github.issues(REPO)
    assert issue["state"] == "open" and issue["comments"] == []

    # The operator fixes it on their machine (as the issue says) and pushes the result.
    status["rfi"] = 200
    git(*OPERATOR, "pull", "-q", "--rebase", "origin", "main", cwd=archive)
    fixed = newsmirror_cli("run", "--source", "rfi", "--force", cwd=archive)
    assert fixed.returncode == 0, fixed.stderr
    assert "rfi: 2 new" in fixed.stdout

    # Run 3: rfi is ok; its issue is closed with a comment, and no other is opened.
    third = run_mirror_job(tmp_path, remote, 1003, wheels, github)
    assert "closed #1 (rfi)" in output_of(third, "Report source health in issues")
    [issue] = github.issues(REPO)
    assert issue["state"] == "closed"
    assert issue["comments"] == ["法广 RFI (rfi) has recovered (it was failing)"]
    creates = [c for c in github.calls() if c[:2] == ["issue", "create"]]
    assert len(creates) == 1


def test_a_request_that_fails_turns_the_job_red_and_is_still_answered(tmp_path: Path):
    remote, archive = operator_archive(tmp_path, [("voa", "美国之音", "http://127.0.0.1:9/voa.xml")])
    wheels = wheelhouse_for(archive / ".newsmirror" / "constraints.txt", tmp_path / "wheels")
    github = FakeGitHub(tmp_path / "github")
    payload = issue_payload("请存档 http://10.0.0.1/secret", number=7, association="OWNER")
    github.add_issue("reader/mirror", 7, "请存档", payload["issue"]["body"], ["archive"])
    workspace = tmp_path / "request" / "work"
    workspace.parent.mkdir()
    event = workspace.parent / "event.json"
    event.write_text(json.dumps(payload), encoding="utf-8")
    flow = workspace.parent / "archive-request.yml"
    flow.write_text(git("--git-dir", str(remote), "show", "main:.github/workflows/archive-request.yml",
                        cwd=tmp_path))
    runner = LocalRunner(
        remote=remote, workspace=workspace, toolcache=tmp_path / "toolcache",
        cache_store=tmp_path / "actions-cache",
        github={"repository": "reader/mirror", "run_id": 2001, "run_attempt": 1,
                "token": "not-a-token", "event_name": "issues", "event_path": str(event),
                "event": payload},
        env={"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
        github_api=github)
    assert not runner.run_job(flow, "archive")  # red: the page could not be archived
    done = outcomes(runner)
    assert done["Look up earlier replies and requests"] == "success"
    assert done["Archive the pages named in the issue"] == "failure"
    assert done["Reply on the issue"] == "success"  # always(): after the failure too
    assert done["Close the issue when every page was archived"] == "skipped"
    # Nothing was archived, so the mirror workflow is not started to publish the site.
    assert done["Publish the reading site"] == "skipped"
    assert not [c for c in github.calls() if c[:1] == ["workflow"]]
    [issue] = github.issues("reader/mirror")
    [reply] = issue["comments"]
    assert reply.startswith("<!-- newsmirror-request -->\n已存档 0/1 个网页。")
    assert "10.0.0.1 is a private address" in reply and issue["state"] == "open"

    # The same event again (GitHub's `labeled` after `opened`): the reply the first run
    # posted is found, nothing is archived or posted twice, and the job is green.
    again = LocalRunner(
        remote=remote, workspace=tmp_path / "request2" / "work", toolcache=tmp_path / "toolcache",
        cache_store=tmp_path / "actions-cache", github={**runner.github, "run_id": 2002},
        env=runner.env, github_api=github)
    again.workspace.parent.mkdir()
    assert again.run_job(flow, "archive")
    assert outcomes(again)["Reply on the issue"] == "skipped"
    assert len(github.issues("reader/mirror")[0]["comments"]) == 1
