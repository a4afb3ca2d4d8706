"""`newsmirror site --publish`: the built site goes out as the branch `site`, one commit
without a parent, force-pushed to the primary remote and every mirror. Bare remotes on
disk, the real git binary and the real CLI; one mirror read-only, one removed."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

from pytest_httpserver import HTTPServer

from newsmirror.config import parse_config
from newsmirror.jobs.mirror import run_mirror
from newsmirror.publish.site import MANIFEST
from tests.helpers import bare_remote, git
from tests.jobs.feeds import Item, serve_news
from tests.publish.test_mirrors import make_writable, read_only

T0 = 1_764_000_000_000


class Archive:
    """An archive mirrored by the real pipeline, its primary and mirrors bare remotes."""

    def __init__(self, tmp: Path, server: HTTPServer, mirrors: list[str]):
        self.tmp, self.server = tmp, server
        self.primary = bare_remote(tmp / "primary.git")
        self.mirrors = {name: tmp / f"{name}.git" for name in mirrors}
        self.items: list[Item] = []
        self.file = tmp / "newsmirror.toml"
        self.write_config()

    def write_config(self, primary: Path | None = None) -> None:
        lines = ["[archive]", 'path = "archive"', f"remote = {json.dumps(str(primary or self.primary))}"]
        for name, path in self.mirrors.items():
            lines += ["[[archive.mirrors]]", f'name = "{name}"', f"url = {json.dumps(str(path))}",
                      "retry_delay = 0"]
        lines += ["[fetch]", "timeout = 5", "connect_timeout = 2",
                  "[[sources]]", 'slug = "voa"', 'name = "美国之音"',
                  f"url = {json.dumps(self.server.url_for('/feed.xml'))}"]
        self.file.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def mirror(self, n: int) -> None:
        """Publish `n` more items and run the pipeline (which pushes main everywhere)."""
        serve_news(self.server, self.items, n, start_ms=T0)
        config = parse_config(__import__("tomllib").loads(self.file.read_text()),
                              file=str(self.file), base=self.tmp)
        asyncio.run(run_mirror(config))

    def publish(self, *flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "newsmirror", "site", "--publish", *flags,
                               "-c", str(self.file)], cwd=self.tmp, capture_output=True,
                              text=True, timeout=300)


def site_commits(remote: Path) -> list[str]:
    done = subprocess.run(["git", "rev-list", "refs/heads/site"], cwd=remote, capture_output=True,
                          text=True, check=False)
    return done.stdout.split() if done.returncode == 0 else []


def tree_files(remote: Path) -> set[str]:
    return set(git("ls-tree", "-r", "--name-only", "-z", "site", cwd=remote).split("\0")) - {""}


def received(remote: Path) -> int:
    """Objects in the remote's packs (a pushed object it had already counts again)."""
    counts = dict(line.split(": ") for line in git("count-objects", "-v", cwd=remote).splitlines())
    return int(counts["in-pack"])


def site_files(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()} - {MANIFEST}


