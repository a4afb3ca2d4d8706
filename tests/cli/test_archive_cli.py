"""`newsmirror archive --from-issue`: the issue event in, the reply file out, against a real
archive with a bare remote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from tests.helpers import bare_remote, git
from newsmirror.archive.requests import archive_urls
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


def event_file(folder: Path, body: str) -> Path:
    event = {
        "action": "opened",
        "issue": {"number": 12, "title": "请存档", "body": body,
                  "html_url": "https://github.com/reader/mirror/issues/12",
                  "labels": [{"name": "archive"}]},
        "repository": {"full_name": "reader/mirror"},
    }
    path = folder / "event.json"
    path.write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
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
    assert text.splitlines()[0] == "已存档 1/2 个网页。 Archived 1 of 2 pages."
    assert f"[河流改道之后的村庄]({link}) ← {page}" in text
    assert f"- 失败 failed: {refused} — " in text and "10.0.0.1 is a private address" in text
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
    from newsmirror.archive.requests import RequestOutcome

    text = render_comment([RequestOutcome("https://a.example/x", "archived", "https://a.example/x",
                                          "requests/2024/01/x-0123456789ab.md", "标题 [1]")],
                          full_name="o/r", branch="main", pushed=False)
    assert "[标题 \\[1\\]](https://github.com/o/r/blob/main/requests/2024/01/x-0123456789ab.md)" in text
    assert "the push failed" in text


def test_request_workflow() -> None:
    yaml = request_workflow_yaml()
    assert "types: [opened, labeled]" in yaml
    assert "group: newsmirror" in yaml
    assert 'python-version: "3.11"' in yaml and "cache: pip" in yaml
    assert 'newsmirror archive --config newsmirror.toml --from-issue "$GITHUB_EVENT_PATH" --comment-out comment.md' in yaml
    assert "gh issue comment ${{ github.event.issue.number }}" in yaml
    assert "--body-file comment.md" in yaml
    assert "if: steps.archive.outcome == 'success'" in yaml
    assert "${{ github.event.issue.body" not in yaml  # never paste issue text into a shell
    try:
        import yaml as pyyaml
    except ImportError:
        return
    parsed = pyyaml.safe_load(yaml)
    assert parsed["concurrency"]["group"] == "newsmirror"
