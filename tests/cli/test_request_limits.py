"""The request workflow's guards, through the real `newsmirror archive --from-issue`:
events shaped like GitHub's `issues` payloads, a real archive with a bare remote, pages
from a loopback server (archived beforehand through the API, since the command refuses
loopback addresses, or refused addresses that are never fetched)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from newsmirror.archive.paths import REQUESTS_LIST
from tests.helpers import archive_urls
from newsmirror.cli import app
from newsmirror.cli.archive import MAX_REPLY_BYTES, REPLY_MARKER, urls_in_text
from newsmirror.config import load_config
from tests.cli.test_archive_cli import event_file
from tests.helpers import bare_remote, git

BOT = {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"}


def make(tmp_path: Path, requests: str = "") -> tuple[Path, Path]:
    remote = bare_remote(tmp_path / "remote.git")
    config = tmp_path / "newsmirror.toml"
    config.write_text(f"""
[archive]
path = "archive"
remote = "{remote}"

[requests]
{requests}

[[sources]]
slug = "voa"
name = "美国之音"
url = "http://127.0.0.1:9/feed.xml"
""", encoding="utf-8")
    return config, remote


def archive_cli(config: Path, event: Path, *extra: str):
    comment = event.with_suffix(".reply.md")
    result = CliRunner().invoke(app, ["archive", "-c", str(config), "--from-issue", str(event),
                                      "--comment-out", str(comment), *extra])
    return result, (comment.read_text(encoding="utf-8") if comment.exists() else None)


def api_file(path: Path, *pages: list) -> Path:
    """What `gh api --paginate` writes: one JSON array per page, back to back."""
    path.write_text("".join(json.dumps(page) for page in pages), encoding="utf-8")
    return path


def test_events_for_other_labels_are_skipped_without_a_reply(tmp_path: Path):
    config, _ = make(tmp_path, 'who_may_ask = "everyone"')
    for fields in ({"action": "opened", "labels": ()},
                   {"action": "opened", "labels": ("question",)},
                   {"action": "labeled", "labels": ("archive", "bug"), "added": "bug"},
                   {"action": "edited"}):
        event = event_file(tmp_path, "http://10.0.0.1/x", **fields)
        result, reply = archive_cli(config, event)
        assert result.exit_code == 0, (fields, result.output)
        assert reply is None and "nothing to do" in result.stderr, fields
    assert not (tmp_path / "archive" / "requests").exists()


def test_each_issue_is_handled_once(tmp_path: Path, httpserver: HTTPServer):
    config, remote = make(tmp_path)
    page = httpserver.url_for("/p.html")
    httpserver.expect_request("/p.html").respond_with_data(
        "<html><head><title>一页</title></head><body><article><p>" + "正文。" * 100 +
        "</p></article></body></html>", content_type="text/html; charset=utf-8")
    archive_urls(load_config(config), [page], allow_private=True)
    head = git("rev-parse", "main", cwd=remote)
    # Opened with the label: GitHub sends `opened` and `labeled`; the runs queue one after
    # the other (one concurrency group per issue), and the second sees the first's reply.
    opened = event_file(tmp_path, f"请存档 {page}", name="opened.json")
    result, reply = archive_cli(config, opened, "--replies", str(api_file(tmp_path / "r0.json", [])))
    assert result.exit_code == 0, result.output
    assert reply.startswith(REPLY_MARKER + "\n") and "早已存档 already archived" in reply
    replies = api_file(tmp_path / "r1.json",
                       [{"id": 1, "user": {"login": "reader", "type": "User"}, "body": "谢谢"}],
                       [{"id": 2, "user": BOT, "body": reply}])
    labeled = event_file(tmp_path, f"请存档 {page}", name="labeled.json", action="labeled",
                         added="archive")
    again, second = archive_cli(config, labeled, "--replies", str(replies))
    assert again.exit_code == 0 and second is None
    assert "already has newsmirror's reply" in again.stderr
    assert git("rev-parse", "main", cwd=remote) == head
    # The marker in a person's comment does not count: anyone can type it.
    forged = api_file(tmp_path / "r2.json", [{"id": 3, "user": {"login": "troll", "type": "User"},
                                               "body": REPLY_MARKER}])
    result, reply = archive_cli(config, labeled, "--replies", str(forged))
    assert result.exit_code == 0 and reply.startswith(REPLY_MARKER)


def test_only_collaborators_by_default(tmp_path: Path, httpserver: HTTPServer):
    config, remote = make(tmp_path)
    for association in ("NONE", "CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR"):
        event = event_file(tmp_path, f"{httpserver.url_for('/a')} http://10.0.0.1/",
                           association=association, login="stranger")
        result, reply = archive_cli(config, event)
        assert result.exit_code == 0, result.output
        assert reply == (f"{REPLY_MARKER}\n这个存档只接受仓库协作者的请求。 This archive takes "
                         "requests only from the repository's collaborators.\n")
    assert httpserver.log == [] and git("ls-remote", str(remote), cwd=tmp_path) == ""
    for association in ("OWNER", "MEMBER", "COLLABORATOR"):
        event = event_file(tmp_path, "http://10.0.0.1/", association=association)
        result, reply = archive_cli(config, event)
        assert result.exit_code == 1 and "10.0.0.1 is a private address" in reply, association


def test_requests_per_person_per_day(tmp_path: Path):
    config, _ = make(tmp_path, 'who_may_ask = "everyone"\nper_person_per_day = 2')

    def issue(number: int, created: str, login: str = "stranger", **more) -> dict:
        return {"number": number, "created_at": created, "user": {"login": login}, **more}

    event = event_file(tmp_path, "http://10.0.0.1/", number=50, association="NONE",
                       login="stranger", created_at="2026-03-02T08:00:00Z")
    earlier = [issue(41, "2026-03-01T09:00:00Z"), issue(50, "2026-03-02T08:00:00Z"),
               issue(30, "2026-02-28T09:00:00Z"),  # more than a day before
               issue(44, "2026-03-02T07:00:00Z", login="someone-else"),
               issue(45, "2026-03-02T07:30:00Z", pull_request={"url": "x"})]
    result, reply = archive_cli(config, event, "--recent",
                                str(api_file(tmp_path / "recent.json", earlier)))
    assert result.exit_code == 1 and "10.0.0.1 is a private address" in reply  # served
    earlier.append(issue(47, "2026-03-02T02:00:00Z"))
    result, reply = archive_cli(config, event, "--recent",
                                str(api_file(tmp_path / "recent.json", earlier)))
    assert result.exit_code == 0, result.output
    assert "At most 2 requests per person a day" in reply and "10.0.0.1" not in reply
    # Collaborators are not counted.
    owner = event_file(tmp_path, "http://10.0.0.1/", number=50, association="OWNER",
                       login="stranger", created_at="2026-03-02T08:00:00Z")
    result, reply = archive_cli(config, owner, "--recent", str(tmp_path / "recent.json"))
    assert "private address" in reply


def test_urls_per_issue_are_capped_and_the_reply_fits(tmp_path: Path):
    body = "\n".join(f"http://10.{i // 65536}.{i // 256 % 256}.{i % 256}/{'x' * 40}"
                     for i in range(5000))
    config, _ = make(tmp_path)
    result, reply = archive_cli(config, event_file(tmp_path, body))
    assert result.exit_code == 1
    assert reply.count("- 失败 failed:") == 10
    assert "4990 more addresses were not processed: at most 10 per request." in reply
    assert "10.0.0.10/" not in reply  # the 11th address
    # Even when the operator allows thousands, the reply stays under the host's limit.
    config, _ = make(tmp_path / "big", "max_urls = 5000")
    result, reply = archive_cli(config, event_file(tmp_path, body))
    assert result.exit_code == 1
    assert len(reply.encode("utf-8")) <= MAX_REPLY_BYTES < 65_536
    assert "more lines left out" in reply and "not processed" not in reply
    assert reply.count("- 失败 failed:") > 50


def test_sites_limit_what_may_be_asked_for(tmp_path: Path):
    config, _ = make(tmp_path, 'who_may_ask = "everyone"\nsites = ["10.0.0.1"]')
    event = event_file(tmp_path, "http://10.0.0.2/a http://10.0.0.1/b http://sub.10.0.0.1.example/c")
    result, reply = archive_cli(config, event)
    assert result.exit_code == 1
    lines = [line for line in reply.splitlines() if line.startswith("- ")]
    assert len(lines) == 3
    assert "10.0.0.2/a" in lines[0] and "not on this archive's list of sites" in lines[0]
    assert "10.0.0.1/b" in lines[1] and "private address" in lines[1]
    assert "not on this archive's list of sites" in lines[2]


HOSTILE_TITLE = ('@everyone ![x](https://evil.example/t.png) <img src=x onerror=alert(1)> '
                 '[click](javascript:alert(1)) **bold** #1 www.evil.example <!-- -->')


def _outside_links_and_code(html: str) -> str:
    html = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return re.sub(r"<a href=\"https://github\.com/reader/mirror/blob/[^\"]+\">.*?</a>", "", html,
                  flags=re.S)


@pytest.mark.parametrize("url_tail", [
    "x?q=@octocat", "x?a=<script>alert(1)</script>", "x#`code`![i](https://evil.example/i.png)",
    "x?title=[a](https://evil.example)", "x?u=www.evil.example&m=@everyone",
])
def test_the_reply_echoes_nothing_that_renders(tmp_path: Path, httpserver: HTTPServer, url_tail: str):
    config, _ = make(tmp_path)
    html = (f"<html><head><title>{HOSTILE_TITLE.replace('<', '&lt;')}</title></head><body><article><p>"
            + "正文。" * 100 + "</p></article></body></html>")
    httpserver.expect_request("/hostile.html").respond_with_data(html, content_type="text/html")
    page = httpserver.url_for("/hostile.html")
    [done] = archive_urls(load_config(config), [page], allow_private=True)
    assert "<img src=x" in done.title
    hostile_url = f"https://evil.example/{url_tail}"
    event_text = f"{page}\n{hostile_url}\nhttp://10.0.0.1/@admin<b>x</b>"
    event = event_file(tmp_path, event_text)
    result, reply = archive_cli(config, event)
    assert result.exit_code == 1
    rendered = MarkdownIt("commonmark").render(reply)
    # Only our links (to the archived file) exist; nothing from the request renders as
    # an image, HTML, a link, or text GitHub would turn into a mention or an autolink.
    assert "<img" not in rendered and "<script" not in rendered and "<b>" not in rendered
    [href] = re.findall(r"<a href=\"([^\"]+)\"", rendered)
    assert href.startswith("https://github.com/reader/mirror/blob/main/requests/")
    assert len(re.findall(r"<a href=", rendered)) == 1
    rest = _outside_links_and_code(rendered)
    for danger in ("@", "://", "www.", "<strong>", "<em>", "javascript:", "onerror"):
        assert danger not in rest, (danger, rest)
    # The reply is one line per address: nothing from the page or the issue adds lines.
    asked = urls_in_text(event_text)
    assert len([line for line in reply.splitlines() if line.startswith("- ")]) == len(asked)


def test_parallel_request_runs_each_keep_the_other_listed(tmp_path: Path, httpserver: HTTPServer):
    """Request runs for two issues go side by side (one concurrency group per issue): the
    second push rebases onto the first, and lists/requests.md must list both pages."""
    remote = bare_remote(tmp_path / "remote.git")
    for name in ("a", "b"):
        httpserver.expect_request(f"/{name}.html").respond_with_data(
            f"<html><head><title>页面{name}</title></head><body><article><p>" + "正文。" * 100 +
            "</p></article></body></html>", content_type="text/html; charset=utf-8")
    seed = tmp_path / "seed"
    git("init", "-q", "-b", "main", str(seed), cwd=tmp_path)
    (seed / "README.md").write_text("x\n")
    git("add", "README.md", cwd=seed)
    git("-c", "user.name=o", "-c", "user.email=o@example.org", "commit", "-qm", "start", cwd=seed)
    git("push", "-q", str(remote), "main", cwd=seed)
    configs = []
    for name in ("one", "two"):
        git("clone", "-q", str(remote), str(tmp_path / name), cwd=tmp_path)
        path = tmp_path / f"{name}.toml"
        path.write_text(f'[archive]\npath = "{name}"\n\n[[sources]]\nslug = "voa"\nname = "V"\n'
                        'url = "http://127.0.0.1:9/f.xml"\n', encoding="utf-8")
        configs.append(load_config(path))
    [a] = archive_urls(configs[0], [httpserver.url_for("/a.html")], allow_private=True)
    [b] = archive_urls(configs[1], [httpserver.url_for("/b.html")], allow_private=True)
    listed = git("--git-dir", str(remote), "show", f"main:{REQUESTS_LIST}", cwd=tmp_path)
    assert f"(/{a.path})" in listed and f"(/{b.path})" in listed, listed
    files = git("--git-dir", str(remote), "ls-tree", "-r", "--name-only", "main", cwd=tmp_path)
    assert a.path in files.splitlines() and b.path in files.splitlines()


@pytest.mark.parametrize(("line", "message"), [
    ('who_may_ask = "all"', "requests.who_may_ask: 'all' must be one of everyone, collaborators"),
    ("per_person_per_day = -1", "requests.per_person_per_day: must be 0 (no limit) or more"),
    ("max_urls = 0", "requests.max_urls: must be greater than 0"),
    ('sites = ["https://mp.weixin.qq.com/"]', "requests.sites: 'https://mp.weixin.qq.com/' is not a host name"),
    ("limit = 3", "requests.limit: unknown key"),
])
def test_request_settings_are_checked(tmp_path: Path, line: str, message: str):
    config, _ = make(tmp_path, line)
    result, reply = archive_cli(config, event_file(tmp_path, "http://10.0.0.1/"))
    assert result.exit_code == 2 and reply is None
    assert message in result.stderr and "Traceback" not in result.output