def test_the_site_goes_to_every_host_as_one_commit_replaced_each_time(tmp_path: Path,
                                                                      httpserver: HTTPServer):
    archive = Archive(tmp_path, httpserver, ["codeberg", "frozen", "gone"])
    for name, path in archive.mirrors.items():
        read_only(path) if name == "frozen" else bare_remote(path)
    archive.mirror(3)
    shutil.rmtree(archive.mirrors["gone"])  # removed after the run that pushed main to it

    done = archive.publish()
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    for remote in (archive.primary, archive.mirrors["codeberg"]):
        commits = site_commits(remote)
        assert len(commits) == 1  # no parent: the branch is this one commit
        assert git("rev-list", "--parents", "-n1", "site", cwd=remote) == commits[0]
        assert tree_files(remote) == site_files(site)
        for path in ("index.html", "sources/voa/index.html", ".nojekyll"):
            shown = subprocess.run(["git", "show", f"site:{path}"], cwd=remote,
                                   capture_output=True, check=True).stdout
            assert shown == (site / path).read_bytes()
    assert any(p.startswith("articles/voa/") for p in tree_files(archive.primary))
    # The branch is not part of main's history, and main is as the run left it.
    assert subprocess.run(["git", "merge-base", "--is-ancestor", site_commits(archive.primary)[0],
                           "main"], cwd=archive.primary).returncode == 1
    assert len(git("rev-list", "main", cwd=archive.primary).split()) == \
        len(git("rev-list", "main", cwd=tmp_path / "archive").split())
    # Each failed mirror is a warning naming it; the others have the site all the same.
    assert "warning: mirror frozen (" in done.stderr and "warning: mirror gone (" in done.stderr
    assert site_commits(archive.mirrors["frozen"]) == []
    assert "published the site" in done.stdout

    # A new article, a new publication: the branch is replaced, still one commit.
    first = site_commits(archive.primary)[0]
    archive.mirror(1)
    # Published from a shallow clone of the primary, as the workflow does.
    shutil.move(tmp_path / "archive", tmp_path / "full")
    git("clone", "-q", "--depth", "1", archive.primary.as_uri(), str(tmp_path / "archive"),
        cwd=tmp_path)
    make_writable(archive.mirrors["frozen"])
    bare_remote(archive.mirrors["gone"])
    codeberg = archive.mirrors["codeberg"]
    git("config", "transfer.unpackLimit", "1", cwd=codeberg)  # keep each push's pack
    packed = received(codeberg)
    again = archive.publish()
    assert again.returncode == 0, again.stderr
    for remote in (archive.primary, *archive.mirrors.values()):
        commits = site_commits(remote)
        assert len(commits) == 1 and commits[0] != first, remote
        assert tree_files(remote) == site_files(site)
    # A host that had the last site is sent what changed, not the whole site again (from
    # a full clone git would send it all: bench/site_publish.py).
    def objects(rev: str) -> set[str]:
        return {line.split()[0] for line in git("rev-list", "--objects", rev, cwd=codeberg).splitlines()}

    lacked = len(objects("site") - objects(first))
    assert lacked <= received(codeberg) - packed < len(objects("site")), \
        (received(codeberg) - packed, lacked, len(objects("site")))
    assert len([p for p in tree_files(archive.primary) if p.startswith("articles/voa/")]) == 4
    assert "warning" not in again.stderr
    # Nothing changed since: the same commit again, which every host already has.
    published = {remote: site_commits(remote) for remote in (archive.primary, *archive.mirrors.values())}
    same = archive.publish()
    assert same.returncode == 0, same.stderr
    assert {remote: site_commits(remote) for remote in published} == published


def test_the_primary_failing_exits_3_after_the_mirrors_have_the_site(tmp_path: Path,
                                                                     httpserver: HTTPServer):
    archive = Archive(tmp_path, httpserver, ["codeberg"])
    bare_remote(archive.mirrors["codeberg"])
    archive.mirror(2)
    archive.write_config(primary=tmp_path / "no-such-primary.git")
    subprocess.run(["git", "remote", "remove", "origin"], cwd=tmp_path / "archive", check=True)
    done = archive.publish()
    assert done.returncode == 3, done.stderr
    assert "error: the site was not published to the primary remote origin" in done.stderr
    assert "no-such-primary.git" in done.stderr
    assert len(site_commits(archive.mirrors["codeberg"])) == 1


