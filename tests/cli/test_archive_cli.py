"""`newsmirror archive --from-issue`: the issue event in, the reply file out, against a real
archive with a bare remote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from tests.helpers import bare_remote
from tests.helpers import archive_urls
from newsmirror.cli import app
from newsmirror.cli.archive import blob_url, render_comment, urls_in_text
from newsmirror.config import load_config
from newsmirror.publish.workflows import request_workflow_yaml

PAGES = Path(__file__).resolve().parents[1] / "content" / "pages"


@pytest.fixture
def setup(tmp_path: Path):
    remote = tmp_path / "remote.git"
    bare_remote(remote)
    config = tmp_path / "newsmirror.toml"
    config.write_text(f"""
[archive]
path = "archive"
remote = "{remote}"

[[sources]]
slug = "voa"
name = "美国之音"
url = "http://127.0.0.1:9/feed.xml"
""", encoding="utf-8")
    return tmp_path, config, remote


def issue_payload(body: str, *, number: int = 12, action: str = "opened",
                  labels: tuple[str, ...] = ("archive",), added: str | None = None,
                  login: str = "reader", association: str = "OWNER",
                  created_at: str = "2026-03-02T08:00:00Z", title: str = "请存档") -> dict:
    """An `issues` event as GitHub delivers it (the fields newsmirror reads, and some it
    does not)."""
    user = {"login": login, "id": 1000 + len(login), "type": "User",
            "html_url": f"https://github.com/{login}"}
    event = {
        "action": action,
        "issue": {"url": f"https://api.github.com/repos/reader/mirror/issues/{number}",
                  "html_url": f"https://github.com/reader/mirror/issues/{number}",
                  "number": number, "title": title, "body": body, "user": user,
                  "labels": [{"id": 7, "name": name, "color": "ededed"} for name in labels],
                  "state": "open", "locked": False, "comments": 0,
                  "author_association": association, "created_at": created_at,
                  "updated_at": created_at},
        "repository": {"id": 99, "name": "mirror", "full_name": "reader/mirror",
                       "private": False, "owner": {"login": "reader", "type": "User"}},
        "sender": user,
    }
    if added is not None:
        event["label"] = {"id": 7, "name": added, "color": "ededed"}
    return event


def event_file(folder: Path, body: str, name: str = "event.json", **fields) -> Path:
    path = folder / name
    path.write_text(json.dumps(issue_payload(body, **fields), ensure_ascii=False), encoding="utf-8")
    return path


def test_urls_in_issue_text() -> None:
    body = ("请帮忙存档：https://mp.weixin.qq.com/s/AbC，还有\n"
            "[知乎](https://zhuanlan.zhihu.com/p/123) 和 <https://matters.town/@a/1-x>.\n"
            "https://en.wikipedia.org/wiki/Foo_(bar) again https://mp.weixin.qq.com/s/AbC\n"
            "not this: ftp://example.com/x")
    assert urls_in_text(body) == [
        "https://mp.weixin.qq.com/s/AbC",
        "https://zhuanlan.zhihu.com/p/123",
        "https://matters.town/@a/1-x",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
    ]


def test_blob_url_quotes_the_path() -> None:
    assert blob_url("reader/mirror", "main", "requests/2024/02/河流 改道-0123456789ab.md") == (
        "https://github.com/reader/mirror/blob/main/requests/2024/02/"
        "%E6%B2%B3%E6%B5%81%20%E6%94%B9%E9%81%93-0123456789ab.md")


def test_from_issue_writes_links_and_reasons(setup, httpserver: HTTPServer) -> None:
    folder, config, remote = setup
    httpserver.expect_request("/river.html").respond_with_data(
        (PAGES / "generic.html").read_bytes(), content_type="text/html; charset=utf-8")
    page = httpserver.url_for("/river.html")
    # Archived earlier (the test server is on loopback, which the command itself refuses).
    [done] = archive_urls(load_config(config), [page], allow_private=True)
    refused = "http://10.0.0.1/admin"
    event = event_file(folder, f"请存档这两个网页：\n{page}\n{refused}。谢谢")
    comment = folder / "comment.md"
    result = CliRunner().invoke(app, ["archive", "--config", str(config), "--from-issue",
                                      str(event), "--comment-out", str(comment)])
    assert result.exit_code == 1, result.output
    text = comment.read_text(encoding="utf-8")
    link = blob_url("reader/mirror", "main", done.path)
    assert text.splitlines()[:2] == ["<!-- newsmirror-request -->",
                                     "已存档 1/2 个网页。 Archived 1 of 2 pages."]
    assert f"[河流改道之后的村庄]({link}) ← ` {page} `" in text
    assert f"- 失败 failed: ` {refused} ` — ` " in text and "10.0.0.1 is a private address" in text
    assert len(httpserver.log) == 1  # the existing page was not fetched again


def test_from_issue_all_archived_exits_zero(setup, httpserver: HTTPServer) -> None:
    folder, config, remote = setup
    httpserver.expect_request("/river.html").respond_with_data(
        (PAGES / "generic.html").read_bytes(), content_type="text/html")
    page = httpserver.url_for("/river.html")
    archive_urls(load_config(config), [page], allow_private=True)
    event = event_file(folder, f"[网页]({page})")
    comment = folder / "comment.md"
    result = CliRunner().invoke(app, ["archive", "-c", str(config), "--from-issue", str(event),
                                      "--comment-out", str(comment), "--no-push"])
    assert result.exit_code == 0, result.output
    assert "早已存档 already archived" in comment.read_text(encoding="utf-8")


def test_from_issue_without_urls(setup) -> None:
    folder, config, _remote = setup
    event = event_file(folder, "请存档那篇文章，谢谢")
    comment = folder / "comment.md"
    result = CliRunner().invoke(app, ["archive", "-c", str(config), "--from-issue", str(event),
                                      "--comment-out", str(comment)])
    assert result.exit_code == 1
    assert "No web address found" in comment.read_text(encoding="utf-8")


def test_bad_event_file(setup) -> None:
    folder, config, _remote = setup
    bad = folder / "bad.json"
    bad.write_text('{"action": "opened"}')
    result = CliRunner().invoke(app, ["archive", "-c", str(config), "--from-issue", str(bad)])
    assert result.exit_code == 2


def test_urls_on_the_command_line_are_refused_on_loopback(setup, httpserver: HTTPServer) -> None:
    _folder, config, _remote = setup
    result = CliRunner().invoke(app, ["archive", "-c", str(config), "--no-push",
                                      httpserver.url_for("/x")])
    assert result.exit_code == 1
    assert "loopback" in result.output
    assert httpserver.log == []


def test_render_comment_push_note() -> None:
    from newsmirror.jobs.requests import RequestOutcome

    text = render_comment([RequestOutcome("https://a.example/x", "archived", "https://a.example/x",
                                          "requests/2024/01/x-0123456789ab.md", "标题 [1]")],
                          full_name="o/r", branch="main", pushed=False)
    assert "[标题 \\[1\\]](https://github.com/o/r/blob/main/requests/2024/01/x-0123456789ab.md)" in text
    assert "the push failed" in text


def test_request_workflow() -> None:
    import yaml as pyyaml

    text = request_workflow_yaml()
    assert "${{ github.event.issue.body" not in text  # never paste issue text into a shell
    assert "${{ github.event.issue.title" not in text
    flow = pyyaml.safe_load(text)
    assert flow[True]["issues"]["types"] == ["opened", "labeled"]  # YAML 1.1: `on` is true
    assert "concurrency" not in flow, "never the mirror's group, nor one for events it skips"
    job = flow["jobs"]["archive"]
    assert job["concurrency"] == {"group": "newsmirror-request-${{ github.event.issue.number }}",
                                  "cancel-in-progress": False}
    assert "github.event.label.name == 'archive'" in job["if"]
    steps = {step.get("name", step.get("uses")): step for step in job["steps"]}
    assert steps["actions/setup-python@v5"]["with"]["cache"] == "pip"
    lookup = steps["Look up earlier replies and requests"]
    assert lookup["env"]["AUTHOR"] == "${{ github.event.issue.user.login }}"  # env, not the script
    assert "> replies.json" in lookup["run"] and "> recent.json" in lookup["run"]
    archive = steps["Archive the pages named in the issue"]
    command = next(line for line in archive["run"].replace("\\\n", " ").splitlines()
                   if line.startswith("newsmirror "))
    assert command.split() == [
        "newsmirror", "archive", "--config", "newsmirror.toml", "--from-issue", '"$GITHUB_EVENT_PATH"',
        "--replies", "replies.json", "--recent", "recent.json", "--label", "archive",
        "--comment-out", "comment.md", "||", "status=$?"]
    assert archive["run"].rstrip().endswith('exit "$status"')  # its exit code is the step's
    assert "continue-on-error" not in archive  # a failed page or push turns the job red
    reply = steps["Reply on the issue"]
    assert "--body-file comment.md" in reply["run"]
    assert reply["if"] == "always() && hashFiles('comment.md') != ''"  # a red job replies too
    close = steps["Close the issue when every page was archived"]
    assert close["if"] == "steps.archive.outcome == 'success' && hashFiles('comment.md') != ''"
