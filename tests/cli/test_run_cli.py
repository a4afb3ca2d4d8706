"""`newsmirror run`, `check`, `archive` and `watch` through the real command line: failed
pushes against real bare remotes, configuration checks, --source, --force, -q/-v."""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.helpers import bare_remote, git
from tests.jobs.feeds import Item, rss

T0 = 1_764_000_000_000


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmirror", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, check=False)


def toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_config(folder: Path, sources: dict[str, str], *, remote: Path | str | None = None,
                 archive: str = "archive", extra: str = "") -> Path:
    lines = ["[archive]", f"path = {toml_str(archive)}"]
    if remote is not None:
        lines.append(f"remote = {toml_str(str(remote))}")
    lines += [extra, "[fetch]", "timeout = 10", "connect_timeout = 5"]
    for slug, url in sources.items():
        lines += ["[[sources]]", f'slug = "{slug}"', f'name = "源{slug}"', f"url = {toml_str(url)}"]
    path = folder / "newsmirror.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def serve_feed(httpserver: HTTPServer, slug: str, count: int = 2) -> str:
    items = [Item(f"{slug}新闻{i}", httpserver.url_for(f"/{slug}/{i}"), f"<p>{slug}正文{i}</p>",
                  guid=f"{slug}-{i}", date_ms=T0 + i * 60_000) for i in range(count)]
    httpserver.expect_request(f"/{slug}.xml").respond_with_data(
        rss(items), content_type="application/rss+xml")
    return httpserver.url_for(f"/{slug}.xml")


def declining_hook(remote: Path, message: str = "policy: pushes are closed today") -> None:
    hook = remote / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{message}' >&2\nexit 1\n")
    hook.chmod(0o755)


# -- failed pushes ------------------------------------------------------------------------
def test_push_to_a_remote_that_does_not_exist_exits_3_with_gits_words(tmp_path, httpserver):
    missing = tmp_path / "missing.git"
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")}, remote=missing)
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert f"fatal: '{missing}' does not appear to be a git repository" in done.stderr
    assert "fatal: Could not read from remote repository." in done.stderr
    assert "remote unreachable: and the repository exists" not in done.stderr
    assert "Traceback" not in done.stderr
    # The commit stays, and once the remote exists the next run pushes it.
    archive = tmp_path / "archive"
    head = git("rev-parse", "HEAD", cwd=archive)
    assert "a: 2 new" in done.stdout
    bare_remote(missing)
    again = cli("run", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "pushed to origin/main" in again.stdout
    assert git("rev-parse", "main", cwd=missing) == head


def test_push_rejected_by_a_hook_exits_3_with_what_the_remote_said(tmp_path, httpserver):
    remote = bare_remote(tmp_path / "remote.git")
    declining_hook(remote)
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")}, remote=remote)
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "remote: policy: pushes are closed today" in done.stderr
    assert "[remote rejected]" in done.stderr and "pre-receive hook declined" in done.stderr
    assert "error: failed to push some refs" in done.stderr
    assert git("rev-parse", "HEAD", cwd=tmp_path / "archive")  # the commit is kept
    assert subprocess.run(["git", "rev-parse", "--verify", "-q", "main"], cwd=remote,
                          capture_output=True, check=False).returncode != 0


def test_a_removed_remote_exits_3_and_the_commits_wait(tmp_path, httpserver):
    remote = bare_remote(tmp_path / "remote.git")
    url = serve_feed(httpserver, "a", count=1)
    write_config(tmp_path, {"a": url}, remote=remote)
    assert cli("run", cwd=tmp_path).returncode == 0
    shutil.rmtree(remote)
    httpserver.clear()
    serve_feed(httpserver, "a", count=3)
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "does not appear to be a git repository" in done.stderr
    assert "a: 2 new" in done.stdout


def test_an_unreachable_git_server_exits_3(tmp_path, httpserver):
    httpserver.expect_request("/repo.git/info/refs").respond_with_data("down", status=503)
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")},
                 remote=httpserver.url_for("/repo.git"))
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "fatal: unable to access" in done.stderr and "503" in done.stderr