def test_if_changed_publishes_what_the_primary_lacks_and_nothing_else(tmp_path: Path,
                                                                      httpserver: HTTPServer):
    archive = Archive(tmp_path, httpserver, [])
    archive.mirror(2)
    site = tmp_path / "site"

    def publish() -> str:
        shutil.rmtree(site, ignore_errors=True)  # the workflow builds into a new folder
        done = archive.publish("--if-changed")
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "published the site" in publish()  # never published from here
    first = site_commits(archive.primary)
    # Nothing changed: nothing built, nothing pushed.
    said = publish()
    assert "is built from the archive as it is: nothing to do" in said and not site.exists()
    assert site_commits(archive.primary) == first

    # The archive changed outside a mirror run (a page archived on request, the
    # operator's commit) with no news since: the next call publishes it.
    (tmp_path / "archive" / "NOTE.md").write_text("operator's note\n", encoding="utf-8")
    git("add", "NOTE.md", cwd=tmp_path / "archive")
    git("-c", "user.name=op", "-c", "user.email=op@x", "commit", "-qm", "note",
        cwd=tmp_path / "archive")
    assert "published the site" in publish()
    second = site_commits(archive.primary)
    assert second != first and "nothing to do" in publish()

    # The primary lost its branch (or another publisher replaced it): published again.
    git("update-ref", "-d", "refs/heads/site", cwd=archive.primary)
    assert "published the site" in publish() and site_commits(archive.primary) == second

    # The configuration changed (a mirror added, a title): published again.
    archive.file.write_text(archive.file.read_text(encoding="utf-8").replace(
        "[archive]", '[archive]\ntitle = "另一个标题"'), encoding="utf-8")
    assert "published the site" in publish()
    assert "另一个标题" in git("show", "site:index.html", cwd=archive.primary)

    # A publication the primary refused is not remembered: the next call tries again.
    read_only(archive.primary)
    (tmp_path / "archive" / "NOTE.md").write_text("second note\n", encoding="utf-8")
    git("-c", "user.name=op", "-c", "user.email=op@x", "commit", "-qam", "note 2",
        cwd=tmp_path / "archive")
    shutil.rmtree(site, ignore_errors=True)
    refused = archive.publish("--if-changed")
    assert refused.returncode == 3, refused.stderr
    make_writable(archive.primary)
    assert "published the site" in publish()
    assert "nothing to do" in publish()


def test_a_new_runner_builds_on_the_site_it_published(tmp_path: Path, httpserver: HTTPServer):
    """The workflow builds into a new folder every hour: --publish puts back the site the
    primary serves, with the state it was built from (kept in the local cache), so that
    the hour writes what changed since and publishes the site a full build would."""
    archive = Archive(tmp_path, httpserver, [])
    archive.mirror(3)
    site = tmp_path / "site"
    first = archive.publish()
    assert first.returncode == 0, first.stderr
    assert "restored" not in first.stdout + first.stderr
    full_count = int(first.stdout.split(" files written")[0].rsplit(" ", 1)[1])

    archive.mirror(1)
    shutil.rmtree(site)  # a new runner
    second = archive.publish()
    assert second.returncode == 0, second.stderr
    assert "restored the published site" in second.stdout + second.stderr
    written = int(second.stdout.split(" files written")[0].rsplit(" ", 1)[1])
    assert 0 < written < full_count
    full = tmp_path / "full"
    built = subprocess.run([sys.executable, "-m", "newsmirror", "site", "-c", str(archive.file),
                            "-o", str(full)], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    assert site_files(site) == site_files(full)
    assert all((site / p).read_bytes() == (full / p).read_bytes() for p in site_files(full))
    assert tree_files(archive.primary) == site_files(full)

    # The primary serves another site than the one published from here: a full build.
    published = site_commits(archive.primary)[0]
    other = git("commit-tree", f"{published}^{{tree}}", "-m", "another publisher", cwd=archive.primary)
    git("update-ref", "refs/heads/site", other, cwd=archive.primary)
    shutil.rmtree(site)
    third = archive.publish()
    assert third.returncode == 0, third.stderr
    assert "restored" not in third.stdout + third.stderr
    assert site_files(site) == site_files(full)


def test_if_changed_goes_with_publish(tmp_path: Path, httpserver: HTTPServer):
    archive = Archive(tmp_path, httpserver, [])
    archive.mirror(1)
    done = subprocess.run([sys.executable, "-m", "newsmirror", "site", "--if-changed",
                           "-c", str(archive.file)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 2 and "--if-changed goes with --publish" in done.stderr


def test_publishing_without_any_remote_exits_2_naming_the_keys(tmp_path: Path,
                                                               httpserver: HTTPServer):
    archive = Archive(tmp_path, httpserver, [])
    archive.mirror(1)
    text = archive.file.read_text().replace(f"remote = {json.dumps(str(archive.primary))}\n", "")
    archive.file.write_text(text)
    subprocess.run(["git", "remote", "remove", "origin"], cwd=tmp_path / "archive", check=True)
    done = archive.publish()
    assert done.returncode == 2, done.stderr
    assert "no git remote named 'origin'" in done.stderr and "[archive] remote" in done.stderr
