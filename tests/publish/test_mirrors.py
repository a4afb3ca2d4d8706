"""Mirrors ([[archive.mirrors]]): several bare remotes on disk receive every push, each on
its own. One refuses (a pre-receive hook), one is read-only, one is removed between runs;
the others must still get every commit, and the primary's success decides the exit.

Runs happen as on an ephemeral runner: each in a fresh clone of the primary (shallow, as
the generated workflow checks out, where the test says so) with the cache folder the
previous run left."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from newsmirror.archive.store import open_store
from newsmirror.config import ConfigError, parse_config
from newsmirror.jobs.mirror import run_mirror
from newsmirror.publish.derived import write_lists
from newsmirror.addresses import derive_kind, derive_web
from newsmirror.publish.mirrors import (
    CACHED_MIRRORS_FILE,
    MIRRORS_FILE,
    raw_address,
    read_states,
    reader_copies,
)
from newsmirror.sources.health import HOUR_MS
from tests.helpers import bare_remote, git
from tests.jobs.feeds import Item, serve_news

T0 = 1_764_000_000_000


def refusing(path: Path, words: str = "this mirror takes no pushes") -> Path:
    """A bare repository whose pre-receive hook refuses every push."""
    bare_remote(path)
    hook = path / "hooks" / "pre-receive"
    hook.write_text(f"#!/bin/sh\necho '{words}' >&2\nexit 1\n")
    hook.chmod(0o755)
    return path


def read_only(path: Path) -> Path:
    """A bare repository nobody may write to (its files and folders without write bits).
    Write bits do not stop root: there, its `update` hook refuses every ref instead, the
    way a host's protected, read-only repository answers."""
    bare_remote(path)
    if os.geteuid() == 0:
        hook = path / "hooks" / "update"
        hook.write_text("#!/bin/sh\necho \"error: $1 is read-only\" >&2\nexit 1\n")
        hook.chmod(0o755)
    for folder, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            target = Path(folder) / name
            target.chmod(target.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    path.chmod(path.stat().st_mode & ~stat.S_IWUSR)
    return path


def make_writable(path: Path) -> None:
    (path / "hooks" / "update").unlink(missing_ok=True)
    for folder, dirs, _files in os.walk(path):
        Path(folder).chmod(0o755)
        for name in dirs:
            (Path(folder) / name).chmod(0o755)


class Runs:
    """Mirror runs of the real pipeline, each on a fresh clone of the primary."""

    def __init__(self, tmp: Path, server: HTTPServer, depth: int | None = None):
        self.tmp, self.server, self.depth = tmp, server, depth
        self.primary = bare_remote(tmp / "primary.git")
        self.count = 0
        self.saved: Path | None = None
        self.archive: Path = tmp
        self.items: list[Item] = []

    def publish(self, n: int = 1) -> None:
        serve_news(self.server, self.items, n, start_ms=T0)

    def config(self, mirrors: list[dict], path: Path, **archive) -> dict:
        return {"archive": {"path": str(path), "remote": str(self.primary), "mirrors": mirrors,
                            **archive},
                "fetch": {"timeout": 5, "connect_timeout": 2},
                "sources": [{"slug": "voa", "name": "美国之音",
                             "url": self.server.url_for("/feed.xml")}]}

    def run(self, mirrors: list[dict], now_ms: int, extra: dict | None = None, **archive):
        self.count += 1
        clone = self.tmp / f"runner{self.count}"
        if git("rev-list", "--all", "--count", cwd=self.primary) == "0":
            clone.mkdir()
        elif self.depth:
            git("clone", "-q", "--depth", str(self.depth), f"file://{self.primary}", str(clone),
                cwd=self.tmp)
        else:
            git("clone", "-q", str(self.primary), str(clone), cwd=self.tmp)
        if self.saved is not None:
            shutil.copytree(self.saved, clone / ".newsmirror" / "cache")
        data = self.config(mirrors, clone, **archive)
        data.update(extra or {})
        report = asyncio.run(run_mirror(parse_config(data, file="t.toml", base=self.tmp),
                                        now_ms=now_ms))
        self.saved = self.tmp / f"cache{self.count}"
        shutil.copytree(clone / ".newsmirror" / "cache", self.saved)
        self.archive = clone
        return report


def head(repo: Path) -> str | None:
    done = subprocess.run(["git", "rev-parse", "--verify", "-q", "refs/heads/main"], cwd=repo,
                          capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def outcomes(report) -> dict[str, bool | None]:
    return {o.name: o.ok for o in report.mirrors}


def test_every_mirror_is_pushed_on_its_own(tmp_path: Path, httpserver: HTTPServer):
    runs = Runs(tmp_path, httpserver)
    one, two = bare_remote(tmp_path / "one.git"), bare_remote(tmp_path / "two.git")
    gone = bare_remote(tmp_path / "gone.git")
    refuses = refusing(tmp_path / "refuses.git")
    locked = read_only(tmp_path / "locked.git")
    mirrors = [{"name": "one", "url": str(one)}, {"name": "refuses", "url": str(refuses)},
               {"name": "locked", "url": str(locked)}, {"name": "gone", "url": str(gone)},
               {"name": "two", "url": str(two), "attempts": 1}]
    for m in mirrors:
        m["retry_delay"] = 0
    try:
        runs.publish(2)
        first = runs.run(mirrors, T0)
        assert first.push is not None and first.push.ok
        tip = head(runs.primary)
        assert tip and first.commit == tip
        assert outcomes(first) == {"one": True, "refuses": False, "locked": False,
                                   "gone": True, "two": True}
        assert head(one) == head(two) == head(gone) == tip
        assert head(refuses) is None and head(locked) is None
        said = {o.name: o.message for o in first.mirrors}
        assert "this mirror takes no pushes" in said["refuses"]
        assert "mirror refuses" in said["refuses"] and "push failed (1 in a row" in said["refuses"]
        assert "mirror locked" in said["locked"]

        # Between runs one mirror disappears; new articles arrive.
        shutil.rmtree(gone)
        runs.publish(1)
        second = runs.run(mirrors, T0 + HOUR_MS // 2)
        tip2 = head(runs.primary)
        assert tip2 != tip
        assert head(one) == head(two) == tip2
        assert git("rev-list", "--count", "main", cwd=one) == git("rev-list", "--count", "main",
                                                                   cwd=runs.primary)
        got = outcomes(second)
        assert got["gone"] is False and "does not appear to be a git repository" in \
            next(o.message for o in second.mirrors if o.name == "gone")
        # The two that failed an hour ago... half an hour ago: they wait out their backoff.
        assert got["refuses"] is None and got["locked"] is None
        assert "backing off until" in next(o.message for o in second.mirrors if o.name == "refuses")

        state, _, problems = read_states(runs.archive / CACHED_MIRRORS_FILE)
        assert not problems
        assert state["one"].pushed == tip2 and state["one"].failures == 0
        assert state["gone"].failures == 1 and state["gone"].pushed == tip
        assert state["refuses"].failures == 1

        # Later the refusing host lets pushes in and the lost one is back (empty): both
        # get the whole history with their next push, the others stay in step.
        (refuses / "hooks" / "pre-receive").unlink()
        bare_remote(gone)
        make_writable(locked)
        runs.publish(1)
        third = runs.run(mirrors, T0 + 3 * HOUR_MS)
        assert set(outcomes(third).values()) == {True}
        tip3 = head(runs.primary)
        for repo in (one, two, refuses, locked, gone):
            assert head(repo) == tip3
            assert git("fsck", "--no-progress", cwd=repo) == ""
    finally:
        make_writable(locked)


def test_a_failing_primary_does_not_keep_the_mirrors_from_their_copy(tmp_path: Path,
                                                                     httpserver: HTTPServer):
    runs = Runs(tmp_path, httpserver)
    one = bare_remote(tmp_path / "one.git")
    runs.publish(1)
    runs.run([{"name": "one", "url": str(one)}], T0)
    refusing(runs.primary, "primary is down")
    runs.publish(1)
    # The next run's clone: the primary still serves its history, but refuses pushes.
    report = runs.run([{"name": "one", "url": str(one)}], T0 + HOUR_MS)
    assert report.push is not None and not report.push.ok
    assert "primary is down" in report.push.message
    assert outcomes(report) == {"one": True}
    assert head(one) == git("rev-parse", "HEAD", cwd=runs.archive) != head(runs.primary)


@pytest.mark.parametrize("depth", [None, 1])
def test_a_mirror_that_got_a_lost_push_follows_the_primary_again(tmp_path: Path,
                                                                 httpserver: HTTPServer, depth):
    """An ephemeral runner's primary push fails; its commits reach the mirror only. The
    next runner clones the primary and archives the same articles again: the mirror's
    commits hold nothing more, so its branch is brought back to the primary's, instead
    of refusing every later push as not a fast-forward."""
    runs = Runs(tmp_path, httpserver, depth=depth)
    one = bare_remote(tmp_path / "one.git")
    mirrors = [{"name": "one", "url": str(one), "retry_delay": 0}]
    runs.publish(1)
    runs.run(mirrors, T0)
    refusing(runs.primary, "primary is down")
    runs.publish(1)
    lost = runs.run(mirrors, T0 + HOUR_MS)
    assert not lost.push.ok and head(one) != head(runs.primary)
    (runs.primary / "hooks" / "pre-receive").unlink()
    runs.publish(1)
    back = runs.run(mirrors, T0 + 2 * HOUR_MS)
    assert back.push.ok and back.new == 2  # the lost hour's article and the new one
    said = next(o for o in back.mirrors if o.name == "one")
    assert said.ok and "replaced its 1 commit(s) the primary never got" in said.message, said
    assert head(one) == head(runs.primary)
    runs.publish(1)
    after = runs.run(mirrors, T0 + 3 * HOUR_MS)
    assert outcomes(after) == {"one": True} and head(one) == head(runs.primary)


def test_a_mirror_holding_articles_the_primary_lacks_is_never_overwritten(tmp_path: Path,
                                                                         httpserver: HTTPServer):
    """The lost hour's article left the feed before the primary came back: only the mirror
    has it. Replacing the mirror's branch would lose it, so the push fails naming it."""
    runs = Runs(tmp_path, httpserver)
    one = bare_remote(tmp_path / "one.git")
    mirrors = [{"name": "one", "url": str(one), "retry_delay": 0, "attempts": 1}]
    runs.publish(1)
    runs.run(mirrors, T0)
    refusing(runs.primary, "primary is down")
    runs.publish(1)
    runs.run(mirrors, T0 + HOUR_MS)
    kept = head(one)
    (runs.primary / "hooks" / "pre-receive").unlink()
    runs.publish(1)
    del runs.items[1]  # the lost hour's article is gone from the feed
    runs.publish(0)
    back = runs.run(mirrors, T0 + 2 * HOUR_MS)
    assert back.push.ok and back.new == 1
    said = next(o for o in back.mirrors if o.name == "one")
    assert said.ok is False and "it holds 1 file(s) the primary lacks" in said.message, said
    assert "articles/voa/" in said.message
    assert head(one) == kept


def test_a_shallow_clone_catches_up_a_mirror_only_when_it_must(tmp_path: Path,
                                                               httpserver: HTTPServer):
    runs = Runs(tmp_path, httpserver, depth=1)
    one = bare_remote(tmp_path / "one.git")
    mirrors = [{"name": "one", "url": str(one), "retry_delay": 0}]
    for hour in range(3):
        runs.publish(1)
        runs.run(mirrors, T0 + hour * HOUR_MS)
    assert head(one) == head(runs.primary)
    # An ordinary hour on a shallow clone pushes the mirror without fetching the history.
    assert git("rev-parse", "--is-shallow-repository", cwd=runs.archive) == "true"

    # A new, empty mirror cannot take a shallow history: the clone deepens once, and the
    # new mirror gets every commit.
    late = bare_remote(tmp_path / "late.git")
    mirrors.append({"name": "late", "url": str(late), "retry_delay": 0})
    runs.publish(1)
    report = runs.run(mirrors, T0 + 5 * HOUR_MS)
    assert outcomes(report) == {"one": True, "late": True}
    assert head(late) == head(one) == head(runs.primary)
    assert git("rev-list", "--count", "main", cwd=late) == git("rev-list", "--count", "main",
                                                               cwd=runs.primary) == "4"
    assert git("rev-parse", "--is-shallow-repository", cwd=runs.archive) == "false"


def test_mirror_alerts_go_out_once_per_change_of_state(tmp_path: Path, httpserver: HTTPServer):
    hook = HTTPServer(host="127.0.0.1")
    hook.start()
    posts: list[dict] = []

    def receive(request: Request) -> Response:
        posts.append(json.loads(request.data))
        return Response("ok")

    hook.expect_request("/hook", method="POST").respond_with_handler(receive)
    try:
        runs = Runs(tmp_path, httpserver)
        broken = refusing(tmp_path / "broken.git")
        mirrors = [{"name": "broken", "url": str(broken), "web": "https://codeberg.org/x/y",
                    "retry_delay": 0}]
        alerts = {"alerts": {"webhook": hook.url_for("/hook"), "after_failures": 2}}
        runs.publish(1)
        runs.run(mirrors, T0, alerts)
        assert [p.get("mirror") for p in posts] == []  # one failure is not failing yet
        runs.publish(1)
        runs.run(mirrors, T0 + 2 * HOUR_MS, alerts)
        [failing] = [p for p in posts if p.get("mirror")]
        assert failing["event"] == "failing" and failing["consecutive_failures"] == 2
        assert "mirror broken (https://codeberg.org/x/y) is failing" in failing["text"]
        # The committed snapshot takes the change with the next commit.
        runs.publish(1)
        runs.run(mirrors, T0 + 5 * HOUR_MS, alerts)
        committed, _, _ = read_states(runs.archive / MIRRORS_FILE)
        assert committed["broken"].state == "failing" and committed["broken"].alerted == "failing"
        assert len([p for p in posts if p.get("mirror")]) == 1
        (broken / "hooks" / "pre-receive").unlink()
        runs.publish(1)
        runs.run(mirrors, T0 + 30 * HOUR_MS, alerts)
        events = [p["event"] for p in posts if p.get("mirror")]
        assert events == ["failing", "recovered"]
    finally:
        hook.clear()
        hook.stop()


def test_a_lost_cache_costs_only_the_mirror_state_since_the_last_commit(
        tmp_path: Path, httpserver: HTTPServer):
    runs = Runs(tmp_path, httpserver)
    broken = refusing(tmp_path / "broken.git")
    mirrors = [{"name": "broken", "url": str(broken), "retry_delay": 0}]
    extra = {"alerts": {"after_failures": 2}}
    runs.publish(1)
    runs.run(mirrors, T0, extra)                    # the first failure
    runs.publish(1)
    runs.run(mirrors, T0 + 10 * HOUR_MS, extra)     # its commit holds that failure
    committed, _, _ = read_states(runs.archive / MIRRORS_FILE)
    assert committed["broken"].failures == 1
    runs.saved = None                               # the cache is lost
    runs.publish(1)
    report = runs.run(mirrors, T0 + 20 * HOUR_MS, extra)
    assert outcomes(report) == {"broken": False}
    state, _, _ = read_states(runs.archive / CACHED_MIRRORS_FILE)
    # Counted on from the committed snapshot: the second failure in a row makes it failing.
    assert state["broken"].failures == 2 and state["broken"].state == "failing"


# -- the configuration ----------------------------------------------------------------------
def config_error(tmp_path: Path, mirrors) -> str:
    data = {"archive": {"remote": "git@github.com:me/news.git", "mirrors": mirrors},
            "sources": [{"slug": "voa", "name": "VOA", "url": "https://voa.test/feed"}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(data, file="newsmirror.toml", base=tmp_path)
    return str(caught.value)


def test_mirror_configuration_mistakes_name_file_key_and_reason(tmp_path: Path):
    assert config_error(tmp_path, {"name": "x"}) == (
        "newsmirror.toml: archive.mirrors: must be an array of tables ([[archive.mirrors]])")
    assert config_error(tmp_path, [{"url": "/srv/x.git"}]) == \
        "newsmirror.toml: archive.mirrors[0].name: is required"
    assert config_error(tmp_path, [{"name": "a b", "url": "/srv/x.git"}]).startswith(
        "newsmirror.toml: archive.mirrors[0].name: 'a b' must be 1-40 letters")
    assert "give url (where to push) or url_env" in config_error(tmp_path, [{"name": "cb"}])
    assert "exactly one" in config_error(tmp_path, [{"name": "cb", "url": "/x", "url_env": "X"}])
    assert config_error(tmp_path, [{"name": "cb", "url": "/x", "branch": "m"}]).startswith(
        "newsmirror.toml: archive.mirrors[0].branch: unknown key (known keys: attempts, kind,")
    assert config_error(tmp_path, [{"name": "cb", "url": "https://me:tok@gitlab.com/me/n.git"}]) \
        .startswith("newsmirror.toml: archive.mirrors[0] (cb).url: the address holds a password")
    assert "contains a space" in config_error(tmp_path, [{"name": "cb", "url": "/srv/my news"}])
    assert "starts with '-'" in config_error(tmp_path, [{"name": "cb", "url": "--upload-pack=x"}])
    assert config_error(tmp_path, [{"name": "cb", "url": "/x", "kind": "bitbucket"}]) == (
        "newsmirror.toml: archive.mirrors[0] (cb).kind: 'bitbucket' must be one of github, "
        "gitlab, codeberg, gitea, local, other")
    assert "used twice" in config_error(tmp_path, [{"name": "a", "url": "/x"},
                                                   {"name": "a", "url": "/y"}])
    assert "same address as mirror 'a'" in config_error(tmp_path, [{"name": "a", "url": "/x"},
                                                                   {"name": "b", "url": "/x"}])
    assert "primary remote's name" in config_error(tmp_path, [{"name": "origin", "url": "/x"}])
    assert "same address as archive.remote" in config_error(
        tmp_path, [{"name": "gh", "url": "git@github.com:me/news.git"}])
    assert "not an environment variable name" in config_error(
        tmp_path, [{"name": "gl", "url_env": "1X"}])
    assert "(gl).web: 'gitlab.com/me' is not an http(s) address" in config_error(
        tmp_path, [{"name": "gl", "url": "/x", "web": "gitlab.com/me"}])


def test_mirror_addresses_kinds_and_what_readers_are_shown(tmp_path: Path):
    data = {"archive": {"remote": "git@github.com:me/news.git", "mirrors": [
        {"name": "gitlab", "url": "https://gitlab.com/me/news.git"},
        {"name": "codeberg", "url": "git@codeberg.org:me/news.git"},
        {"name": "gitea", "url": "ssh://git@git.example.org:2222/me/news.git", "kind": "gitea"},
        {"name": "disk", "url": "backup/news.git"},
        {"name": "secret", "url_env": "NEWSMIRROR_MIRROR_GITEA", "kind": "gitea",
         "web": "https://gitea.example.net/me/news/"}]},
        "sources": [{"slug": "voa", "name": "VOA", "url": "https://voa.test/feed"}]}
    config = parse_config(data, file="newsmirror.toml", base=tmp_path)
    kinds = {m.name: (m.kind, m.web) for m in config.mirrors}
    assert kinds == {"gitlab": ("gitlab", "https://gitlab.com/me/news"),
                     "codeberg": ("codeberg", "https://codeberg.org/me/news"),
                     "gitea": ("gitea", "https://git.example.org/me/news"),
                     "disk": ("local", None),
                     "secret": ("gitea", "https://gitea.example.net/me/news")}
    assert config.mirrors[3].url == str(tmp_path / "backup" / "news.git")
    copies = reader_copies(config)
    assert [(c.name, c.web, c.feed) for c in copies] == [
        ("origin", "https://github.com/me/news", "https://github.com/me/news/raw/main/feeds/all.xml"),
        ("gitlab", "https://gitlab.com/me/news", "https://gitlab.com/me/news/-/raw/main/feeds/all.xml"),
        ("codeberg", "https://codeberg.org/me/news",
         "https://codeberg.org/me/news/raw/branch/main/feeds/all.xml"),
        ("gitea", "https://git.example.org/me/news",
         "https://git.example.org/me/news/raw/branch/main/feeds/all.xml"),
        ("secret", "https://gitea.example.net/me/news",
         "https://gitea.example.net/me/news/raw/branch/main/feeds/all.xml")]
    assert derive_kind("file:///srv/x.git") == "local" and derive_web("/srv/x.git", "local") is None
    assert raw_address("https://x.test/a", "other", "main", "feeds/all.xml") is None


def test_a_mirror_whose_secret_is_not_set_fails_alone(tmp_path: Path, httpserver: HTTPServer,
                                                      monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("NEWSMIRROR_MIRROR_GITLAB", raising=False)
    runs = Runs(tmp_path, httpserver)
    one = bare_remote(tmp_path / "one.git")
    runs.publish(1)
    report = runs.run([{"name": "gl", "url_env": "NEWSMIRROR_MIRROR_GITLAB"},
                       {"name": "one", "url": str(one)}], T0)
    assert outcomes(report) == {"gl": False, "one": True}
    assert "$NEWSMIRROR_MIRROR_GITLAB is not set" in report.mirrors[0].message
    # Set (as the workflow passes the secret), it is used, and never shown.
    other = bare_remote(tmp_path / "other.git")
    monkeypatch.setenv("NEWSMIRROR_MIRROR_GITLAB", f"file://{other}")
    runs.publish(1)
    report = runs.run([{"name": "gl", "url_env": "NEWSMIRROR_MIRROR_GITLAB"},
                       {"name": "one", "url": str(one)}], T0 + 2 * HOUR_MS)
    assert outcomes(report) == {"gl": True, "one": True}
    assert head(other) == head(one) == head(runs.primary)


def test_the_archive_readme_names_every_copy_and_feed(tmp_path: Path, httpserver: HTTPServer):
    runs = Runs(tmp_path, httpserver)
    one = bare_remote(tmp_path / "one.git")
    runs.publish(1)
    runs.run([{"name": "codeberg", "url": str(one), "kind": "codeberg",
               "web": "https://codeberg.org/me/news"}], T0)
    readme = git("show", "main:README.md", cwd=one)
    assert "- [codeberg](https://codeberg.org/me/news) · [订阅（Atom）]" \
           "(https://codeberg.org/me/news/raw/branch/main/feeds/all.xml)" in readme
    assert "- [全部文章](feeds/all.xml)\n- [美国之音](feeds/voa.xml)" in readme


def test_the_archive_readme_points_to_the_full_text_feed_on_the_site(tmp_path: Path,
                                                                    httpserver: HTTPServer):
    """The archive's own feeds carry titles and links only: its README sends readers who
    want the text to the reading site's feed, when the site's address is known."""
    runs = Runs(tmp_path, httpserver)
    runs.publish(1)
    runs.run([], T0, extra={"site": {"url": "https://news.example.org/"}})
    readme = git("show", "main:README.md", cwd=runs.primary)
    assert ("这些订阅只含标题和链接。含全文的订阅在阅读网站上："
            "[全部文章（全文）](https://news.example.org/feeds/all.xml)") in readme
    # Feeds that carry the text themselves need no pointer; nor does a site of no known address.
    runs.publish(2)
    runs.run([], T0 + HOUR_MS, extra={"site": {"url": "https://news.example.org/"}},
             feed_content=True)
    assert "含全文的订阅" not in git("show", "main:README.md", cwd=runs.primary)
    runs.publish(3)
    runs.run([], T0 + 2 * HOUR_MS)
    assert "含全文的订阅" not in git("show", "main:README.md", cwd=runs.primary)


def test_a_shallow_clone_after_another_push_updates_the_catalog_without_a_rebuild(
        tmp_path: Path, httpserver: HTTPServer):
    runs = Runs(tmp_path, httpserver, depth=1)
    runs.publish(3)
    runs.run([], T0)
    runs.publish(1)
    runs.run([], T0 + HOUR_MS)
    # Another job (a request, the operator) pushes an article between two hourly runs: the
    # next shallow checkout lacks the commit the cached catalog last saw.
    other = tmp_path / "other"
    git("clone", "-q", str(runs.primary), str(other), cwd=tmp_path)
    extra = other / "articles" / "voa" / "2025" / "11" / "外来-0123456789ab.md"
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_bytes(b"<!--1764000000000-->\n[\xe5\xa4\x96\xe6\x9d\xa5](https://news.test/x)\n"
                      b"------\n\n<p>x</p>\n")
    git("add", "-A", cwd=other)
    git("-c", "user.name=o", "-c", "user.email=o@x", "commit", "-qm", "x", cwd=other)
    git("push", "-q", "origin", "main", cwd=other)
    runs.publish(1)
    report = runs.run([], T0 + 2 * HOUR_MS)
    assert not any("rebuilt the catalog" in note for note in report.notes), report.notes
    assert git("rev-parse", "--is-shallow-repository", cwd=runs.archive) == "true"
    # The other job's article was taken in: its source's list names it.
    assert "外来" in (runs.archive / "lists" / "voa.md").read_text(encoding="utf-8")


def test_a_token_in_a_secret_address_is_never_shown(tmp_path: Path, httpserver: HTTPServer,
                                                     monkeypatch: pytest.MonkeyPatch):
    # A closed port on loopback: the push fails at once, and git names the address.
    monkeypatch.setenv("NEWSMIRROR_MIRROR_GITLAB", "https://oauth2:s3cr3t-t0ken@127.0.0.1:9/me/n.git")
    runs = Runs(tmp_path, httpserver)
    runs.publish(1)
    report = runs.run([{"name": "gl", "url_env": "NEWSMIRROR_MIRROR_GITLAB", "retry_delay": 0}], T0)
    [outcome] = report.mirrors
    assert outcome.ok is False and "127.0.0.1" in outcome.message
    assert "s3cr3t-t0ken" not in outcome.message and "oauth2" not in outcome.message
    state = (runs.archive / CACHED_MIRRORS_FILE).read_text(encoding="utf-8")
    assert "s3cr3t-t0ken" not in state


def test_the_primary_is_listed_from_the_archives_own_remote(tmp_path: Path, httpserver: HTTPServer):
    # As on GitHub Actions: no archive.remote, the checkout's origin is the primary.
    data = {"archive": {"mirrors": [{"name": "codeberg", "url": "git@codeberg.org:me/news.git"}]},
            "sources": [{"slug": "voa", "name": "VOA", "url": "https://voa.test/feed"}]}
    config = parse_config(data, file="newsmirror.toml", base=tmp_path)
    assert [c.name for c in reader_copies(config)] == ["codeberg"]
    copies = reader_copies(config, "https://github.com/me/news")
    assert [(c.name, c.web) for c in copies] == [("origin", "https://github.com/me/news"),
                                                 ("codeberg", "https://codeberg.org/me/news")]
    # And the README of an archive whose origin is on GitHub names it.
    runs = Runs(tmp_path, httpserver)
    runs.publish(1)
    runs.run([], T0)
    git("remote", "set-url", "origin", "https://github.com/me/news.git", cwd=runs.archive)
    config = replace(parse_config(runs.config([], runs.archive), file="t.toml", base=tmp_path),
                     remote=None)
    with open_store(runs.archive) as store:
        write_lists(config, store)
    assert "- [origin](https://github.com/me/news)" in (runs.archive / "README.md").read_text()


def test_a_mirror_whose_commits_changed_an_article_is_never_overwritten(tmp_path: Path,
                                                                        httpserver: HTTPServer):
    """The lost runner rewrote an article the primary has (a watch found it changed): the
    path is in our tree, but with the old text. Replacing the mirror's branch would lose
    the new text, so the push fails naming the file."""
    runs = Runs(tmp_path, httpserver)
    one = bare_remote(tmp_path / "one.git")
    mirrors = [{"name": "one", "url": str(one), "retry_delay": 0, "attempts": 1}]
    runs.publish(1)
    runs.run(mirrors, T0)
    # What the lost runner pushed to the mirror alone: the article, rewritten.
    lost = tmp_path / "lost"
    git("clone", "-q", str(one), str(lost), cwd=tmp_path)
    article = git("ls-files", "articles", cwd=lost).splitlines()[0]
    with open(lost / article, "a", encoding="utf-8") as file:
        file.write("\nA correction the source made later.\n")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "rewritten", cwd=lost)
    git("push", "-q", "origin", "HEAD:main", cwd=lost)
    kept = head(one)
    runs.publish(1)
    back = runs.run(mirrors, T0 + HOUR_MS)
    assert back.push.ok and back.new == 1
    said = next(o for o in back.mirrors if o.name == "one")
    assert said.ok is False and "it holds 1 file(s) the primary lacks" in said.message, said
    assert article in said.message
    assert head(one) == kept