def test_push_on_with_no_remote_is_a_configuration_error(tmp_path, httpserver):
    url = serve_feed(httpserver, "a")
    write_config(tmp_path, {"a": url})
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 2
    assert "newsmirror.toml: archive.push:" in done.stderr and "archive.remote" in done.stderr
    assert not (tmp_path / "archive").exists()  # nothing touched
    assert httpserver.log == []
    # Only committing is fine: --no-push, or push = false.
    assert cli("run", "--no-push", cwd=tmp_path).returncode == 0
    write_config(tmp_path, {"a": url}, extra="push = false")
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    # A remote the archive's own git knows (a clone's origin) is somewhere to push.
    remote = bare_remote(tmp_path / "remote.git")
    write_config(tmp_path, {"a": url})
    git("remote", "add", "origin", str(remote), cwd=tmp_path / "archive")
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert git("rev-parse", "main", cwd=remote) == git("rev-parse", "HEAD", cwd=tmp_path / "archive")


def test_archive_and_watch_fail_a_push_the_same_way(tmp_path, httpserver):
    remote = bare_remote(tmp_path / "remote.git")
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")}, remote=remote)
    assert cli("run", "--no-push", cwd=tmp_path).returncode == 0
    declining_hook(remote, "closed for archive requests")
    reply = tmp_path / "reply.md"
    done = cli("archive", "http://127.0.0.1/x", "--comment-out", str(reply), cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "remote: closed for archive requests" in done.stderr
    assert reply.is_file()  # the reply is still written for the workflow to post
    done = cli("watch", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "remote: closed for archive requests" in done.stderr
    for command in (["archive", "http://127.0.0.1/x"], ["watch"]):
        write_config(tmp_path, {"a": "http://127.0.0.1/a.xml"}, archive="elsewhere")
        done = cli(*command, cwd=tmp_path)
        assert done.returncode == 2 and "archive.push" in done.stderr, command


# -- check --------------------------------------------------------------------------------
BAD = """\
[archive]
branch = "a..b"

[fetch]
timeout = inf
connect_timeout = nan

[images]
proxy = ["https://img.test/?u=${hrf}"]

[defaults]
convert = "t2x"

[[sources]]
slug = "one"
name = "一"
url = "https://news.test/a feed.xml"
selector = "div[[x"
remove = [".ok", "p >> q"]

[[sources]]
slug = "two"
name = "二"
url = "https://news.test/two.xml"
image_proxy = ["https://p.test/${nope}"]
"""


def test_check_lists_every_problem_with_file_and_key(tmp_path: Path):
    (tmp_path / "newsmirror.toml").write_text(BAD, encoding="utf-8")
    done = cli("check", cwd=tmp_path)
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if "error:" in line]
    expected = {
        "archive.branch": "'a..b' is not a valid git branch name",
        "fetch.timeout": "finite",
        "fetch.connect_timeout": "finite",
        "images.proxy": "unknown placeholder ${hrf}",
        "defaults.convert": "unknown OpenCC config 't2x'",
        "sources[0] (one).url": "space",
        "sources[0] (one).selector": "not a valid CSS selector",
        "sources[0] (one).remove[1]": "not a valid CSS selector",
        "sources[1] (two).image_proxy": "unknown placeholder ${nope}",
        "archive.push": "nowhere to push",
    }
    for key, words in expected.items():
        assert any(f"newsmirror.toml: {key}: " in line and words in line for line in lines), key
    assert len(lines) == len(expected), lines  # each once ([defaults] is not blamed twice)
    assert "Traceback" not in done.stderr
    # run refuses the same way, before touching anything.
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 2
    assert sorted(line.split("error: ", 1)[1] for line in done.stderr.splitlines()
                  if "error:" in line) == sorted(line.split("error: ", 1)[1] for line in lines)
    assert not (tmp_path / "archive").exists()


def test_check_passes_a_good_configuration_and_names_a_bad_site_rules_file(tmp_path: Path):
    remote = bare_remote(tmp_path / "remote.git")
    write_config(tmp_path, {"a": "https://news.test/a.xml"}, remote=remote)
    done = cli("check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "newsmirror.toml: ok" in done.stdout
    assert not (tmp_path / "archive").exists()
    (tmp_path / "rules.toml").write_text('[x]\nhosts = ["x.test"]\nselector = "div[["\n')
    text = (tmp_path / "newsmirror.toml").read_text()
    (tmp_path / "newsmirror.toml").write_text('site_rules = "rules.toml"\n' + text)
    done = cli("check", "--config", "newsmirror.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert "newsmirror.toml: site_rules:" in done.stderr and "invalid CSS selector" in done.stderr


@pytest.mark.parametrize("setting, key", [
    ('[archive]\nbranch = "main.lock"', "archive.branch"),
    ("[fetch]\nmax_retry_after = inf", "fetch.max_retry_after"),
    ('[defaults]\nconvert = "s2t.json"', None),
    ('[images]\nproxy = ["https://wsrv.nl/?url=${href_ue}&h=${hostname}"]', None),
])
def test_check_single_settings(tmp_path: Path, setting: str, key: str | None):
    (tmp_path / "newsmirror.toml").write_text(
        setting + '\n[[sources]]\nslug = "a"\nname = "A"\nurl = "https://news.test/a.xml"\n',
        encoding="utf-8")
    done = cli("check", "--no-push", cwd=tmp_path)
    if key is None:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode == 2 and f"newsmirror.toml: {key}: " in done.stderr


# -- choosing sources, backoff, -q/-v ---------------------------------------------------
def test_run_source_runs_only_the_named_sources(tmp_path, httpserver):
    urls = {slug: serve_feed(httpserver, slug) for slug in ("a", "b", "c")}
    write_config(tmp_path, urls, remote=bare_remote(tmp_path / "remote.git"))
    done = cli("run", "--source", "a", "-s", "c", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "a: 2 new" in done.stdout and "c: 2 new" in done.stdout and "b:" not in done.stdout
    assert sorted(p.name for p in (tmp_path / "archive" / "articles").iterdir()) == ["a", "c"]
    assert {request.path for request, _ in httpserver.log} == {"/a.xml", "/c.xml"}
    done = cli("run", "--source", "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert "--source nope" in done.stderr and "a, b, c" in done.stderr
    # The sources left out keep what they had: the next full run brings b's articles.
    done = cli("run", cwd=tmp_path)
    assert "b: 2 new" in done.stdout and "a: 0 new" in done.stdout


def test_force_ignores_backoff(tmp_path, httpserver):
    state = {"ok": False}
    feed = rss([Item("新闻", "https://news.test/1", "<p>正文</p>", guid="1", date_ms=T0)])

    def handler(request):
        from werkzeug import Response

        if state["ok"]:
            return Response(feed, content_type="application/rss+xml")
        return Response("down", status=500)

    httpserver.expect_request("/a.xml").respond_with_handler(handler)
    write_config(tmp_path, {"a": httpserver.url_for("/a.xml")},
                 remote=bare_remote(tmp_path / "remote.git"))
    first = cli("run", cwd=tmp_path)
    assert first.returncode == 1 and "a: FAILED" in first.stdout
    state["ok"] = True  # the source is fixed, but it backs off for an hour
    waiting = cli("run", cwd=tmp_path)
    assert "a: skipped, backing off" in waiting.stdout
    forced = cli("run", "--force", "--source", "a", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert "a: 1 new" in forced.stdout


def test_quiet_and_verbose_after_the_command(tmp_path, httpserver):
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")},
                 remote=bare_remote(tmp_path / "remote.git"))
    verbose = cli("run", "-v", "--no-push", cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    assert "a: finished" in verbose.stderr
    quiet = cli("run", "--no-push", "-q", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and "a: 0 new" in quiet.stdout
    both = cli("check", "--quiet", "--verbose", cwd=tmp_path)
    assert both.returncode == 0 and both.stderr == ""
    assert cli("-q", "sources", "-v", cwd=tmp_path).returncode == 0


def test_an_archive_that_cannot_be_made_is_one_line_and_exit_3(tmp_path: Path):
    write_config(tmp_path, {"a": "http://127.0.0.1/a.xml"}, extra="push = false")
    (tmp_path / "archive").write_text("a file where the archive should be")
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 3
    assert "Traceback" not in done.stderr
    assert f"cannot use {tmp_path / 'archive'}" in done.stderr


# -- mirrors ------------------------------------------------------------------------------
def test_a_failing_mirror_is_a_warning_and_exit_0_a_failing_primary_exit_3(tmp_path, httpserver):
    remote = bare_remote(tmp_path / "remote.git")
    good, bad = bare_remote(tmp_path / "good.git"), bare_remote(tmp_path / "bad.git")
    declining_hook(bad, "mirror: read-only")
    mirrors = "\n".join(f'[[archive.mirrors]]\nname = "{name}"\nurl = {toml_str(str(path))}\n'
                        "retry_delay = 0" for name, path in (("bad", bad), ("good", good)))
    write_config(tmp_path, {"a": serve_feed(httpserver, "a")}, remote=remote, extra=mirrors)
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "pushed to origin/main" in done.stdout
    assert f"pushed to mirror good ({good})" in done.stdout
    [line] = [x for x in done.stderr.splitlines() if "mirror bad" in x]
    assert " warning: mirror bad (" in line and "push failed (1 in a row" in line
    assert "mirror: read-only" in done.stderr
    assert git("rev-parse", "main", cwd=good) == git("rev-parse", "main", cwd=remote)

    # The primary refuses: exit 3, and the mirror still gets the new commit.
    declining_hook(remote)
    httpserver.clear()
    serve_feed(httpserver, "a", count=3)
    done = cli("run", cwd=tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "policy: pushes are closed today" in done.stderr
    head = git("rev-parse", "HEAD", cwd=tmp_path / "archive")
    assert git("rev-parse", "main", cwd=good) == head != git("rev-parse", "main", cwd=remote)
    assert "mirror bad: skipped, backing off until" in done.stderr


def test_check_counts_the_mirrors_and_warns_of_an_unset_secret(tmp_path: Path):
    remote = bare_remote(tmp_path / "remote.git")
    mirrors = ('[[archive.mirrors]]\nname = "disk"\nurl = "backup.git"\n'
               '[[archive.mirrors]]\nname = "gl"\nurl_env = "NEWSMIRROR_TEST_UNSET_SECRET"\n')
    write_config(tmp_path, {"a": "https://news.test/a.xml"}, remote=remote, extra=mirrors)
    done = cli("check", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert ", 2 mirrors)" in done.stdout
    assert "archive.mirrors (gl).url_env: $NEWSMIRROR_TEST_UNSET_SECRET is not set here" in done.stderr
    write_config(tmp_path, {"a": "https://news.test/a.xml"}, remote=remote,
                 extra='[[archive.mirrors]]\nname = "x"\nurl = "git@h:a b"\n')
    done = cli("check", cwd=tmp_path)
    assert done.returncode == 2
    assert "newsmirror.toml: archive.mirrors[0] (x).url: 'git@h:a b' contains a space" in done.stderr


def test_a_refused_page_is_a_warning_line_without_verbose(tmp_path, httpserver):
    url = serve_feed(httpserver, "a", count=1)
    httpserver.expect_request("/a/0").respond_with_data("Forbidden", status=403)
    write_config(tmp_path, {"a": url}, extra='[defaults]\nfull_text = "page"')
    result = cli("run", "--no-push", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "a: 1 new" in result.stdout
    assert (f"warning:   {httpserver.url_for('/a/0')}: page refused (403): HTTP 403 Forbidden; "
            "the feed's own text is kept") in result.stderr


def test_check_warns_when_the_one_site_would_pass_what_a_host_publishes(tmp_path: Path):
    from newsmirror.checks import SITE_BYTES_PER_ARTICLE, site_size_warning
    from newsmirror.config import load_config

    write_config(tmp_path, {"a": "https://news.test/a.xml"})
    folder = tmp_path / "archive" / "articles" / "a" / "2026" / "12"
    folder.mkdir(parents=True)
    for n in range(3):
        (folder / f"{n}.md").write_text("x", encoding="utf-8")
    git("init", "-q", cwd=tmp_path / "archive")
    git("add", "articles", cwd=tmp_path / "archive")
    done = cli("check", "--no-push", cwd=tmp_path)
    assert done.returncode == 0 and "rotate" not in done.stderr, done.stderr
    config = load_config(tmp_path / "newsmirror.toml")
    assert site_size_warning(config) is None  # three committed articles
    fits = int(config.site_max_mb * 1e6) // SITE_BYTES_PER_ARTICLE  # 1 GB, GitHub Pages' limit
    assert site_size_warning(config, fits) is None
    warning = site_size_warning(config, fits + 1)
    assert warning is not None and "archive.rotate" in warning and 'rotate = "yearly"' in warning
    assert f"{fits:,} articles" in warning
    yearly = load_config(tmp_path / "newsmirror.toml")
    assert site_size_warning(replace(yearly, rotate="yearly"), 10 * fits) is None
    # A host that publishes less ([site] max_mb): the warning comes sooner.
    smaller = replace(config, site_max_mb=100.0)
    assert site_size_warning(smaller, fits // 10 + 1) is not None and site_size_warning(smaller, fits // 10) is None
    # A host that publishes more: the warning comes later, where `newsmirror site` refuses.
    larger = replace(config, site_max_mb=2000.0)
    assert site_size_warning(larger, 2 * fits) is None and site_size_warning(larger, 2 * fits + 1) is not None
